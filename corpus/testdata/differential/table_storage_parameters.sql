-- A table's storage parameters (fillfactor, autovacuum).
-- refused: Table storage parameters (fillfactor, autovacuum) are not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- a
CREATE TABLE t (a int);
-- b
CREATE TABLE t (a int) WITH (fillfactor = 70, autovacuum_enabled = false);
