-- Privileges for a read-only role on a schema, a table, a view, a sequence and a function; EXECUTE revoked from PUBLIC.
-- prefix
DO $$BEGIN CREATE ROLE keel_diff_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$;
CREATE TABLE t (id int PRIMARY KEY, a int);
CREATE VIEW v AS SELECT id FROM t;
CREATE SEQUENCE s;
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';
-- a
GRANT SELECT, INSERT ON t TO keel_diff_reader;
-- b
GRANT USAGE ON SCHEMA public TO keel_diff_reader;
GRANT SELECT ON t TO keel_diff_reader WITH GRANT OPTION;
GRANT SELECT ON v TO keel_diff_reader;
GRANT USAGE ON SEQUENCE s TO keel_diff_reader;
REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION f() TO keel_diff_reader;
