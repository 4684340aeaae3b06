-- A view with a comment and options is created, or dropped.
-- prefix
CREATE TABLE t (id int PRIMARY KEY, a int, b text);
-- a
-- b
CREATE VIEW v WITH (security_barrier = true) AS SELECT id, a FROM t WHERE a > 0 WITH LOCAL CHECK OPTION;
COMMENT ON VIEW v IS 'positive rows';
