package inspect

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"keel/internal/pgsql"
	"keel/planner/pg"
	"keel/planner/state"

	"github.com/jackc/pgx/v5"
)

// catalogQueries read a Catalog: each returns rows of (kind, schema, table,
// name, description) for the schemas $1, the description never empty. They
// run with search_path set to pg_catalog alone, so that every name outside
// it is printed qualified, the same way whatever the connection's path.
// They are tableQueries, then the objects' (objects.go).
var catalogQueries = slices.Clone(tableQueries)

// tableQueries are the catalog queries of tables and what belongs to them,
// and of enums. Each of tables selects them as c, with tablesMarker once,
// which ReadCatalogOver narrows to some tables.
var tableQueries = []string{
	// Tables: kind, row level security, the type of a typed table, the
	// partition key, the comment. Their persistence, storage parameters,
	// replica identity, the table they are a partition of and the tables
	// they inherit from are objects of their own (below).
	`SELECT 'table', n.nspname, '', c.relname,
  concat_ws(' ',
    CASE c.relkind WHEN 'p' THEN 'partitioned table' ELSE 'table' END,
    CASE WHEN c.relrowsecurity THEN 'row level security' END,
    CASE WHEN c.relforcerowsecurity THEN 'force row level security' END,
    'of ' || CASE WHEN c.reloftype <> 0 THEN format_type(c.reloftype, NULL) END,
    'partition by ' || pg_get_partkeydef(c.oid),
    'comment ' || quote_literal(ds.description))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
-- The comment joined: obj_description, a SQL function called for each
-- table, took 7-19 ms at 1,000 tables, the join 2-5 ms.
LEFT JOIN pg_description ds ON ds.classoid = 'pg_class'::regclass AND ds.objoid = c.oid AND ds.objsubid = 0
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`,
	// Columns: type, null, default, identity with its start and increment,
	// generation, collation, whether it is inherited, the sequences it
	// owns, comment. Storage, compression, statistics target and the other
	// identity options are objects of their own (below).
	`SELECT 'column', n.nspname, c.relname, a.attname,
  concat_ws(' ',
    format_type(a.atttypid, a.atttypmod),
    CASE WHEN a.attnotnull THEN 'not null' END,
    CASE WHEN a.attgenerated = '' THEN 'default ' || pg_get_expr(ad.adbin, ad.adrelid) END,
    CASE WHEN a.attgenerated = 's' THEN 'generated always as (' || pg_get_expr(ad.adbin, ad.adrelid) || ') stored' END,
    CASE a.attidentity WHEN 'a' THEN 'identity always' WHEN 'd' THEN 'identity by default' END,
    CASE WHEN s.seqrelid IS NOT NULL THEN format('(start %s increment %s)', s.seqstart, s.seqincrement) END,
    CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 THEN 'collate ' || (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
    CASE WHEN a.attinhcount > 0 AND a.attislocal THEN 'inherited and local' WHEN a.attinhcount > 0 THEN 'inherited' END,
    -- A sequence the column owns (serial, OWNED BY): dropped with it.
    'owns sequence ' || os.seqs,
    'comment ' || quote_literal(ds.description))
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
-- An identity column's sequence depends on it internally.
LEFT JOIN pg_depend sd ON a.attidentity <> '' AND sd.refclassid = 'pg_class'::regclass AND sd.refobjid = c.oid
  AND sd.refobjsubid = a.attnum AND sd.classid = 'pg_class'::regclass AND sd.deptype = 'i'
LEFT JOIN pg_sequence s ON s.seqrelid = sd.objid
-- The sequences each column owns, read once for all columns (a subquery
-- per column took a third of the query).
LEFT JOIN (SELECT od.refobjid, od.refobjsubid, string_agg(quote_ident(sn.nspname) || '.' || quote_ident(sq.relname), ', ' ORDER BY sq.relname) AS seqs
  FROM pg_depend od JOIN pg_class sq ON sq.oid = od.objid JOIN pg_namespace sn ON sn.oid = sq.relnamespace
  WHERE od.classid = 'pg_class'::regclass AND od.refclassid = 'pg_class'::regclass AND od.deptype = 'a' AND sq.relkind = 'S'
  GROUP BY od.refobjid, od.refobjsubid) os ON os.refobjid = c.oid AND os.refobjsubid = a.attnum
LEFT JOIN pg_description ds ON ds.classoid = 'pg_class'::regclass AND ds.objoid = c.oid AND ds.objsubid = a.attnum
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`,
	// Constraints of tables, as PostgreSQL prints them (NOT VALID,
	// DEFERRABLE, MATCH FULL and ON DELETE SET NULL (...) included): what
	// ALTER TABLE ... ADD CONSTRAINT takes.
	`SELECT 'constraint', n.nspname, c.relname, k.conname,
  concat_ws(' ', pg_get_constraintdef(k.oid), CASE WHEN k.coninhcount > 0 AND k.conislocal THEN 'inherited and local' WHEN k.coninhcount > 0 THEN 'inherited' END)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND k.contype IN ('c', 'f', 'p', 'u', 'x')
  -- Not the copies of a foreign key to a partitioned table, one per
  -- partition, that PostgreSQL keeps under the key's name.
  AND NOT EXISTS (SELECT 1 FROM pg_constraint pk WHERE pk.oid = k.conparentid AND pk.conrelid = k.conrelid)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`,
	// Indexes of tables, as PostgreSQL prints them (method, keys, operator
	// classes, collations, INCLUDE, WITH (...), WHERE), with their comments.
	`SELECT 'index', n.nspname, c.relname, i.relname,
  concat_ws(' ', CASE WHEN x.indisprimary THEN 'primary key:' END, pg_get_indexdef(x.indexrelid), CASE WHEN NOT x.indisvalid THEN 'invalid' END,
    -- An index of a partition made by its parent's index.
    CASE WHEN EXISTS (SELECT 1 FROM pg_inherits ih WHERE ih.inhrelid = i.oid) THEN 'attached' END,
    'comment ' || quote_literal(ds.description))
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = i.relnamespace
LEFT JOIN pg_description ds ON ds.classoid = 'pg_class'::regclass AND ds.objoid = i.oid AND ds.objsubid = 0
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`,
	// Enums: their labels in order, and comments.
	`SELECT 'enum', n.nspname, '', t.typname,
  concat_ws(' ', '(' || coalesce((SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '') || ')',
    'comment ' || quote_literal(obj_description(t.oid, 'pg_type')))
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = ANY($1) AND t.typtype = 'e'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')`,
	// Partitions: the parent and the bound ("public.t FOR VALUES FROM
	// (1) TO (10)", "public.t DEFAULT").
	`SELECT 'partition', n.nspname, c.relname, '', quote_ident(pn.nspname) || '.' || quote_ident(p.relname) || ' ' || pg_get_expr(c.relpartbound, c.oid)
` + ofTables + ` AND c.relispartition
JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace`,
	// Tables that inherit from others (INHERITS): the parents in order.
	`SELECT 'inherits', n.nspname, c.relname, '', string_agg(quote_ident(pn.nspname) || '.' || quote_ident(p.relname), ', ' ORDER BY i.inhseqno)
` + ofTables + ` AND NOT c.relispartition
JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
GROUP BY n.nspname, c.relname`,
	// Unlogged tables.
	`SELECT 'table persistence', n.nspname, c.relname, '', 'unlogged' ` + ofTables + ` AND c.relpersistence = 'u'`,
	// Storage parameters of tables and of their TOAST tables, by name.
	`SELECT 'storage parameter', n.nspname, c.relname, o.prefix || split_part(o.option, '=', 1), substr(o.option, strpos(o.option, '=') + 1)
` + ofTables + `
CROSS JOIN LATERAL (SELECT '' AS prefix, unnest(c.reloptions) AS option
  UNION ALL SELECT 'toast.', unnest(tc.reloptions) FROM pg_class tc WHERE tc.oid = c.reltoastrelid) o`,
	// Replica identities other than the default.
	`SELECT 'replica identity', n.nspname, c.relname, '',
  CASE c.relreplident WHEN 'n' THEN 'nothing' WHEN 'f' THEN 'full'
    ELSE 'index ' || (SELECT ri.relname FROM pg_index rx JOIN pg_class ri ON ri.oid = rx.indexrelid WHERE rx.indrelid = c.oid AND rx.indisreplident) END
` + ofTables + ` AND c.relreplident IN ('n', 'f', 'i')`,
	// Column storage other than the type's, with the type's (what a reset
	// sets); compression methods; statistics targets.
	`SELECT 'column storage', n.nspname, c.relname, a.attname, format('%s (the type''s: %s)', ` + storageName("a.attstorage") + `, ` + storageName("t.typstorage") + `)
` + ofTables + ` JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attstorage <> t.typstorage`,
	`SELECT 'column compression', n.nspname, c.relname, a.attname, CASE a.attcompression WHEN 'p' THEN 'pglz' ELSE 'lz4' END
` + ofTables + ` JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE a.attcompression IN ('p', 'l')`,
	`SELECT 'column statistics', n.nspname, c.relname, a.attname, a.attstattarget::text
` + ofTables + ` JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE a.attstattarget >= 0`,
	// The options of identity columns' sequences that are not the
	// default for the sequence's type and direction.
	`SELECT 'identity options', n.nspname, c.relname, a.attname, concat_ws(' ',
    CASE WHEN s.seqmin <> CASE WHEN s.seqincrement > 0 THEN 1 ELSE ` + typeBound("min") + ` END THEN 'minvalue ' || s.seqmin END,
    CASE WHEN s.seqmax <> CASE WHEN s.seqincrement > 0 THEN ` + typeBound("max") + ` ELSE -1 END THEN 'maxvalue ' || s.seqmax END,
    CASE WHEN s.seqcache <> 1 THEN 'cache ' || s.seqcache END,
    CASE WHEN s.seqcycle THEN 'cycle' END) AS options
` + ofTables + ` JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''
JOIN pg_depend sd ON sd.refclassid = 'pg_class'::regclass AND sd.refobjid = c.oid AND sd.refobjsubid = a.attnum AND sd.classid = 'pg_class'::regclass AND sd.deptype = 'i'
JOIN pg_sequence s ON s.seqrelid = sd.objid
WHERE s.seqmin <> CASE WHEN s.seqincrement > 0 THEN 1 ELSE ` + typeBound("min") + ` END
   OR s.seqmax <> CASE WHEN s.seqincrement > 0 THEN ` + typeBound("max") + ` ELSE -1 END
   OR s.seqcache <> 1 OR s.seqcycle`,
	// Comments on constraints.
	`SELECT 'constraint comment', n.nspname, c.relname, k.conname, ds.description
` + ofTables + ` JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype IN ('c', 'f', 'p', 'u', 'x')
JOIN pg_description ds ON ds.classoid = 'pg_constraint'::regclass AND ds.objoid = k.oid AND ds.objsubid = 0`,
}

