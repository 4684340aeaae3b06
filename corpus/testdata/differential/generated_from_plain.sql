-- A plain column becomes a generated one.
-- refused: The engine refuses to turn a plain column into a generated one (drop and add required).
-- a
CREATE TABLE t (a int, b int);
-- b
CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) STORED);
