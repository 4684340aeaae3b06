package planner

import (
	"context"
	"database/sql"
	"regexp"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// countLimit is the largest table (bytes) keel counts offending rows in.
const countLimit = 64 << 20

// liveFacts answers the hazard analysis from the live database.
type liveFacts struct {
	ctx   context.Context
	db    *sql.DB
	stats map[string][2]int64 // "schema.table" -> rows estimate, bytes
}

func (l *Live) facts(ctx context.Context, schemas []string) (*liveFacts, error) {
	res, err := l.db.QueryContext(ctx, `
SELECT n.nspname, c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1)`, schemas)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	f := &liveFacts{ctx: ctx, db: l.db, stats: make(map[string][2]int64)}
	for res.Next() {
		var (
			nsp, name   string
			rows, bytes int64
		)
		if err := res.Scan(&nsp, &name, &rows, &bytes); err != nil {
			return nil, err
		}
		f.stats[plan.DisplayName(nsp, name)] = [2]int64{rows, bytes}
	}
	return f, res.Err()
}

func (f *liveFacts) size(t *schema.Table) (rows, bytes *int64) {
	s, ok := f.stats[state.TableName(t)]
	if !ok {
		return nil, nil
	}
	r, b := s[0], s[1]
	if r < 0 { // never analyzed: count it when that is cheap
		if n := f.count(t, "SELECT count(*) FROM "+state.QuoteTable(t)); n != nil {
			r = *n
		} else {
			r = 0
		}
	}
	return &r, &b
}

// count runs a probe on the target: a count built from keel's quoting and
// from expressions of the normalized desired state (text PostgreSQL printed
// back from the throwaway database). It runs only when it is one statement,
// in a READ ONLY transaction that is rolled back, with short timeouts, and
// through the extended protocol (one statement at most).
func (f *liveFacts) count(t *schema.Table, query string) *int64 {
	s, ok := f.stats[state.TableName(t)]
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

func (f *liveFacts) dependents(t *schema.Table, column string) []string {
	if _, ok := f.stats[state.TableName(t)]; !ok {
		return nil
	}
	var sch string
	if t.Schema != nil {
		sch = t.Schema.Name
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
ORDER BY 2, 3, 1`, sch, t.Name, column)
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

var funcCall = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*\(`)

func (f *liveFacts) volatile(expr string) bool {
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

// typeChange says whether changing a column from one type to another
// rewrites the table, and whether it narrows it (values may not fit).
func typeChange(from, to schema.Type) (rewrite, narrow bool) {
	switch f := from.(type) {
	case *schema.IntegerType:
		if t, ok := to.(*schema.IntegerType); ok {
			fs, ts := intSize(f.T), intSize(t.T)
			return fs != ts, ts < fs
		}
	case *schema.FloatType:
		if t, ok := to.(*schema.FloatType); ok {
			fs, ts := floatSize(f), floatSize(t)
			return fs != ts, ts < fs
		}
	case *schema.StringType:
		switch t := to.(type) {
		case *schema.StringType:
			if f.T != t.T {
				// varchar -> text is binary-coercible; anything else rewrites.
				widen := t.T == "text" && (f.T == "character varying" || f.T == "varchar")
				return !widen, !widen && t.Size > 0
			}
			switch {
			case f.Size == t.Size:
				return false, false
			case t.Size == 0 || (f.Size > 0 && t.Size > f.Size):
				return f.T == "character" || f.T == "char", false
			default:
				return true, true
			}
		}
	case *schema.DecimalType:
		if t, ok := to.(*schema.DecimalType); ok {
			if f.Scale != t.Scale {
				return true, t.Scale < f.Scale
			}
			if t.Precision == 0 || (f.Precision > 0 && t.Precision >= f.Precision) {
				return false, false
			}
			return true, true
		}
	}
	return typeString(from) != typeString(to), false
}

func intSize(t string) int {
	switch t {
	case "smallint", "int2", "smallserial":
		return 2
	case "bigint", "int8", "bigserial":
		return 8
	}
	return 4
}

func floatSize(t *schema.FloatType) int {
	if t.T == "real" || t.T == "float4" || (t.Precision > 0 && t.Precision <= 24) {
		return 4
	}
	return 8
}

func typeString(t schema.Type) string {
	s, err := postgres.FormatType(t)
	if err != nil {
		return "?"
	}
	return s
}
