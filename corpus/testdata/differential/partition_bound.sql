-- A partition's bound changes.
-- prefix
CREATE TABLE ev (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
-- a
CREATE TABLE ev_p PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
-- b
CREATE TABLE ev_p PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2026-03-01');
