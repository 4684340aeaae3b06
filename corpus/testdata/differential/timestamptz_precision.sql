-- timestamptz gets a precision.
-- a
CREATE TABLE t (a timestamptz);
-- b
CREATE TABLE t (a timestamptz(0));
