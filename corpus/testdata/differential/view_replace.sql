-- A view's query changes and it gains a column at the end: CREATE OR REPLACE VIEW, and the view that uses it stays.
-- prefix
CREATE TABLE t (id int PRIMARY KEY, a int, b text);
-- a
CREATE VIEW v AS SELECT id, a FROM t;
CREATE VIEW w AS SELECT id FROM v;
-- b
CREATE VIEW v AS SELECT id, a, b FROM t WHERE a > 0;
CREATE VIEW w AS SELECT id FROM v;
