-- numeric gets a precision and scale.
-- a
CREATE TABLE t (a numeric);
-- b
CREATE TABLE t (a numeric(10, 2));
