-- A CHECK constraint that references no column.
-- refused: The open-source engine does not inspect a CHECK that references no column; the catalog shows it: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a int);
-- a
-- b
ALTER TABLE t ADD CONSTRAINT c CHECK (1 < 2);
