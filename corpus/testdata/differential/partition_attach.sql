-- A plain table becomes a partition.
-- prefix
CREATE TABLE ev (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
-- a
CREATE TABLE ev_old (id bigint NOT NULL, at date NOT NULL);
-- b
CREATE TABLE ev_old PARTITION OF ev FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
