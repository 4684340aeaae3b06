-- text becomes text[].
-- refused: text has no implicit cast to text[]: PostgreSQL refuses the ALTER COLUMN ... TYPE (42804) and the plan is rolled back; a SQL desired state cannot state the conversion (in HCL, the column's `using` attribute does).
-- a
CREATE TABLE t (a text);
-- b
CREATE TABLE t (a text[]);
