-- An index's storage parameter.
-- refused: Index storage parameters are not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a int);
-- a
CREATE INDEX i ON t (a);
-- b
CREATE INDEX i ON t (a) WITH (fillfactor = 50);
