-- A function's body, volatility and settings change; a column default and a view use it, and stay.
-- prefix
CREATE TABLE t (id int PRIMARY KEY, a int);
-- a
CREATE FUNCTION pick() RETURNS int LANGUAGE sql AS 'SELECT 1';
ALTER TABLE t ALTER COLUMN a SET DEFAULT pick();
CREATE VIEW v AS SELECT id, pick() AS p FROM t;
-- b
CREATE FUNCTION pick() RETURNS int LANGUAGE sql STABLE SET search_path = public AS 'SELECT 2';
ALTER TABLE t ALTER COLUMN a SET DEFAULT pick();
CREATE VIEW v AS SELECT id, pick() AS p FROM t;
COMMENT ON FUNCTION pick() IS 'the pick';
