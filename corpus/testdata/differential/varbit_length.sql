-- A bit varying column gets shorter.
-- a
CREATE TABLE t (a bit varying(10));
-- b
CREATE TABLE t (a bit varying(5));
