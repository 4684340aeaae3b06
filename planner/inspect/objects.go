package inspect

import (
	"keel/planner/state"
)

// The objects beside tables that keel manages (views, functions, triggers,
// sequences, domains, types, collations, statistics, policies,
// privileges), each described by the statement that creates it as
// PostgreSQL prints it, and their dependencies on each other and on
// tables and columns. Objects that belong to an extension are left out.
func init() {
	catalogQueries = append(catalogQueries, objectQueries...)
}

// commentOf is the comment suffix of a description (see
// state.CommentMarker), or nothing, of obj_description(oid, catalog).
func commentOf(oid, catalog string) string {
	return `coalesce(E'\n` + state.CommentMarker + `' || quote_literal(obj_description(` + oid + `, '` + catalog + `')), '')`
}

// notExtension leaves out what belongs to an extension.
func notExtension(catalog, oid string) string {
	return `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '` + catalog + `'::regclass AND e.objid = ` + oid + ` AND e.deptype = 'e')`
}

const qualifiedClass = `quote_ident(n.nspname) || '.' || quote_ident(c.relname)`

var objectQueries = []string{
	// Views and materialized views: the statement that creates them,
	// with their options (check_option, security_barrier,
	// security_invoker).
	`SELECT CASE c.relkind WHEN 'v' THEN '` + state.CatalogView + `' ELSE '` + state.CatalogMaterializedView + `' END, n.nspname, '', c.relname,
  CASE c.relkind WHEN 'v' THEN 'CREATE VIEW ' ELSE 'CREATE MATERIALIZED VIEW ' END || ` + qualifiedClass + `
    || coalesce(' WITH (' || array_to_string(c.reloptions, ', ') || ')', '')
    || E' AS\n' || rtrim(pg_get_viewdef(c.oid), ';')
    || CASE WHEN c.relkind = 'v' THEN E'\n` + state.ColumnsMarker + `' || (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
         FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) ELSE '' END
    || ` + commentOf("c.oid", "pg_class") + `
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('v', 'm') AND ` + notExtension("pg_class", "c.oid"),
	// Indexes of materialized views.
	`SELECT '` + state.CatalogViewIndex + `', n.nspname, c.relname, i.relname, pg_get_indexdef(x.indexrelid) || ` + commentOf("i.oid", "pg_class") + `
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind = 'm' AND ` + notExtension("pg_class", "c.oid"),
	// Functions and procedures (not aggregates): by their identity
	// arguments, as pg_get_functiondef prints them.
	`SELECT CASE p.prokind WHEN 'p' THEN '` + state.CatalogProcedure + `' ELSE '` + state.CatalogFunction + `' END, n.nspname, '',
  p.proname || '(' || oidvectortypes(p.proargtypes) || ')',
  rtrim(pg_get_functiondef(p.oid), E'\n') || ` + commentOf("p.oid", "pg_proc") + `
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY($1) AND p.prokind IN ('f', 'p', 'w') AND ` + notExtension("pg_proc", "p.oid") + `
  -- Not the constructors of range types: they go with their type.
  AND NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = 'pg_proc'::regclass AND i.objid = p.oid AND i.deptype = 'i')`,
	// Triggers (not the internal ones of foreign keys), and whether they
	// fire.
	`SELECT '` + state.CatalogTrigger + `', n.nspname, c.relname, t.tgname,
  pg_get_triggerdef(t.oid)
    || CASE t.tgenabled WHEN 'D' THEN E'\n` + state.TriggerMarker + `DISABLE' WHEN 'R' THEN E'\n` + state.TriggerMarker + `ENABLE REPLICA' WHEN 'A' THEN E'\n` + state.TriggerMarker + `ENABLE ALWAYS' ELSE '' END
    || ` + commentOf("t.oid", "pg_trigger") + `
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND NOT t.tgisinternal AND ` + notExtension("pg_class", "c.oid"),
	// Policies.
	`SELECT '` + state.CatalogPolicy + `', n.nspname, c.relname, pol.polname,
  'CREATE POLICY ' || quote_ident(pol.polname) || ' ON ' || ` + qualifiedClass + `
    || ' AS ' || CASE WHEN pol.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END
    || ' FOR ' || CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END
    || ' TO ' || (SELECT string_agg(CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE quote_ident(ro.rolname) END, ', ' ORDER BY CASE WHEN r.oid = 0 THEN '' ELSE ro.rolname END)
                  FROM unnest(pol.polroles) r(oid) LEFT JOIN pg_roles ro ON ro.oid = r.oid)
    || coalesce(' USING (' || pg_get_expr(pol.polqual, pol.polrelid) || ')', '')
    || coalesce(' WITH CHECK (' || pg_get_expr(pol.polwithcheck, pol.polrelid) || ')', '')
    || ` + commentOf("pol.oid", "pg_policy") + `
FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND ` + notExtension("pg_class", "c.oid"),
	// Sequences, but for identity columns'. Those of serial columns
	// (named TABLE_COLUMN_seq, the column's default) are marked: the
	// engine makes and drops them with their column. The column that owns
	// a sequence is in the column's description.
	`SELECT '` + state.CatalogSequence + `', n.nspname, '', c.relname,
  'CREATE SEQUENCE ' || ` + qualifiedClass + ` || ' AS ' || format_type(s.seqtypid, NULL)
    || ' INCREMENT BY ' || s.seqincrement || ' MINVALUE ' || s.seqmin || ' MAXVALUE ' || s.seqmax
    || ' START WITH ' || s.seqstart || ' CACHE ' || s.seqcache || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END
    || CASE WHEN EXISTS (SELECT 1 FROM pg_class tc JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum > 0
      JOIN pg_attrdef ad ON ad.adrelid = tc.oid AND ad.adnum = a.attnum
    WHERE tc.relnamespace = c.relnamespace AND c.relname = tc.relname || '_' || a.attname || '_seq'
      AND pg_get_expr(ad.adbin, ad.adrelid) = 'nextval(' || quote_literal(` + qualifiedClass + `) || '::regclass)') THEN E'\n` + state.SerialMarker + `' ELSE '' END
    || ` + commentOf("c.oid", "pg_class") + `
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
WHERE n.nspname = ANY($1) AND c.relkind = 'S' AND ` + notExtension("pg_class", "c.oid") + `
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')`,
	// Domains: base type and collation, then a line for each of the
	// default, NOT NULL and each check (see diff's domain changes).
	`SELECT '` + state.CatalogDomain + `', n.nspname, '', t.typname,
  'CREATE DOMAIN ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || ' AS ' || format_type(t.typbasetype, t.typtypmod)
    || CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation THEN ' COLLATE ' || (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) ELSE '' END
    || coalesce(E'\n DEFAULT ' || pg_get_expr(t.typdefaultbin, 0), '')
    || CASE WHEN t.typnotnull THEN E'\n NOT NULL' ELSE '' END
    || coalesce((SELECT string_agg(E'\n CONSTRAINT ' || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid), '' ORDER BY k.conname) FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'), '')
    || ` + commentOf("t.oid", "pg_type") + `
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_type bt ON bt.oid = t.typbasetype
WHERE n.nspname = ANY($1) AND t.typtype = 'd' AND ` + notExtension("pg_type", "t.oid"),
	// Composite types (not the row types of tables).
	`SELECT '` + state.CatalogType + `', n.nspname, '', t.typname,
  'CREATE TYPE ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || ' AS ('
    || coalesce((SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation THEN ' COLLATE ' || (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) ELSE '' END,
         ', ' ORDER BY a.attnum) FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')'
    || ` + commentOf("t.oid", "pg_type") + `
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid
WHERE n.nspname = ANY($1) AND t.typtype = 'c' AND c.relkind = 'c' AND ` + notExtension("pg_type", "t.oid"),
	// Collations.
	`SELECT '` + state.CatalogCollation + `', n.nspname, '', co.collname,
  'CREATE COLLATION ' || quote_ident(n.nspname) || '.' || quote_ident(co.collname) || ' ('
    || CASE co.collprovider WHEN 'i' THEN 'provider = icu, locale = ' || quote_literal(co.colliculocale)
         ELSE 'provider = libc, lc_collate = ' || quote_literal(co.collcollate) || ', lc_ctype = ' || quote_literal(co.collctype) END
    || CASE WHEN NOT co.collisdeterministic THEN ', deterministic = false' ELSE '' END || ')'
    || ` + commentOf("co.oid", "pg_collation") + `
FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
WHERE n.nspname = ANY($1) AND ` + notExtension("pg_collation", "co.oid"),
	// Extended statistics.
	`SELECT '` + state.CatalogStatistics + `', n.nspname, '', s.stxname,
  pg_get_statisticsobjdef(s.oid)
    || CASE WHEN s.stxstattarget >= 0 THEN E'\n` + state.StatisticsMarker + `' || s.stxstattarget ELSE '' END
    || ` + commentOf("s.oid", "pg_statistic_ext") + `
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE n.nspname = ANY($1) AND ` + notExtension("pg_statistic_ext", "s.oid"),
	// Privileges that differ from the object's defaults (acldefault), by
	// grantee, the owner's own and those of the role keel runs as left out: on schemas, tables, views,
	// materialized views, sequences, functions and procedures.
	`WITH obj AS (
  SELECT n.nspname AS schema, 'schema' AS what, n.nspacl AS acl, acldefault('n', n.nspowner) AS def, n.nspowner AS owner
  FROM pg_namespace n WHERE n.nspname = ANY($1)
  UNION ALL
  SELECT n.nspname, CASE c.relkind WHEN 'S' THEN 'sequence ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' ELSE 'table ' END || c.relname,
    c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner), c.relowner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relacl IS NOT NULL AND ` + notExtension("pg_class", "c.oid") + `
  UNION ALL
  SELECT n.nspname, CASE p.prokind WHEN 'p' THEN 'procedure ' ELSE 'function ' END || p.proname || '(' || oidvectortypes(p.proargtypes) || ')',
    p.proacl, acldefault('f', p.proowner), p.proowner
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = ANY($1) AND p.prokind IN ('f', 'p', 'w') AND p.proacl IS NOT NULL AND ` + notExtension("pg_proc", "p.oid") + `
), me AS (
  -- The role keel runs as: its own privileges are not keel's to change.
  SELECT oid FROM pg_roles WHERE rolname = current_user
), granted AS (
  SELECT o.schema, o.what, x.grantee, 'has' AS side, x.privilege_type, x.is_grantable
  FROM obj o CROSS JOIN me CROSS JOIN LATERAL aclexplode(coalesce(o.acl, o.def)) x WHERE x.grantee <> o.owner AND x.grantee <> me.oid
  UNION ALL
  SELECT o.schema, o.what, x.grantee, 'default', x.privilege_type, x.is_grantable
  FROM obj o CROSS JOIN me CROSS JOIN LATERAL aclexplode(o.def) x WHERE x.grantee <> o.owner AND x.grantee <> me.oid
), by_grantee AS (
  SELECT schema, what, grantee,
    coalesce(string_agg(privilege_type || CASE WHEN is_grantable THEN ' WITH GRANT OPTION' ELSE '' END, ', ' ORDER BY privilege_type) FILTER (WHERE side = 'has'), 'none') AS has,
    coalesce(string_agg(privilege_type || CASE WHEN is_grantable THEN ' WITH GRANT OPTION' ELSE '' END, ', ' ORDER BY privilege_type) FILTER (WHERE side = 'default'), 'none') AS def
  FROM granted GROUP BY schema, what, grantee
)
SELECT '` + state.CatalogPrivilege + `', schema, what, CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE (SELECT rolname FROM pg_roles WHERE oid = grantee) END,
  has || ' (default: ' || def || ')'
FROM by_grantee WHERE has <> def`,
}

