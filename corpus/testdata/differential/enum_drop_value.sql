-- An enum loses a value.
-- a
CREATE TYPE e AS ENUM ('x', 'y', 'z');
-- b
CREATE TYPE e AS ENUM ('x', 'y');
