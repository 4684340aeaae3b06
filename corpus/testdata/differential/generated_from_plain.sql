-- A plain column becomes a generated one.
-- a
CREATE TABLE t (a int, b int);
-- b
CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) STORED);