// ofTables selects the tables (plain and partitioned) of the schemas $1 as
// c, with their schema n, leaving out those of extensions; a query goes on
// with AND or JOIN.
const ofTables = `FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = ANY($1) AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`

// storageName spells a storage code (pg_attribute.attstorage) as ALTER
// COLUMN ... SET STORAGE takes it.
func storageName(code string) string {
	return "CASE " + code + " WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external' WHEN 'm' THEN 'main' ELSE 'extended' END"
}

// typeBound is the least ("min") or greatest ("max") value of the identity
// sequence s's type.
func typeBound(which string) string {
	if which == "min" {
		return "CASE s.seqtypid WHEN 'int2'::regtype THEN -32768 WHEN 'int4'::regtype THEN -2147483648 ELSE -9223372036854775808 END"
	}
	return "CASE s.seqtypid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647 ELSE 9223372036854775807 END"
}

// Catalog reads the Catalog of the schemas on the live database.
func (l *Live) Catalog(ctx context.Context, schemas []string) (state.Catalog, error) {
	return ReadCatalog(ctx, l.db, schemas)
}

// ReadCatalog reads the Catalog of the schemas on c. Inside a transaction
// it sees the transaction's changes; the connection's search_path is as it
// was when it returns.
func ReadCatalog(ctx context.Context, c *pg.Conn, schemas []string) (cat state.Catalog, err error) {
	err = withCatalogPath(ctx, c, "reading the catalog of", func() (err error) {
		cat, err = readCatalog(ctx, c, schemas)
		return err
	})
	return cat, err
}

