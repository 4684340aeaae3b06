-- A column's COMPRESSION.
-- refused: Column COMPRESSION is not modelled by the engine and cannot be written in schema.hcl yet: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a text);
-- a
-- b
ALTER TABLE t ALTER COLUMN a SET COMPRESSION pglz;
