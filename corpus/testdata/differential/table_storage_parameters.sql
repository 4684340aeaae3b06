-- A table's storage parameters (fillfactor, autovacuum).
-- a
CREATE TABLE t (a int);
-- b
CREATE TABLE t (a int) WITH (fillfactor = 70, autovacuum_enabled = false);
