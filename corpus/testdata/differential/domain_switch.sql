-- A column switches from one domain to another.
-- refused: Domains are not managed: the engine sees no change in a column switched between two domains over the same type (it produces no statement); the catalog shows the column's type differs: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE DOMAIN d1 AS int;
CREATE DOMAIN d2 AS int;
-- a
CREATE TABLE t (a d1);
-- b
CREATE TABLE t (a d2);
