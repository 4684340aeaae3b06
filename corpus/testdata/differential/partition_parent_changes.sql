-- The partitioned table gets a column, an index and a primary key; its partitions follow.
-- prefix
CREATE TABLE ev (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE ev_1 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
-- a
-- b
ALTER TABLE ev ADD COLUMN note text;
CREATE INDEX ev_at ON ev (at);
ALTER TABLE ev ADD PRIMARY KEY (id, at);
