-- A column's statistics target.
-- refused: Column statistics targets are not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a text);
-- a
-- b
ALTER TABLE t ALTER COLUMN a SET STATISTICS 500;
