-- An enum loses a value and its values change order: it is created again, with the column's default and a view that uses it.
-- prefix
-- a
CREATE TYPE st AS ENUM ('new', 'paid', 'void');
CREATE TABLE o (id int PRIMARY KEY, s st NOT NULL DEFAULT 'new');
CREATE VIEW paid AS SELECT id FROM o WHERE s = 'paid';
-- b
CREATE TYPE st AS ENUM ('paid', 'new');
CREATE TABLE o (id int PRIMARY KEY, s st NOT NULL DEFAULT 'new');
CREATE VIEW paid AS SELECT id FROM o WHERE s = 'paid';
