-- A column's default.
-- a
CREATE TABLE t (a int DEFAULT 1);
-- b
CREATE TABLE t (a int DEFAULT 2);
