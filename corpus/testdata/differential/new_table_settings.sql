-- New tables with what the engine does not model: deferrable keys, MATCH FULL, a check without columns, a NOT VALID check, storage parameters, an unlogged table, column storage and compression, comments on constraints.
-- a
-- b
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
