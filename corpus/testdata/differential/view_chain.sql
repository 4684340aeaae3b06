-- A view that another view uses changes its columns: both are dropped and created again, in order.
-- prefix
CREATE TABLE t (id int PRIMARY KEY, a int, b text);
-- a
CREATE VIEW v1 AS SELECT id, a FROM t;
CREATE VIEW v2 AS SELECT id FROM v1 WHERE a > 1;
-- b
CREATE VIEW v1 AS SELECT id, b, a FROM t;
CREATE VIEW v2 AS SELECT id FROM v1 WHERE a > 1;
