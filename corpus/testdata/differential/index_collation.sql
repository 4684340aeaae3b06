-- An index column's collation.
-- prefix
CREATE TABLE t (a text);
-- a
CREATE INDEX i ON t (a);
-- b
CREATE INDEX i ON t (a COLLATE "C");
