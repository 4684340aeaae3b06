-- Table, column and constraint settings and comments. Each in a schema of its own: A column's COMPRESSION (schema column_compression); A column's statistics target (schema column_statistics); A column's STORAGE (schema column_storage); A table's storage parameters (fillfactor, autovacuum) (schema table_storage_parameters); A table becomes UNLOGGED (schema unlogged); A table's REPLICA IDENTITY (schema replica_identity); New tables with what the engine does not model: deferrable keys, MATCH FULL, a check without columns, a NOT VALID check, storage parameters, an unlogged table, column storage and compression, comments on constraints (schema new_table_settings); Comments on a table and a column (schema comments); A comment on a constraint (schema constraint_comment); A column's default (schema column_default).
-- prefix
CREATE SCHEMA column_compression;
SET search_path = column_compression;
CREATE TABLE t (a text);
CREATE SCHEMA column_statistics;
SET search_path = column_statistics;
CREATE TABLE t (a text);
CREATE SCHEMA column_storage;
SET search_path = column_storage;
CREATE TABLE t (a text);
CREATE SCHEMA table_storage_parameters;
SET search_path = table_storage_parameters;
CREATE SCHEMA unlogged;
SET search_path = unlogged;
CREATE SCHEMA replica_identity;
SET search_path = replica_identity;
CREATE TABLE t (a int);
CREATE SCHEMA new_table_settings;
SET search_path = new_table_settings;
CREATE SCHEMA comments;
SET search_path = comments;
CREATE TABLE t (a int);
CREATE SCHEMA constraint_comment;
SET search_path = constraint_comment;
CREATE TABLE t (a int CONSTRAINT c CHECK (a > 0));
CREATE SCHEMA column_default;
SET search_path = column_default;
-- a
SET search_path = column_compression;
SET search_path = column_statistics;
SET search_path = column_storage;
SET search_path = table_storage_parameters;
CREATE TABLE t (a int);
SET search_path = unlogged;
CREATE TABLE t (a int);
SET search_path = replica_identity;
SET search_path = new_table_settings;
SET search_path = comments;
SET search_path = constraint_comment;
SET search_path = column_default;
CREATE TABLE t (a int DEFAULT 1);
-- b
SET search_path = column_compression;
ALTER TABLE t ALTER COLUMN a SET COMPRESSION pglz;
SET search_path = column_statistics;
ALTER TABLE t ALTER COLUMN a SET STATISTICS 500;
SET search_path = column_storage;
ALTER TABLE t ALTER COLUMN a SET STORAGE EXTERNAL;
SET search_path = table_storage_parameters;
CREATE TABLE t (a int) WITH (fillfactor = 70, autovacuum_enabled = false);
SET search_path = unlogged;
CREATE UNLOGGED TABLE t (a int);
SET search_path = replica_identity;
ALTER TABLE t REPLICA IDENTITY FULL;
SET search_path = new_table_settings;
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (
  id int, p int,
  CONSTRAINT c_pk PRIMARY KEY (id) DEFERRABLE,
  CONSTRAINT c_p_fk FOREIGN KEY (p) REFERENCES p (id) MATCH FULL DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT c_true CHECK (true)
) WITH (fillfactor = 80);
ALTER TABLE c ADD CONSTRAINT c_nv CHECK (p > 0) NOT VALID;
CREATE INDEX c_p_idx ON c (p) WITH (fillfactor = 50);
CREATE UNLOGGED TABLE u (a text COMPRESSION lz4, b int GENERATED ALWAYS AS IDENTITY (MAXVALUE 1000 CACHE 5));
COMMENT ON CONSTRAINT c_true ON c IS 'always';
ALTER TABLE u ALTER COLUMN a SET STATISTICS 300, ALTER COLUMN a SET STORAGE EXTERNAL;
SET search_path = comments;
COMMENT ON TABLE t IS 'things';
COMMENT ON COLUMN t.a IS 'a thing';
SET search_path = constraint_comment;
COMMENT ON CONSTRAINT c ON t IS 'positive';
SET search_path = column_default;
CREATE TABLE t (a int DEFAULT 2);
