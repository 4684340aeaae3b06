-- A partition that is partitioned itself, with a leaf, an index and a check of its own.
-- prefix
CREATE TABLE ev (id bigint NOT NULL, at date NOT NULL, kind text NOT NULL) PARTITION BY RANGE (at);
-- a
-- b
CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY LIST (kind);
CREATE TABLE ev_2026_click PARTITION OF ev_2026 FOR VALUES IN ('click');
CREATE INDEX ev_2026_click_id ON ev_2026_click (id);
ALTER TABLE ev_2026_click ADD CONSTRAINT ev_2026_click_id_check CHECK (id > 0);
