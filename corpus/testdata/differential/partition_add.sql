-- Partitions of a range-partitioned table are added, with a default partition.
-- prefix
CREATE TABLE ev (id bigint NOT NULL, at date NOT NULL, note text) PARTITION BY RANGE (at);
-- a
CREATE TABLE ev_2026_01 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
-- b
CREATE TABLE ev_2026_01 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE ev_2026_02 PARTITION OF ev FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE ev_default PARTITION OF ev DEFAULT;
