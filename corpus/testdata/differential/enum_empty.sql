-- An enum with no values.
-- refused: The engine skips an enum with no values; the catalog shows it: a difference keel cannot plan.
-- refused reverse: As A to B: the empty enum in A is not seen by the engine, so not dropped.
-- prefix
CREATE TABLE t (a int);
-- a
-- b
CREATE TYPE e AS ENUM ();
