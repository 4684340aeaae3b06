-- A table's REPLICA IDENTITY.
-- refused: REPLICA IDENTITY is not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a int);
-- a
-- b
ALTER TABLE t REPLICA IDENTITY FULL;