// The dependencies between the objects of the catalog: for each object
// keel manages beside tables (and each column default), the objects it
// depends on (pg_depend), as catalog keys. A view depends on the tables,
// columns, views and functions its query uses; a trigger on its table and
// function; a default on the sequence or function it calls.
func init() {
	catalogQueries = append(catalogQueries, dependsQuery)
}

// dependsQuery reads the dependencies between the objects of the catalog.
const dependsQuery = `WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = ANY($1)),
obj(classid, objid, subid, kind, schema, tbl, name) AS (
  SELECT 'pg_class'::regclass, c.oid, 0, CASE c.relkind WHEN 'v' THEN '` + state.CatalogView + `' WHEN 'm' THEN '` + state.CatalogMaterializedView + `' WHEN 'S' THEN '` + state.CatalogSequence + `' ELSE 'table' END, ns.nspname, '', c.relname::text
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
  UNION ALL
  SELECT 'pg_class'::regclass, c.oid, a.attnum, CASE c.relkind WHEN 'v' THEN '` + state.CatalogView + `' WHEN 'm' THEN '` + state.CatalogMaterializedView + `' ELSE 'column' END, ns.nspname,
    CASE WHEN c.relkind IN ('v', 'm') THEN '' ELSE c.relname::text END, CASE WHEN c.relkind IN ('v', 'm') THEN c.relname::text ELSE a.attname::text END
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  WHERE c.relkind IN ('r', 'p', 'v', 'm')
  UNION ALL
  SELECT 'pg_rewrite'::regclass, r.oid, 0, CASE c.relkind WHEN 'v' THEN '` + state.CatalogView + `' ELSE '` + state.CatalogMaterializedView + `' END, ns.nspname, '', c.relname::text
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
  UNION ALL
  SELECT 'pg_proc'::regclass, p.oid, 0, CASE p.prokind WHEN 'p' THEN '` + state.CatalogProcedure + `' ELSE '` + state.CatalogFunction + `' END, ns.nspname, '',
    p.proname || '(' || oidvectortypes(p.proargtypes) || ')'
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace WHERE p.prokind IN ('f', 'p', 'w')
  UNION ALL
  SELECT 'pg_trigger'::regclass, t.oid, 0, '` + state.CatalogTrigger + `', ns.nspname, c.relname::text, t.tgname::text
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace WHERE NOT t.tgisinternal
  UNION ALL
  SELECT 'pg_policy'::regclass, pol.oid, 0, '` + state.CatalogPolicy + `', ns.nspname, c.relname::text, pol.polname::text
  FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN ns ON ns.oid = c.relnamespace
  UNION ALL
  SELECT 'pg_type'::regclass, t.oid, 0, CASE t.typtype WHEN 'd' THEN '` + state.CatalogDomain + `' WHEN 'e' THEN 'enum' ELSE '` + state.CatalogType + `' END, ns.nspname, '', t.typname::text
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
  WHERE t.typtype IN ('d', 'e') OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
  UNION ALL
  SELECT 'pg_attrdef'::regclass, ad.oid, 0, 'column', ns.nspname, c.relname::text, a.attname::text
  FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid JOIN ns ON ns.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
  UNION ALL
  SELECT 'pg_collation'::regclass, co.oid, 0, '` + state.CatalogCollation + `', ns.nspname, '', co.collname::text
  FROM pg_collation co JOIN ns ON ns.oid = co.collnamespace
  UNION ALL
  SELECT 'pg_statistic_ext'::regclass, s.oid, 0, '` + state.CatalogStatistics + `', ns.nspname, '', s.stxname::text
  FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
)
SELECT DISTINCT '` + state.CatalogDepends + `', d.schema, d.kind || E'\x1f' || d.tbl || E'\x1f' || d.name, r.kind || E'\x1f' || r.schema || E'\x1f' || r.tbl || E'\x1f' || r.name, 'yes'
FROM pg_depend dep
JOIN obj d ON d.classid = dep.classid AND d.objid = dep.objid AND d.subid = dep.objsubid
JOIN obj r ON r.classid = dep.refclassid AND r.objid = dep.refobjid AND r.subid = dep.refobjsubid
WHERE dep.deptype IN ('n', 'a') AND d.kind <> 'enum'
  -- Of tables, only that a typed table uses its type.
  AND (d.kind <> 'table' OR r.kind = '` + state.CatalogType + `')
  -- OWNED BY: the sequence goes with the column, and is made before it.
  AND NOT (dep.deptype = 'a' AND d.kind = '` + state.CatalogSequence + `')
  AND (d.kind, d.schema, d.tbl, d.name) IS DISTINCT FROM (r.kind, r.schema, r.tbl, r.name)`
