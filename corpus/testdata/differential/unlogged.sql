-- A table becomes UNLOGGED.
-- refused: UNLOGGED is not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- a
CREATE TABLE t (a int);
-- b
CREATE UNLOGGED TABLE t (a int);
