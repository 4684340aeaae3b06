-- A column's COMPRESSION.
-- prefix
CREATE TABLE t (a text);
-- a
-- b
ALTER TABLE t ALTER COLUMN a SET COMPRESSION pglz;
