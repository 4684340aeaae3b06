-- Index parameters. Each in a schema of its own: An index column's collation (schema index_collation); An index's storage parameter (schema index_fillfactor); A BRIN index with autosummarize on (schema brin_autosummarize).
-- prefix
CREATE SCHEMA index_collation;
SET search_path = index_collation;
CREATE TABLE t (a text);
CREATE SCHEMA index_fillfactor;
SET search_path = index_fillfactor;
CREATE TABLE t (a int);
CREATE SCHEMA brin_autosummarize;
SET search_path = brin_autosummarize;
CREATE TABLE t (a int);
-- a
SET search_path = index_collation;
CREATE INDEX i ON t (a);
SET search_path = index_fillfactor;
CREATE INDEX i ON t (a);
SET search_path = brin_autosummarize;
CREATE INDEX i ON t USING brin (a);
-- b
SET search_path = index_collation;
CREATE INDEX i ON t (a COLLATE "C");
SET search_path = index_fillfactor;
CREATE INDEX i ON t (a) WITH (fillfactor = 50);
SET search_path = brin_autosummarize;
CREATE INDEX i ON t USING brin (a) WITH (autosummarize = on);
