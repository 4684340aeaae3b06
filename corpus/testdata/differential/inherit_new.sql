-- A new table inherits from an existing one, with a column and a check of its own.
-- prefix
CREATE TABLE p (a int NOT NULL, CONSTRAINT p_a_check CHECK (a > 0));
-- a
-- b
CREATE TABLE c (b text, CONSTRAINT c_b_check CHECK (b <> '')) INHERITS (p);
