-- A typed table (OF type).
-- refused: Typed tables (OF type) are not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TYPE ct AS (a int);
-- a
CREATE TABLE t (a int);
-- b
CREATE TABLE t OF ct;
