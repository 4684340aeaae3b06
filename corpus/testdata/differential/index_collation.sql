-- An index column's collation.
-- refused: An index column's collation is not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a text);
-- a
CREATE INDEX i ON t (a);
-- b
CREATE INDEX i ON t (a COLLATE "C");
