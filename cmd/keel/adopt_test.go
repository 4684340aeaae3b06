package main

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

func TestInspectThenPlanWithIt(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	if code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", "../../schema.hcl"); code != 0 {
		t.Fatalf("apply exit %d: %s\n%s", code, errs, out)
	}
	code, hcl, errs := keel(t, "inspect", "--env", "dev", "--url", u)
	if code != 0 {
		t.Fatalf("inspect exit %d: %s", code, errs)
	}
	if !strings.Contains(hcl, `extension "uuid-ossp"`) || !strings.Contains(hcl, `table "users"`) {
		t.Fatalf("inspect output lacks the extension or the users table:\n%s", hcl)
	}
	path := writeFile(t, "inspected.hcl", hcl)
	code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", path, "--detailed-exitcode")
	if code != 0 {
		t.Fatalf("plan with the inspected file: exit %d, want 0:\n%s%s\nHCL:\n%s", code, out, errs, hcl)
	}
}

func TestSQLSchemaAppliesAndConverges(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeFile(t, "schema.sql", `
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped');
CREATE TABLE orders (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  status order_status NOT NULL DEFAULT 'pending',
  total_cents integer NOT NULL DEFAULT 0 CONSTRAINT total_not_negative CHECK (total_cents >= 0),
  placed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_unpaid ON orders (placed_at) WHERE status <> 'paid';
`)
	if code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", path); code != 0 {
		t.Fatalf("apply exit %d: %s\n%s", code, errs, out)
	}
	pgtest.Exec(t, u, "INSERT INTO orders (total_cents) VALUES (5)")
	code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", path, "--detailed-exitcode")
	if code != 0 {
		t.Fatalf("re-plan exit %d, want 0:\n%s%s", code, out, errs)
	}
}

func TestDatabaseSchemaPlansAppliesConverges(t *testing.T) {
	t.Parallel()
	b, _ := pgtest.NewDatabase(t)
	c, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, b, "CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL)",
		"CREATE INDEX accounts_name ON accounts (name)")
	pgtest.Exec(t, c, "CREATE TABLE accounts (id bigint PRIMARY KEY)")
	code, out, errs := keel(t, "plan", "--env", "dev", "--url", c, "--schema", b, "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan exit %d, want 2:\n%s%s", code, out, errs)
	}
	if code, out, errs = keel(t, "apply", "--env", "dev", "--url", c, "--schema", b); code != 0 {
		t.Fatalf("apply exit %d: %s\n%s", code, errs, out)
	}
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", c, "--schema", b, "--detailed-exitcode")
	if code != 0 {
		t.Fatalf("re-plan exit %d, want 0:\n%s%s", code, out, errs)
	}
}

// The first plan of a database keel never applied, with an empty cache, of
// the file keel inspect printed of it takes its tables as the database has
// them and says so; after an edit, the edited table and the one whose
// foreign key points at it are normalized, the third taken; with a view
// the file leaves out, nothing is taken (the view is the plan's to drop).
func TestTheFirstPlanOfAnInspectedDatabaseTakesItsTables(t *testing.T) {
	t.Parallel()
	u, name := pgtest.NewDatabase(t)
	// A comment of this test's own: no other test's plan puts these
	// files' bytes in the cache.
	pgtest.Exec(t, u,
		`CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL)`,
		`COMMENT ON TABLE accounts IS '`+name+`'`,
		`CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id), total numeric(10,2) CHECK (total >= 0))`,
		`CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text DEFAULT 'none')`)
	code, hcl, errs := keel(t, "inspect", "--env", "dev", "--url", u)
	if code != 0 || errs != "" {
		t.Fatalf("inspect exit %d, want 0 and nothing on stderr: %s", code, errs)
	}
	code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", writeFile(t, "schema.hcl", hcl), "--detailed-exitcode")
	if code != 0 || !strings.Contains(out, "No changes") ||
		!strings.Contains(out, "The desired state made on the database's own: 3 tables whose blocks are as keel inspect prints them taken as the database has them, 0 tables normalized") {
		t.Fatalf("plan of the inspected file: exit %d, want 0, no changes and the tables taken:\n%s%s", code, out, errs)
	}
	edited := strings.Replace(hcl, "table \"accounts\" {\n", "table \"accounts\" {\n  column \"email\" {\n    null = true\n    type = text\n  }\n", 1)
	if edited == hcl {
		t.Fatalf("no accounts block in:\n%s", hcl)
	}
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", writeFile(t, "schema.hcl", edited), "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, `ALTER TABLE "public"."accounts" ADD COLUMN "email" text NULL;`) ||
		!strings.Contains(out, "1 table whose blocks are as keel inspect prints them taken as the database has them, 2 tables normalized") {
		t.Fatalf("plan of the edited file: exit %d, want 2, the column added, one table taken:\n%s%s", code, out, errs)
	}
	// A view the file leaves out: the schema's catalog is not the
	// desired state's, so the state is normalized whole and the view is
	// the plan's to drop.
	pgtest.Exec(t, u, `CREATE VIEW big_orders AS SELECT id FROM orders WHERE total > 100`)
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", writeFile(t, "schema.hcl", hcl), "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, `DROP VIEW "public"."big_orders"`) || strings.Contains(out, "made on the database's own") {
		t.Fatalf("plan with a view the file leaves out: exit %d, want 2, the view dropped, nothing taken:\n%s%s", code, out, errs)
	}
}

// keel inspect says which tables it prints with less than the database
// has (what keel's HCL cannot say yet), each with the first thing it
// leaves out; the file is printed all the same.
func TestInspectSaysWhatItPrintsWithLess(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u,
		`CREATE EXTENSION IF NOT EXISTS btree_gist`,
		`CREATE TABLE plain (id bigint PRIMARY KEY)`,
		`CREATE TABLE rooms (n int, during tstzrange, CONSTRAINT rooms_busy EXCLUDE USING gist (n WITH =, during WITH &&))`,
		`CREATE TABLE codes (code text COLLATE "C")`)
	code, hcl, errs := keel(t, "inspect", "--env", "dev", "--url", u)
	want := `keel: warning: 2 tables are printed with less than the database has; a plan of this file changes what it leaves out (see README, Not done yet):
  public.codes: column "code": its collation
  public.rooms: constraint "rooms_busy": not printed at all
`
	if code != 0 || errs != want || !strings.Contains(hcl, `table "rooms"`) || !strings.Contains(hcl, `table "plain"`) {
		t.Fatalf("inspect: exit %d, stderr:\n%s\nwant:\n%s\nHCL:\n%s", code, errs, want, hcl)
	}
}
