-- A CHECK constraint is renamed.
-- prefix
CREATE TABLE t (a int);
-- a
ALTER TABLE t ADD CONSTRAINT c1 CHECK (a > 0);
-- b
ALTER TABLE t ADD CONSTRAINT c2 CHECK (a > 0);
