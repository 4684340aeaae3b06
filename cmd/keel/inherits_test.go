package main

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// A database with a table inheriting from another: keel inspect prints
// inherits = [table.p] and only the child's own column, and the parent's
// column that the child's index uses, marked inherited = true; the file
// validates and plans nothing against the same database, and applied to an
// empty database it makes the same tables (the child c after its parent p).
func TestInspectInheritsReadBack(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u,
		"CREATE TABLE p (a int NOT NULL, CHECK (a > 0))",
		"CREATE TABLE c (b text) INHERITS (p)",
		"CREATE INDEX c_a ON c (a)")
	code, out, errs := keel(t, "inspect", "--env", "dev", "--url", u)
	if code != 0 {
		t.Fatalf("inspect: exit %d:\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "inherits = [table.p]") {
		t.Fatalf("inspect lacks inherits = [table.p]:\n%s", out)
	}
	if strings.Contains(out, "inherits from") {
		t.Fatalf("inspect still prints inheritance as comments:\n%s", out)
	}
	child, _, _ := strings.Cut(out[strings.Index(out, `table "c"`):], "\n}\n")
	if strings.Contains(child, `check`) || !strings.Contains(child, `column "b"`) {
		t.Fatalf("the child's block declares what it only inherits:\n%s", out)
	}
	if a, _, _ := strings.Cut(child[strings.Index(child, `column "a"`)+1:], "}"); !strings.Contains(a, "inherited = true") {
		t.Fatalf("the child's block lacks column a, inherited = true, for its index:\n%s", out)
	}
	path := writeFile(t, "schema.hcl", out)
	if code, vout, errs := keel(t, "validate", "--schema", path); code != 0 {
		t.Fatalf("validate of the inspected file: exit %d:\n%s%s\n%s", code, vout, errs, out)
	}
	if code, pout, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", path, "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan of the inspected file against its database: exit %d:\n%s%s\n%s", code, pout, errs, out)
	}
	empty, _ := pgtest.NewDatabase(t)
	if code, aout, errs := keel(t, "apply", "--env", "dev", "--url", empty, "--schema", path); code != 0 {
		t.Fatalf("apply of the inspected file to an empty database: exit %d:\n%s%s\n%s", code, aout, errs, out)
	}
	if n := pgtest.QueryValue[int64](t, empty, "SELECT count(*) FROM pg_inherits WHERE inhrelid = 'c'::regclass AND inhparent = 'p'::regclass"); n != 1 {
		t.Fatalf("c does not inherit from p after the apply")
	}
	if n := pgtest.QueryValue[int64](t, empty, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'c'::regclass AND attname = 'a' AND NOT attislocal"); n != 1 {
		t.Fatalf("c's column a is its own after the apply, not only inherited")
	}
	if code, pout, errs := keel(t, "plan", "--env", "dev", "--url", empty, "--schema", path, "--detailed-exitcode"); code != 0 {
		t.Fatalf("re-plan after the apply: exit %d:\n%s%s", code, pout, errs)
	}
}
