-- A CHECK constraint's expression changes.
-- prefix
CREATE TABLE t (a int);
-- a
ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);
-- b
ALTER TABLE t ADD CONSTRAINT c CHECK (a > 1);
