package planner_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"keel/internal/pgsql"
	"keel/internal/pgtest"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/render"
	"keel/planner/source"
	"keel/planner/state"
)

// hostileNames break SQL that is written by concatenating names into it.
var hostileNames = []string{
	`x" (a int); DROP TABLE public.canary; --`,
	`canary"; --`,
	`it's`,
	`'x\'); DROP TABLE public.canary; --'`,
	`semi;colon`,
	`$$ dollar $$`,
	`dash -- dash`,
	"new\nline",
	`back\slash`,
	`ünï¢ødé 表`,
	strings.Repeat("long_é", 12), // 84 bytes: PostgreSQL keeps the first 63
}

// hostileSchema is a schema name that breaks SQL written by concatenation.
const hostileSchema = `sch"; DROP TABLE public.canary; --`

// label is v cut to PostgreSQL's 63-byte limit for names and enum labels,
// as the server cuts it: at a character boundary.
func label(v string) string {
	for len(v) > 63 {
		r := []rune(v)
		v = string(r[:len(r)-1])
	}
	return v
}

// hostileSQL creates, in schema sch, a parent table and for every hostile
// name a table, a column, a check, a foreign key, a unique constraint, an
// index, an enum (named and valued with it) and comments.
func hostileSQL(sch string) string {
	var b strings.Builder
	q := func(n string) string { return pgsql.QuoteQualified(sch, n) }
	fmt.Fprintf(&b, "CREATE TABLE %s (id int PRIMARY KEY);\n", q("parent"))
	for i, n := range hostileNames {
		col := pgsql.QuoteIdent(n)
		enum := q(fmt.Sprintf("e%d %s", i, n))
		fmt.Fprintf(&b, "CREATE TYPE %s AS ENUM (%s, 'plain');\n", enum, pgsql.QuoteLiteral(label(n)))
		fmt.Fprintf(&b, `CREATE TABLE %s (
  id int PRIMARY KEY,
  %s int CONSTRAINT %s CHECK (%s > 0),
  e %s,
  p int CONSTRAINT %s REFERENCES %s (id) CONSTRAINT %s UNIQUE
);
`, q(n), col, pgsql.QuoteIdent("c "+n), col, enum, pgsql.QuoteIdent("f "+n), q("parent"), pgsql.QuoteIdent("u "+n))
		fmt.Fprintf(&b, "CREATE INDEX %s ON %s (%s);\n", pgsql.QuoteIdent("i "+n), q(n), col)
		fmt.Fprintf(&b, "COMMENT ON TABLE %s IS %s;\n", q(n), pgsql.QuoteLiteral(n))
		fmt.Fprintf(&b, "COMMENT ON COLUMN %s.%s IS %s;\n", q(n), col, pgsql.QuoteLiteral(n))
	}
	return b.String()
}

// canaryHCL declares public.canary as canarySQL creates it.
const canaryHCL = `schema "public" {}
table "canary" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "note" {
    type    = text
    default = "keep me"
  }
  primary_key {
    columns = [column.id]
  }
}
`

const canarySQL = "CREATE TABLE public.canary (id int PRIMARY KEY, note text NOT NULL DEFAULT 'keep me');\n"

// canaryDatabase is a database holding public.canary with 1,000 rows.
func canaryDatabase(t *testing.T) string {
	t.Helper()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, canarySQL, "INSERT INTO public.canary (id) SELECT generate_series(1, 1000)")
	return u
}

func canaryRows(t *testing.T, dbURL string) int {
	t.Helper()
	if !pgtest.QueryValue[bool](t, dbURL, "SELECT to_regclass('public.canary') IS NOT NULL") {
		return -1
	}
	return pgtest.QueryValue[int](t, dbURL, "SELECT count(*)::int FROM public.canary")
}

// applyAndReplan applies the plan of desired to dbURL, then checks that the
// canary kept its rows and that a new plan is empty.
func applyAndReplan(t *testing.T, dbURL string, desired source.Desired) *plan.Plan {
	t.Helper()
	first := generate(t, dbURL, desired)
	if first.Empty() {
		t.Fatal("the first plan is empty")
	}
	for i, st := range first.Steps {
		if err := pgsql.OneStatement(st.SQL); err != nil {
			t.Fatalf("step %d is not one statement (%v):\n%s", i+1, err, st.SQL)
		}
	}
	applyPlan(t, dbURL, first)
	if n := canaryRows(t, dbURL); n != 1000 {
		t.Fatalf("public.canary has %d rows after apply, want 1000; the plan was:\n%s", n, sqlOf(first))
	}
	if again := generate(t, dbURL, desired); !again.Empty() {
		t.Fatalf("re-plan is not empty:\n%s\nthe first plan was:\n%s", sqlOf(again), sqlOf(first))
	}
	return first
}

