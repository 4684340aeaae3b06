-- Functions: one whose body, volatility and settings change while a default and a view use it (CREATE OR REPLACE); one whose result and argument names change (dropped and created, with the view on it), an overload with a BEGIN ATOMIC body and a procedure.
-- prefix
CREATE TABLE t (id int PRIMARY KEY, a int);
CREATE TABLE ts (id int PRIMARY KEY, a int);
-- a
CREATE FUNCTION pick() RETURNS int LANGUAGE sql AS 'SELECT 1';
ALTER TABLE t ALTER COLUMN a SET DEFAULT pick();
CREATE VIEW v AS SELECT id, pick() AS p FROM t;
CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x + 1';
CREATE VIEW vs AS SELECT id, f(a) AS fa FROM ts;
-- b
CREATE FUNCTION pick() RETURNS int LANGUAGE sql STABLE SET search_path = public AS 'SELECT 2';
ALTER TABLE t ALTER COLUMN a SET DEFAULT pick();
CREATE VIEW v AS SELECT id, pick() AS p FROM t;
COMMENT ON FUNCTION pick() IS 'the pick';
CREATE FUNCTION f(y int) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT y + 2';
CREATE FUNCTION f(y text) RETURNS text LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT y || 'x'; END;
CREATE VIEW vs AS SELECT id, f(a) AS fa FROM ts;
CREATE PROCEDURE p(n int) LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE '%', n; END$$;
