-- Views: one created with options and a comment; one whose columns change, with a view on it (both dropped and created again, in order); one whose query changes and gains a column at the end (CREATE OR REPLACE VIEW, the view on it stays).
-- prefix
CREATE TABLE t (id int PRIMARY KEY, a int, b text);
CREATE TABLE tc (id int PRIMARY KEY, a int, b text);
CREATE TABLE tr (id int PRIMARY KEY, a int, b text);
-- a
CREATE VIEW vc1 AS SELECT id, a FROM tc;
CREATE VIEW vc2 AS SELECT id FROM vc1 WHERE a > 1;
CREATE VIEW vr AS SELECT id, a FROM tr;
CREATE VIEW wr AS SELECT id FROM vr;
-- b
CREATE VIEW v WITH (security_barrier = true) AS SELECT id, a FROM t WHERE a > 0 WITH LOCAL CHECK OPTION;
COMMENT ON VIEW v IS 'positive rows';
CREATE VIEW vc1 AS SELECT id, b, a FROM tc;
CREATE VIEW vc2 AS SELECT id FROM vc1 WHERE a > 1;
CREATE VIEW vr AS SELECT id, a, b FROM tr WHERE a > 0;
CREATE VIEW wr AS SELECT id FROM vr;