// TestHostileNamesFromSQLAndDatabase creates every hostile name from a SQL
// desired state and from another database: the target ends up with exactly
// the schema the SQL makes (pg_dump), the canary keeps its rows, and a new
// plan is empty.
func TestHostileNamesFromSQLAndDatabase(t *testing.T) {
	t.Parallel()
	script := canarySQL + "CREATE SCHEMA " + pgsql.QuoteIdent(hostileSchema) + ";\n" + hostileSQL("public") + hostileSQL(hostileSchema)
	ref, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, ref, script)
	want := pgtest.DumpSchema(t, ref)
	for _, src := range []struct {
		name    string
		desired func() source.Desired
	}{
		{"sql", func() source.Desired { return open(t, writeFile(t, "schema.sql", script)) }},
		{"database", func() source.Desired { return open(t, ref) }},
	} {
		t.Run(src.name, func(t *testing.T) {
			t.Parallel()
			u := canaryDatabase(t)
			applyAndReplan(t, u, src.desired())
			if got := pgtest.DumpSchema(t, u); got != want {
				t.Fatalf("the target's schema differs from the desired one:\n--- target\n%s\n--- desired\n%s", got, want)
			}
		})
	}
}

// hclString writes s as an HCL string literal.
func hclString(s string) string {
	q := strconv.Quote(s)
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(q)
}

