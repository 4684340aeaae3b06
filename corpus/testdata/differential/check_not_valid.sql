-- A CHECK constraint becomes NOT VALID.
-- refused: NOT VALID is not modelled by the engine; the catalog shows it: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a int);
-- a
ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);
-- b
ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;
