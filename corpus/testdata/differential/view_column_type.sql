-- A column's type changes under a view: the view is dropped before and created after.
-- prefix
-- a
CREATE TABLE t (id int PRIMARY KEY, a int);
CREATE VIEW v AS SELECT id, a FROM t;
-- b
CREATE TABLE t (id int PRIMARY KEY, a bigint);
CREATE VIEW v AS SELECT id, a FROM t;
