package inspect

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"

	"keel/internal/pgsql"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/schema"
)

// countLimit is the largest table (bytes) keel counts offending rows in.
const countLimit = 64 << 20

// Facts answers the hazard analysis from the live database.
type Facts struct {
	ctx   context.Context
	db    *pg.Conn
	stats map[string][2]int64 // "schema.table" -> rows estimate, bytes (-1 until asked: sized)
	// rels maps "schema.table" to the OIDs of it and its partitions and
	// children, as an array literal: what its size adds up.
	rels map[string]string
	// age maps "schema.table" to the age in days of the oldest statistics
	// its row estimate adds up (ANALYZE or VACUUM, of it or its
	// partitions), -1 when the server does not know it.
	age map[string]int64
	// counted are the tables whose rows were counted (never analyzed).
	counted map[string]bool
	// descendants maps "schema.table" to its partitions and children.
	descendants map[string][]string
	// schemas are the managed schemas: keel plans the views in them.
	schemas []string
	// loaded says that the tables' row estimates were read (load), and
	// err why they or a size could not be: a plan with nothing to do never
	// reads them.
	loaded bool
	err    error
}

// TableFacts returns the facts of the tables of the managed schemas; their
// sizes are read when first asked for (see Err).
func (l *Live) TableFacts(ctx context.Context, schemas []string) (*Facts, error) {
	return &Facts{ctx: ctx, db: l.db, stats: make(map[string][2]int64), rels: make(map[string]string), age: make(map[string]int64), counted: make(map[string]bool),
		descendants: make(map[string][]string), schemas: schemas}, nil
}

// Err is why the tables' sizes could not be read, once something asked
// for them: a plan that needed them fails with it.
func (f *Facts) Err() error { return f.err }

// load reads the tables' row estimates, once; their sizes are read one
// table at a time, when asked for (sized).
func (f *Facts) load() {
	if f.loaded {
		return
	}
	f.loaded = true
	if f.err = f.readEstimates(); f.err != nil {
		f.err = fmt.Errorf("reading the tables' row estimates: %w", f.err)
	}
}

func (f *Facts) readEstimates() error {
	// A table's rows and bytes are its own and those of its partitions
	// and children (what a drop of it or of one of its columns touches);
	// -1 rows when one of them was never analyzed. The bytes are not read
	// here: pg_total_relation_size looks at every file of every table,
	// 0.3 s at 1,000 tables, and a plan asks for the few it changes. The
	// statistics' times come from the functions pg_stat_all_tables is
	// made of, not from the view, which groups every relation of the
	// database: 28 -> 18 ms at 1,000 tables, 142-173 -> 61-95 ms at 5,000.
	res, err := f.db.QueryContext(f.ctx, `
WITH RECURSIVE tree AS (
  SELECT c.oid AS root, c.oid AS rel
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1)
  UNION
  SELECT t.root, i.inhrelid FROM tree t JOIN pg_catalog.pg_inherits i ON i.inhparent = t.rel
)
SELECT n.nspname, c.relname,
  CASE WHEN bool_or(d.reltuples < 0 AND d.relkind = 'r') THEN -1 ELSE sum(greatest(d.reltuples, 0))::bigint END,
  array_agg(d.oid ORDER BY d.oid)::text,
  coalesce(max(extract(epoch FROM now() - greatest(pg_catalog.pg_stat_get_last_analyze_time(d.oid), pg_catalog.pg_stat_get_last_autoanalyze_time(d.oid),
      pg_catalog.pg_stat_get_last_vacuum_time(d.oid), pg_catalog.pg_stat_get_last_autovacuum_time(d.oid))) / 86400)
    FILTER (WHERE d.relkind = 'r'), -1)::bigint,
  coalesce(json_agg(json_build_array(dn.nspname, d.relname) ORDER BY dn.nspname, d.relname) FILTER (WHERE d.oid <> c.oid), '[]')::text
FROM tree JOIN pg_catalog.pg_class c ON c.oid = tree.root JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class d ON d.oid = tree.rel JOIN pg_catalog.pg_namespace dn ON dn.oid = d.relnamespace
GROUP BY n.nspname, c.relname`, f.schemas)
	if err != nil {
		return err
	}
	defer res.Close()
	for res.Next() {
		var (
			nsp, name, rels, below string
			rows, age              int64
			names                  [][2]string
		)
		if err := res.Scan(&nsp, &name, &rows, &rels, &age, &below); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(below), &names); err != nil {
			return err
		}
		t := plan.DisplayName(nsp, name)
		f.stats[t] = [2]int64{rows, -1}
		f.rels[t] = rels
		f.age[t] = age
		for _, d := range names {
			f.descendants[t] = append(f.descendants[t], plan.DisplayName(d[0], d[1]))
		}
	}
	return res.Err()
}

