-- A unique constraint against a unique index on the same column.
-- refused: A unique constraint and a unique index on the same column look the same to the engine; the catalog shows the constraint: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a int);
-- a
ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);
-- b
CREATE UNIQUE INDEX u ON t (a);
