-- An enum with no values.
-- prefix
CREATE TABLE t (a int);
-- a
-- b
CREATE TYPE e AS ENUM ();
