-- text becomes text[].
-- refused: text has no implicit cast to text[]: PostgreSQL refuses the ALTER COLUMN ... TYPE (42804) and the plan is rolled back; keel has no USING expression yet.
-- a
CREATE TABLE t (a text);
-- b
CREATE TABLE t (a text[]);