// withCatalogPath runs fn with the connection's search_path set to
// pg_catalog alone, so that PostgreSQL prints every other name qualified,
// and sets it back. what says what is being done ("reading the catalog
// of"), for errors.
func withCatalogPath(ctx context.Context, c *pg.Conn, what string, fn func() error) (err error) {
	var path string
	if err := c.QueryRow(ctx, `SELECT current_setting('search_path'), set_config('search_path', 'pg_catalog', false)`).Scan(&path, new(string)); err != nil {
		return fmt.Errorf("%s %s: %w", what, c.DB(), pg.ServerError(err))
	}
	defer func() {
		if _, rerr := c.Exec(ctx, `SELECT set_config('search_path', $1, false)`, path); rerr != nil && err == nil {
			err = fmt.Errorf("%s %s: %w", what, c.DB(), pg.ServerError(rerr))
		}
	}()
	return fn()
}

func readCatalog(ctx context.Context, c *pg.Conn, schemas []string) (cat state.Catalog, err error) {
	cat = make(state.Catalog)
	b := &pgx.Batch{}
	for _, q := range catalogQueries {
		b.Queue(q, schemas)
	}
	if err := readCatalogRows(ctx, c, cat, b); err != nil {
		return nil, err
	}
	return cat, nil
}

// readCatalogRows runs the catalog queries of b and puts their rows in
// cat. They go to the server at once, in one batch: one by one, each took
// a round trip or two, and the server waited while keel read the rows of
// the one before (about 30 queries; at 1,000 tables, the check of an
// apply's result read the tables it changed in 0.22 s, 0.1 s of it between
// queries).
func readCatalogRows(ctx context.Context, c *pg.Conn, cat state.Catalog, b *pgx.Batch) (err error) {
	br := c.Pgx().SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("reading the catalog of %s: %w", c.DB(), pg.ServerError(cerr))
		}
	}()
	for range b.Len() {
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("reading the catalog of %s: %w", c.DB(), pg.ServerError(err))
		}
		for rows.Next() {
			var (
				k    state.CatalogKey
				desc string
			)
			if err := rows.Scan(&k.Kind, &k.Schema, &k.Table, &k.Name, &desc); err != nil {
				rows.Close()
				return fmt.Errorf("reading the catalog of %s: %w", c.DB(), err)
			}
			cat[k] = desc
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading the catalog of %s: %w", c.DB(), pg.ServerError(err))
		}
	}
	return nil
}

