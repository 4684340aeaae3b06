-- Objects that change: a trigger's timing and events, a composite type's fields, a collation's locale, a statistics object's kinds and target, a materialized view's index.
-- prefix
CREATE TABLE t (id int PRIMARY KEY, a int, b int);
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
-- a
CREATE TRIGGER t_noop BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION noop();
CREATE TYPE pair AS (x int, y text);
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE STATISTICS t_ab (dependencies) ON a, b FROM t;
CREATE MATERIALIZED VIEW m AS SELECT a, count(*) AS n FROM t GROUP BY a;
CREATE INDEX m_a ON m (a);
-- b
CREATE TRIGGER t_noop AFTER INSERT OR UPDATE OF a ON t FOR EACH ROW WHEN (NEW.a > 0) EXECUTE FUNCTION noop();
CREATE TYPE pair AS (x bigint, y text, z boolean);
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level1', deterministic = false);
CREATE STATISTICS t_ab (ndistinct, mcv) ON a, b FROM t;
ALTER STATISTICS t_ab SET STATISTICS 500;
CREATE MATERIALIZED VIEW m AS SELECT a, count(*) AS n FROM t GROUP BY a;
CREATE UNIQUE INDEX m_a ON m (a);
