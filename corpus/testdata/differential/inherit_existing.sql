-- An existing table starts to inherit from another.
-- prefix
CREATE TABLE p (a int);
CREATE TABLE c (a int, b int);
-- a
-- b
ALTER TABLE c INHERIT p;
