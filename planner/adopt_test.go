package planner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
)

// schemaSQL has an extension, an enum, a CHECK, defaults, a partial index and
// a function keel does not manage.
const schemaSQL = `-- the service's schema
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE TYPE order_status AS ENUM ('pending', 'paid');
CREATE TABLE orders (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  status order_status NOT NULL DEFAULT 'pending',
  total_cents integer NOT NULL CHECK (total_cents >= 0),
  placed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_unpaid ON orders (placed_at) WHERE status <> 'paid';
CREATE FUNCTION answer() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 42; END;
`

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func generate(t *testing.T, dbURL string, desired source.Desired) *plan.Plan {
	t.Helper()
	db, err := pg.ParseURL(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := planner.Generate(context.Background(), connOf(t, db), desired, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func open(t *testing.T, path string) source.Desired {
	t.Helper()
	d, err := source.OpenDesired(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSQLDesiredStateConverges(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	desired := open(t, writeFile(t, "schema.sql", schemaSQL))
	first := generate(t, u, desired)
	out := sqlOf(first)
	for _, want := range []string{`CREATE EXTENSION IF NOT EXISTS "uuid-ossp"`, "CREATE TYPE", "CHECK", "WHERE"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if len(first.DesiredNotManaged) != 0 || !strings.Contains(out, "CREATE OR REPLACE FUNCTION public.answer()") {
		t.Errorf("DesiredNotManaged = %v, want the function answer() created:\n%s", first.DesiredNotManaged, out)
	}
	applyPlan(t, u, first)
	if again := generate(t, u, desired); !again.Empty() {
		t.Fatalf("re-plan is not empty:\n%s", sqlOf(again))
	}
}

func TestSQLDirectoryRunsInNameOrder(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	dir := t.TempDir()
	// 02 needs 01's table: run in the other order, it fails.
	os.WriteFile(filepath.Join(dir, "02_index.sql"), []byte("CREATE INDEX t_a ON t (a);\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "01_table.sql"), []byte("CREATE TABLE t (a int);\n"), 0o644)
	p := generate(t, u, open(t, dir))
	applyPlan(t, u, p)
	if !pgtest.QueryValue[bool](t, u, "SELECT to_regclass('public.t_a') IS NOT NULL") {
		t.Fatalf("index t_a not created; plan:\n%s", sqlOf(p))
	}
}

func TestSQLErrorNamesFileLineAndSQLSTATE(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeFile(t, "bad.sql", "CREATE TABLE a (x int);\n\nCREATE TABLE b (\n  y int,\n  z intt\n);\n")
	db, _ := pg.ParseURL(u)
	_, _, err := planner.Generate(context.Background(), connOf(t, db), open(t, path), planner.Options{})
	if err == nil {
		t.Fatal("a SQL file with an unknown type loaded")
	}
	for _, want := range []string{path + ":5:5:", "42704", `type "intt" does not exist`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestDatabaseDesiredState(t *testing.T) {
	t.Parallel()
	bURL, _ := pgtest.NewDatabase(t)
	cURL, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, bURL, "CREATE EXTENSION citext", "CREATE SCHEMA billing",
		"CREATE TABLE billing.invoices (id bigint PRIMARY KEY, email citext NOT NULL, note text COLLATE \"C\")",
		"CREATE VIEW billing.open_invoices AS SELECT id FROM billing.invoices")
	pgtest.Exec(t, cURL, "CREATE TABLE public.leftover (id int)")
	desired := open(t, bURL)
	first := generate(t, cURL, desired)
	if first.Empty() {
		t.Fatal("plan towards another database is empty")
	}
	if !strings.Contains(sqlOf(first), "DROP TABLE") {
		t.Errorf("public.leftover, absent from B, is not dropped:\n%s", sqlOf(first))
	}
	applyPlan(t, cURL, first)
	if again := generate(t, cURL, desired); !again.Empty() {
		t.Fatalf("re-plan is not empty:\n%s", sqlOf(again))
	}
	if got := pgtest.QueryValue[string](t, cURL, "SELECT collation_name FROM information_schema.columns WHERE column_name = 'note'"); got != "C" {
		t.Errorf("collation of note = %q, want C", got)
	}
}

func TestDesiredDatabaseURLIsNotPrinted(t *testing.T) {
	_, err := source.OpenDesired("postgres://kim:s3cret@127.0.0.1:1/x?sslmode=bogus")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error = %v: want an error without the password", err)
	}
}

func TestOpenDesiredRefusesMixedDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.sql"), []byte("SELECT 1;"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.hcl"), []byte(`schema "public" {}`), 0o644)
	if _, err := source.OpenDesired(dir); err == nil || !strings.Contains(err.Error(), "both .sql and .hcl") {
		t.Fatalf("error = %v, want a refusal of a directory with both kinds", err)
	}
}

// connOf opens a connection to db, closed when the test ends.
func connOf(t testing.TB, db *pg.DB) *pg.Conn {
	t.Helper()
	c, err := db.Open(context.Background(), "keel test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
