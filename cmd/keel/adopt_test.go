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
