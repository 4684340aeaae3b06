-- A column's STORAGE.
-- refused: Column STORAGE is not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a text);
-- a
-- b
ALTER TABLE t ALTER COLUMN a SET STORAGE EXTERNAL;
