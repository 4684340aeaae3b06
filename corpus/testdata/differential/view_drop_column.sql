-- A column a view used is dropped, and the view no longer uses it.
-- prefix
-- a
CREATE TABLE t (id int PRIMARY KEY, a int, b int);
CREATE VIEW v AS SELECT id, a, b FROM t;
-- b
CREATE TABLE t (id int PRIMARY KEY, a int);
CREATE VIEW v AS SELECT id, a FROM t;
