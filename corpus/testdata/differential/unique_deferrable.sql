-- A unique constraint becomes DEFERRABLE.
-- prefix
CREATE TABLE t (a int);
-- a
ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);
-- b
ALTER TABLE t ADD CONSTRAINT u UNIQUE (a) DEFERRABLE;
