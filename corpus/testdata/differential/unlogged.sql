-- A table becomes UNLOGGED.
-- a
CREATE TABLE t (a int);
-- b
CREATE UNLOGGED TABLE t (a int);
