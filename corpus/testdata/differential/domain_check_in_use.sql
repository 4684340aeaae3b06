-- A domain that a column uses changes its check.
-- prefix
-- a
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TABLE t (a posint);
-- b
CREATE DOMAIN posint AS int CHECK (VALUE >= 0);
CREATE TABLE t (a posint);
