-- A CHECK constraint that references no column.
-- prefix
CREATE TABLE t (a int);
-- a
-- b
ALTER TABLE t ADD CONSTRAINT c CHECK (1 < 2);