// tablesMarker is the condition on c, the table, in each table query.
const tablesMarker = "c.relkind IN ('r', 'p')"

// narrowed is a table query narrowed to the tables $2 (quoted qualified
// names, looked up as it runs), with the kind of entries it reads.
type narrowed struct {
	query, kind string
}

var kindOfQuery = regexp.MustCompile(`^\s*SELECT '([a-z ]+)'`)

// narrowedQueries are tableQueries, each narrowed where it selects tables
// (query "" where not: the enums'), and the kinds of the narrowed ones.
var narrowedQueries = sync.OnceValues(func() ([]narrowed, map[string]bool) {
	out := make([]narrowed, len(tableQueries))
	kinds := make(map[string]bool)
	for i, q := range tableQueries {
		m := kindOfQuery.FindStringSubmatch(q)
		if strings.Count(q, tablesMarker) != 1 || m == nil {
			continue
		}
		out[i] = narrowed{
			query: strings.Replace(q, tablesMarker, tablesMarker+
				" AND c.oid = ANY (ARRAY(SELECT pg_catalog.to_regclass(x)::pg_catalog.oid FROM pg_catalog.unnest($2::text[]) x))", 1),
			kind: m[1],
		}
		kinds[m[1]] = true
	}
	return out, kinds
})

// narrowedDepends is dependsQuery narrowed to what belongs to the tables
// $2 (quoted qualified names): the dependencies of their columns (types,
// defaults), triggers and policies, and of the tables themselves. Only
// those objects' rows of pg_depend are read (deps, through its index), and
// the list of objects, obj, holds only the objects these rows name (ids):
// with obj made whole, the query took 40-60 ms at 1,000 tables, now 2-8 ms
// (most of it planning). The rows are dependsQuery's of these objects.
var narrowedDepends = sync.OnceValue(func() string {
	q := dependsQuery
	replace := func(old, new string) {
		if strings.Count(q, old) != 1 {
			panic("narrowedDepends: dependsQuery changed: " + old)
		}
		q = strings.Replace(q, old, new, 1)
	}
	replace("WITH ns AS (", `WITH tbl AS (SELECT pg_catalog.to_regclass(x)::pg_catalog.oid AS oid FROM pg_catalog.unnest($2::text[]) x),
own AS (SELECT oid FROM tbl
  UNION ALL SELECT oid FROM pg_attrdef WHERE adrelid IN (SELECT oid FROM tbl)
  UNION ALL SELECT oid FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM tbl)
  UNION ALL SELECT oid FROM pg_policy WHERE polrelid IN (SELECT oid FROM tbl)),
ns AS (`)
	replace("obj(classid, objid, subid, kind, schema, tbl, name) AS (", `deps AS MATERIALIZED (SELECT * FROM pg_depend
  WHERE classid = ANY (ARRAY['pg_class'::regclass, 'pg_attrdef'::regclass, 'pg_trigger'::regclass, 'pg_policy'::regclass]::oid[])
    AND objid = ANY (ARRAY(SELECT oid FROM own)) AND deptype IN ('n', 'a')),
ids AS MATERIALIZED (SELECT objid AS id FROM deps UNION SELECT refobjid FROM deps),
obj(classid, objid, subid, kind, schema, tbl, name) AS (SELECT * FROM (`)
	replace("\n)\nSELECT DISTINCT", "\n) u(classid, objid, subid, kind, schema, tbl, name) WHERE u.objid = ANY (ARRAY(SELECT id FROM ids)))\nSELECT DISTINCT")
	replace("FROM pg_depend dep", "FROM deps dep")
	replace("WHERE dep.deptype IN ('n', 'a')", `WHERE dep.deptype IN ('n', 'a')
  AND (d.schema, CASE WHEN d.kind = 'table' THEN d.name ELSE d.tbl END) IN (SELECT n.nspname::text, c.relname::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid IN (SELECT oid FROM tbl))`)
	return q
})

