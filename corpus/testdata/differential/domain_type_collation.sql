-- A domain, a composite type, a collation and extended statistics are created, or dropped; a column uses the domain and the collation.
-- prefix
-- a
CREATE TABLE t (id int, a int, b text);
-- b
CREATE DOMAIN posint AS int DEFAULT 1 NOT NULL CONSTRAINT posint_positive CHECK (VALUE > 0);
CREATE TYPE pair AS (x int, y text);
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE t (id int, a posint, b text COLLATE ci, p pair);
CREATE STATISTICS t_ab (dependencies, ndistinct) ON id, a FROM t;
COMMENT ON DOMAIN posint IS 'positive';
