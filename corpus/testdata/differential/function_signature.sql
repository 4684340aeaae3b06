-- A function's result type and argument names change (dropped and created), and an overload is added; a view uses it.
-- prefix
CREATE TABLE t (id int PRIMARY KEY, a int);
-- a
CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x + 1';
CREATE VIEW v AS SELECT id, f(a) AS fa FROM t;
-- b
CREATE FUNCTION f(y int) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT y + 2';
CREATE FUNCTION f(y text) RETURNS text LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT y || 'x'; END;
CREATE VIEW v AS SELECT id, f(a) AS fa FROM t;
CREATE PROCEDURE p(n int) LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE '%', n; END$$;