// ReadCatalogOver reads the Catalog of the schemas on c as ReadCatalog
// does, but reads the entries of tables (their columns, constraints,
// indexes, ...) only of the tables changed, by schema: the other tables'
// entries are base's, a catalog of the same schemas read before, and so
// are the dependencies of objects that are not the changed tables' own.
// The objects beside tables and the enums are read whole. It is ReadCatalog's
// result when what PostgreSQL's catalog holds of the other tables is what
// it held when base was read (see RestSignature), and no entry of theirs
// prints anything of a changed table but its name (a foreign key to it
// prints its columns: a table that refers to a changed one must be among
// them).
func ReadCatalogOver(ctx context.Context, c *pg.Conn, schemas []string, base state.Catalog, changed map[string][]string) (cat state.Catalog, err error) {
	queries, kinds := narrowedQueries()
	in := make(map[string]bool, len(schemas))
	for _, s := range schemas {
		in[s] = true
	}
	var names []string
	again := make(map[[2]string]bool)
	for s, tables := range changed {
		for _, t := range tables {
			names = append(names, pgsql.QuoteIdent(s)+"."+pgsql.QuoteIdent(t))
			again[[2]string{s, t}] = true
		}
	}
	cat = make(state.Catalog, len(base))
	for k, v := range base {
		table, ok := k.Table, kinds[k.Kind]
		switch k.Kind {
		case state.CatalogTable:
			table = k.Name
		case state.CatalogDepends:
			// What an object depends on: read again for the changed
			// tables' own objects (see narrowedDepends).
			var obj state.CatalogKey
			if obj, _, ok = state.DependsOn(k); ok {
				if table = obj.Table; obj.Kind == state.CatalogTable {
					table = obj.Name
				}
			}
		}
		if ok && in[k.Schema] && !again[[2]string{k.Schema, table}] {
			cat[k] = v
		}
	}
	err = withCatalogPath(ctx, c, "reading the catalog of", func() error {
		b := &pgx.Batch{}
		for i, q := range catalogQueries {
			args := []any{schemas}
			switch {
			case i < len(queries) && queries[i].query != "":
				q, args = queries[i].query, append(args, names)
			case q == dependsQuery:
				q, args = narrowedDepends(), append(args, names)
			}
			b.Queue(q, args...)
		}
		return readCatalogRows(ctx, c, cat, b)
	})
	return cat, err
}
