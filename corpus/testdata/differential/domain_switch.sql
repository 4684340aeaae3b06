-- A column switches from one domain to another.
-- refused: The engine sees no change in a column switched between two domains over the same type (it produces no statement); the catalog shows the column's type differs, and keel does not plan a column's type from the catalog: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE DOMAIN d1 AS int;
CREATE DOMAIN d2 AS int;
-- a
CREATE TABLE t (a d1);
-- b
CREATE TABLE t (a d2);
