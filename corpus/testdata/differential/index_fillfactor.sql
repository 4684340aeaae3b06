-- An index's storage parameter.
-- prefix
CREATE TABLE t (a int);
-- a
CREATE INDEX i ON t (a);
-- b
CREATE INDEX i ON t (a) WITH (fillfactor = 50);
