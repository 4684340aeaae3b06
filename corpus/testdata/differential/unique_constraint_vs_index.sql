-- A unique constraint against a unique index on the same column.
-- prefix
CREATE TABLE t (a int);
-- a
ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);
-- b
CREATE UNIQUE INDEX u ON t (a);
