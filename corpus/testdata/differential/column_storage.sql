-- A column's STORAGE.
-- prefix
CREATE TABLE t (a text);
-- a
-- b
ALTER TABLE t ALTER COLUMN a SET STORAGE EXTERNAL;
