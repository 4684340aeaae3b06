-- A table's REPLICA IDENTITY.
-- prefix
CREATE TABLE t (a int);
-- a
-- b
ALTER TABLE t REPLICA IDENTITY FULL;
