-- A comment on a partition, new and existing.
-- prefix
CREATE TABLE ev (at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE ev_1 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
-- a
-- b
COMMENT ON TABLE ev_1 IS 'January';
CREATE TABLE ev_2 PARTITION OF ev FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
COMMENT ON TABLE ev_2 IS 'February''s';