// sized is the entry of stats for the table named t ("schema.table"), its
// size read first if it was not: ok is false when the database does not
// have it.
func (f *Facts) sized(t string) (s [2]int64, ok bool) {
	f.load()
	if s, ok = f.stats[t]; !ok || s[1] >= 0 {
		return s, ok
	}
	s[1] = 0
	err := f.db.QueryRowContext(f.ctx, `SELECT coalesce(sum(pg_catalog.pg_total_relation_size(r)), 0)::bigint FROM unnest($1::pg_catalog.oid[]) r`,
		f.rels[t]).Scan(&s[1])
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("reading the size of %s: %w", t, pg.ServerError(err))
	}
	f.stats[t] = s
	return s, true
}

// Descendants lists the partitions and children of a table (at any depth),
// whose rows a drop of it or of one of its columns takes too.
func (f *Facts) Descendants(t *schema.Table) []string {
	f.load()
	return f.descendants[state.TableName(t)]
}

func (f *Facts) Size(t *schema.Table) (rows, bytes *int64) {
	s, ok := f.sized(state.TableName(t))
	if !ok {
		return nil, nil
	}
	r, b := s[0], s[1]
	if r < 0 { // never analyzed: count it when that is cheap
		if n := f.Count(t, "SELECT count(*) FROM "+state.QuoteTable(t)); n != nil {
			r = *n
			f.counted[state.TableName(t)] = true
		} else {
			r = 0
		}
	}
	return &r, &b
}

// staleAfter is the age in days from which a row estimate's statistics
// are called old.
const staleAfter = 7

// RowsNote says where the row estimate of a table (schema, name) comes
// from when that matters to a reader: "counted" (never analyzed, small
// enough to count), "never analyzed" (too big to count: the estimate is
// 0), or how old its statistics are when they are old or of unknown age;
// "" for recent statistics and tables the database does not have.
func (f *Facts) RowsNote(sch, name string) string {
	f.load()
	t := plan.DisplayName(sch, name)
	s, ok := f.stats[t]
	switch {
	case !ok:
		return ""
	case f.counted[t]:
		return "counted"
	case s[0] < 0:
		return "never analyzed"
	case f.age[t] < 0:
		return "from statistics of unknown age"
	case f.age[t] >= staleAfter:
		return fmt.Sprintf("from statistics %d days old", f.age[t])
	}
	return ""
}

// count runs a probe on the target: a count built from keel's quoting and
// from expressions of the normalized desired state (text PostgreSQL printed
// back from the throwaway database). It runs only when it is one statement,
// in a READ ONLY transaction that is rolled back, with short timeouts, and
// through the extended protocol (one statement at most).
func (f *Facts) Count(t *schema.Table, query string) *int64 {
	s, ok := f.sized(state.TableName(t))
	if !ok || s[1] > countLimit || query == "" || pgsql.OneStatement(query) != nil {
		return nil
	}
	tx, err := f.db.BeginTx(f.ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil
	}
	defer tx.Rollback()
	// Counting is a courtesy: it never waits for a lock, nor long.
	if _, err := tx.ExecContext(f.ctx, "SET LOCAL statement_timeout = '5s'; SET LOCAL lock_timeout = '100ms'"); err != nil {
		return nil
	}
	var n int64
	if err := tx.QueryRowContext(f.ctx, query).Scan(&n); err != nil {
		return nil
	}
	return &n
}

// schemaOf is the schema of a table of the live database; ok is false
// when the table is not there (a table the plan creates).
func (f *Facts) schemaOf(t *schema.Table) (sch string, ok bool) {
	f.load()
	if _, ok := f.stats[state.TableName(t)]; !ok {
		return "", false
	}
	if t.Schema != nil {
		sch = t.Schema.Name
	}
	return sch, true
}

