-- A domain that a column uses changes its check.
-- refused: The domain would be dropped and created again, and a column that stays uses it: listed as a difference keel cannot plan, with why (ALTER DOMAIN is not planned yet).
-- refused reverse: As A to B.
-- prefix
-- a
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TABLE t (a posint);
-- b
CREATE DOMAIN posint AS int CHECK (VALUE >= 0);
CREATE TABLE t (a posint);
