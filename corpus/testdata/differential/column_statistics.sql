-- A column's statistics target.
-- prefix
CREATE TABLE t (a text);
-- a
-- b
ALTER TABLE t ALTER COLUMN a SET STATISTICS 500;
