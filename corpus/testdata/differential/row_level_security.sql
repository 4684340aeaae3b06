-- ROW LEVEL SECURITY is enabled.
-- prefix
CREATE TABLE t (a int);
-- a
-- b
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
