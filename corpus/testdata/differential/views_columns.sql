-- Views over columns that change: a column type changes under a view (dropped before, created after); a column a view used is dropped and the view no longer uses it.
-- prefix
-- a
CREATE TABLE t (id int PRIMARY KEY, a int);
CREATE VIEW v AS SELECT id, a FROM t;
CREATE TABLE td (id int PRIMARY KEY, a int, b int);
CREATE VIEW vd AS SELECT id, a, b FROM td;
-- b
CREATE TABLE t (id int PRIMARY KEY, a bigint);
CREATE VIEW v AS SELECT id, a FROM t;
CREATE TABLE td (id int PRIMARY KEY, a int);
CREATE VIEW vd AS SELECT id, a FROM td;