func (f *Facts) Dependents(t *schema.Table, column string) []string {
	sch, ok := f.schemaOf(t)
	if !ok {
		return nil
	}
	rows, err := f.db.QueryContext(f.ctx, `
WITH tbl AS (
  SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = $2
)
SELECT DISTINCT CASE v.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END, n.nspname, v.relname
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
JOIN pg_catalog.pg_class v ON v.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = v.relnamespace
WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
  AND d.refobjid = (SELECT oid FROM tbl) AND v.oid <> d.refobjid
  AND ($3 = '' OR d.refobjsubid = (SELECT attnum FROM pg_catalog.pg_attribute WHERE attrelid = (SELECT oid FROM tbl) AND attname = $3))
  -- keel drops and creates again the views of the schemas it manages.
  AND NOT n.nspname = ANY($4)
ORDER BY 2, 3, 1`, sch, t.Name, column, f.schemas)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, nsp, name string
		if rows.Scan(&kind, &nsp, &name) == nil {
			out = append(out, kind+" "+plan.DisplayName(nsp, name))
		}
	}
	return out
}

func (f *Facts) Attached(t *schema.Table) []string {
	sch, ok := f.schemaOf(t)
	if !ok {
		return nil
	}
	rows, err := f.db.QueryContext(f.ctx, `
WITH tbl AS (
  SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = $2
)
SELECT 'rule', rulename FROM pg_catalog.pg_rewrite WHERE ev_class = (SELECT oid FROM tbl) AND rulename <> '_RETURN'
ORDER BY 1, 2`, sch, t.Name)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, name string
		if rows.Scan(&kind, &name) == nil {
			out = append(out, kind+" "+plan.DisplayName(sch, t.Name)+"."+plan.DisplayPart(name))
		}
	}
	return out
}

func (f *Facts) Updates(extension, from, to string) *bool {
	var ok bool
	err := f.db.QueryRowContext(f.ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension_update_paths($1)
WHERE source = $2 AND target = $3 AND path IS NOT NULL)`, extension, from, to).Scan(&ok)
	if err != nil {
		return nil
	}
	return &ok
}

func (f *Facts) Converts(from, to string) *bool {
	var ok bool
	// Domains convert as their base types; arrays as their elements; any
	// type converts to a string type (an I/O conversion cast).
	err := f.db.QueryRowContext(f.ctx, `
WITH RECURSIVE ty(name, oid) AS (SELECT 'from', $1::regtype::oid UNION ALL SELECT 'to', $2::regtype::oid),
base AS (
  SELECT ty.name, coalesce(nullif(t.typbasetype, 0), t.oid) AS oid FROM ty JOIN pg_catalog.pg_type t ON t.oid = ty.oid
),
pair AS (
  SELECT f.oid AS f, t.oid AS t, ft.typelem AS fe, tt.typelem AS te, tt.typcategory AS tc, ft.typcategory AS fc
  FROM base f JOIN base t ON f.name = 'from' AND t.name = 'to'
  JOIN pg_catalog.pg_type ft ON ft.oid = f.oid JOIN pg_catalog.pg_type tt ON tt.oid = t.oid
)
SELECT f = t OR tc = 'S'
  OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast WHERE castsource = f AND casttarget = t AND castcontext IN ('a', 'i'))
  OR (fc = 'A' AND tc = 'A' AND (fe = te
      OR (SELECT typcategory FROM pg_catalog.pg_type WHERE oid = te) = 'S'
      OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast WHERE castsource = fe AND casttarget = te AND castcontext IN ('a', 'i'))))
FROM pair`, from, to).Scan(&ok)
	if err != nil {
		return nil
	}
	return &ok
}

var funcCall = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*\(`)

func (f *Facts) Volatile(expr string) bool {
	var names []string
	for _, m := range funcCall.FindAllStringSubmatch(expr, -1) {
		names = append(names, m[1])
	}
	if len(names) == 0 {
		return false
	}
	var v bool
	err := f.db.QueryRowContext(f.ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE provolatile = 'v' AND proname = ANY($1))", names).Scan(&v)
	return err == nil && v
}
