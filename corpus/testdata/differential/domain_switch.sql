-- A column switches from one domain to another.
-- prefix
CREATE DOMAIN d1 AS int;
CREATE DOMAIN d2 AS int;
-- a
CREATE TABLE t (a d1);
-- b
CREATE TABLE t (a d2);