// TestHostileNamesFromHCL declares hostile names in schema.hcl: as table,
// column, index, check, foreign key and enum names and as comments and enum
// values. Atlas HCL cannot refer to a name holding a double quote, a
// backslash or a control character (column["..."]), so those name only
// what nothing refers to.
func TestHostileNamesFromHCL(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(canaryHCL + `table "parent" {
  schema = schema.public
  column "id" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
}
`)
	for i, n := range hostileNames {
		referable := strconv.Quote(n) == `"`+n+`"` // no double quote, backslash or control character
		fmt.Fprintf(&b, "enum %s {\n  schema = schema.public\n  values = [%s, \"plain\"]\n}\n", hclString(fmt.Sprintf("e%d %s", i, n)), hclString(label(n)))
		fmt.Fprintf(&b, "table %s {\n  schema = schema.public\n  comment = %s\n", hclString(n), hclString(n))
		fmt.Fprintf(&b, "  column \"id\" {\n    type = int\n  }\n")
		fmt.Fprintf(&b, "  column %s {\n    type = int\n    null = true\n    comment = %s\n  }\n", hclString(n), hclString(n))
		fmt.Fprintf(&b, "  column \"p\" {\n    type = int\n    null = true\n  }\n")
		fmt.Fprintf(&b, "  primary_key {\n    columns = [column.id]\n  }\n")
		fmt.Fprintf(&b, "  check %s {\n    expr = %s\n  }\n", hclString("c "+n), hclString(pgsql.QuoteIdent(n)+" > 0"))
		fmt.Fprintf(&b, "  foreign_key %s {\n    columns = [column.p]\n    ref_columns = [table.parent.column.id]\n  }\n", hclString("f "+n))
		if referable {
			fmt.Fprintf(&b, "  index %s {\n    columns = [column[%s]]\n  }\n", hclString("i "+n), hclString(n))
		} else {
			fmt.Fprintf(&b, "  index %s {\n    columns = [column.p]\n  }\n", hclString("i "+n))
		}
		b.WriteString("}\n")
	}
	desired, err := source.LoadHCL(writeSchema(t, b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	u := canaryDatabase(t)
	applyAndReplan(t, u, desired)
	for _, n := range hostileNames {
		got := pgtest.QueryValue[string](t, u, `SELECT coalesce((SELECT coalesce(obj_description(oid, 'pg_class'), 'no comment') FROM pg_class
WHERE relnamespace = 'public'::regnamespace AND relname = $1), 'no table')`, label(n))
		if got != n {
			t.Errorf("table %q: comment %q, want its name", n, got)
		}
	}
}

// TestHostileNamesInTheTarget drops objects with hostile names that the
// desired state does not declare: exactly those, and the canary stays.
func TestHostileNamesInTheTarget(t *testing.T) {
	t.Parallel()
	u := canaryDatabase(t)
	pgtest.Exec(t, u, hostileSQL("public"))
	desired, err := source.LoadHCL(writeSchema(t, canaryHCL))
	if err != nil {
		t.Fatal(err)
	}
	// The drops' hazards carry the sizes of those tables, read by their
	// OIDs (the canary is the only table kept).
	var bytes int64
	for _, h := range generate(t, u, desired).Hazards() {
		if h.Code == plan.HazardDataLoss && strings.HasPrefix(h.Object, "table ") && h.Bytes != nil {
			bytes += *h.Bytes
		}
	}
	if want := pgtest.QueryValue[int64](t, u, "SELECT sum(pg_total_relation_size(oid))::bigint FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname <> 'canary'"); bytes != want || want == 0 {
		t.Errorf("the drops' hazards add up to %d bytes, PostgreSQL says the tables hold %d", bytes, want)
	}
	p := applyAndReplan(t, u, desired)
	if !strings.Contains(sqlOf(p), `DROP TABLE "public"."canary""; --"`) {
		t.Errorf("the plan does not drop the table named `canary\"; --` by its quoted name:\n%s", sqlOf(p))
	}
	if n := pgtest.QueryValue[int](t, u, "SELECT count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"); n != 1 {
		t.Errorf("%d tables left in public, want only the canary", n)
	}
}

// TestHostileNamesInPlanText checks that a name cannot pass for something
// else in the text a reviewer reads: a newline in a name does not start a
// new line of the plan.
func TestHostileNamesInPlanText(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE public.\"x\n-- 1/1: harmless\" (a int)")
	desired, err := source.LoadHCL(writeSchema(t, "schema \"public\" {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := generate(t, u, desired)
	var text strings.Builder
	if err := render.Text(&text, p); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(text.String(), "\n") {
		if strings.HasPrefix(line, "-- 1/1: harmless") {
			t.Fatalf("the table's name printed a line of its own:\n%s", text.String())
		}
	}
	if _, err := pg.ParseURL(u); err != nil {
		t.Fatal(err)
	}
	_ = context.Background()
}

// TestInspectHostileNames prints a database with hostile names as HCL: the
// names Atlas HCL can refer to read back to a plan with no changes; those it
// cannot refer to (and enums that columns use whose names are not HCL
// identifiers) are refused by name rather than printed wrong.
func TestInspectHostileNames(t *testing.T) {
	t.Parallel()
	var printable, other []string
	for _, n := range hostileNames {
		if strconv.Quote(n) == `"`+n+`"` {
			printable = append(printable, n)
		} else {
			other = append(other, n)
		}
	}
	build := func(names []string) string {
		saved := hostileNames
		defer func() { hostileNames = saved }()
		hostileNames = names
		return hostileSQL("public")
	}
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, build(printable), "CREATE TYPE public.e_plain AS ENUM ('a')", "ALTER TABLE public.parent ADD COLUMN e public.e_plain")
	for _, n := range printable { // the enums keep their names, and no column uses them
		pgtest.Exec(t, u, "ALTER TABLE "+pgsql.QuoteQualified("public", n)+" DROP COLUMN e")
	}
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	st, err := inspect.Inspect(context.Background(), connOf(t, db), nil)
	if err != nil {
		t.Fatal(err)
	}
	text, err := state.MarshalHCL(st)
	if err != nil {
		t.Fatal(err)
	}
	desired, err := source.LoadHCL(writeSchema(t, string(text)))
	if err != nil {
		t.Fatalf("the inspected HCL does not read back: %v\n%s", err, text)
	}
	if p := generate(t, u, desired); !p.Empty() {
		t.Fatalf("the inspected HCL plans changes against its own database:\n%s\n%s", sqlOf(p), text)
	}

	v, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, v, build(other))
	if db, err = pg.ParseURL(v); err != nil {
		t.Fatal(err)
	}
	if st, err = inspect.Inspect(context.Background(), connOf(t, db), nil); err != nil {
		t.Fatal(err)
	}
	_, err = state.MarshalHCL(st)
	if err == nil || !strings.Contains(err.Error(), "Atlas HCL cannot refer to") || !strings.Contains(err.Error(), `column public.`) || !strings.Contains(err.Error(), `enum public.`) {
		t.Fatalf("printing names Atlas HCL cannot refer to: error %v, want one naming them", err)
	}
}
