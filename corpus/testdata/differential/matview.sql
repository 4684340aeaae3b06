-- A materialized view with an index and a comment, and its query changed.
-- prefix
CREATE TABLE t (id int PRIMARY KEY, a int);
-- a
CREATE MATERIALIZED VIEW m AS SELECT a, count(*) AS n FROM t GROUP BY a;
CREATE UNIQUE INDEX m_a ON m (a);
-- b
CREATE MATERIALIZED VIEW m AS SELECT a, count(*) AS n, max(id) AS last FROM t GROUP BY a;
CREATE UNIQUE INDEX m_a ON m (a);
CREATE INDEX m_last ON m (last);
COMMENT ON MATERIALIZED VIEW m IS 'per a';
