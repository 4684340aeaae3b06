-- A parent loses a column that its child keeps as its own: ALTER TABLE ONLY ... DROP COLUMN, the child's values kept.
-- refused reverse: The parent gains a column its child already has: PostgreSQL merges them into a column both inherited and local, which a child created with INHERITS does not have, and no statement changes that; rolled back.
-- a
CREATE TABLE p (id int, e int);
CREATE TABLE c (x int) INHERITS (p);
INSERT INTO c VALUES (1, 42, 7);
-- b
CREATE TABLE p (id int);
CREATE TABLE c (x int) INHERITS (p);
ALTER TABLE c ADD COLUMN e int;
