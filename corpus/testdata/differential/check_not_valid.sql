-- A CHECK constraint becomes NOT VALID.
-- prefix
CREATE TABLE t (a int);
-- a
ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);
-- b
ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;
