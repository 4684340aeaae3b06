-- An enum loses a value.
-- refused: PostgreSQL cannot drop an enum value in place and the engine plans nothing; the catalog shows the enum's labels differ: a difference keel cannot plan.
-- a
CREATE TYPE e AS ENUM ('x', 'y', 'z');
-- b
CREATE TYPE e AS ENUM ('x', 'y');
