-- A BRIN index with autosummarize on.
-- prefix
CREATE TABLE t (a int);
-- a
CREATE INDEX i ON t USING brin (a);
-- b
CREATE INDEX i ON t USING brin (a) WITH (autosummarize = on);
