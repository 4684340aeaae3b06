-- Comments on a table and a column.
-- prefix
CREATE TABLE t (a int);
-- a
-- b
COMMENT ON TABLE t IS 'things';
COMMENT ON COLUMN t.a IS 'a thing';
