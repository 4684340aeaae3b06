-- CHECK constraints. Each in a schema of its own: A CHECK constraint's expression changes (schema check_expr); A CHECK constraint that references no column (schema check_no_column); A CHECK constraint becomes NOT VALID (schema check_not_valid); A CHECK constraint is renamed (schema check_rename).
-- prefix
CREATE SCHEMA check_expr;
SET search_path = check_expr;
CREATE TABLE t (a int);
CREATE SCHEMA check_no_column;
SET search_path = check_no_column;
CREATE TABLE t (a int);
CREATE SCHEMA check_not_valid;
SET search_path = check_not_valid;
CREATE TABLE t (a int);
CREATE SCHEMA check_rename;
SET search_path = check_rename;
CREATE TABLE t (a int);
-- a
SET search_path = check_expr;
ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);
SET search_path = check_no_column;
SET search_path = check_not_valid;
ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);
SET search_path = check_rename;
ALTER TABLE t ADD CONSTRAINT c1 CHECK (a > 0);
-- b
SET search_path = check_expr;
ALTER TABLE t ADD CONSTRAINT c CHECK (a > 1);
SET search_path = check_no_column;
ALTER TABLE t ADD CONSTRAINT c CHECK (1 < 2);
SET search_path = check_not_valid;
ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;
SET search_path = check_rename;
ALTER TABLE t ADD CONSTRAINT c2 CHECK (a > 0);
