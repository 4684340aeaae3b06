package main

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// A database with a table inheriting from another: keel inspect prints
// inherits = [table.p] and only the child's own column, the file
// validates and plans nothing against the same database. (Applying it to
// an empty database needs planner/diff to create the new parent p before
// its new child c, which it does not do yet: the engine orders by name.)
func TestInspectInheritsReadBack(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u,
		"CREATE TABLE p (a int NOT NULL, CHECK (a > 0))",
		"CREATE TABLE c (b text) INHERITS (p)")
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
	if strings.Contains(child, `column "a"`) || strings.Contains(child, `check`) || !strings.Contains(child, `column "b"`) {
		t.Fatalf("the child's block declares what it only inherits:\n%s", out)
	}
	path := writeFile(t, "schema.hcl", out)
	if code, vout, errs := keel(t, "validate", "--schema", path); code != 0 {
		t.Fatalf("validate of the inspected file: exit %d:\n%s%s\n%s", code, vout, errs, out)
	}
	if code, pout, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", path, "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan of the inspected file against its database: exit %d:\n%s%s\n%s", code, pout, errs, out)
	}
}
