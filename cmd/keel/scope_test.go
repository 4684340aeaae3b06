package main

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// keel inspect says which schemas keel manages in the database, and prints
// the partitions it found as table blocks.
func TestInspectPrintsTheManagedScope(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	if code, out, errs := keel(t, "inspect", "--env", "dev", "--url", u); code != 0 || !strings.Contains(out, "# keel has not recorded managing any schema") {
		t.Fatalf("inspect before any apply: exit %d:\n%s%s", code, out, errs)
	}
	if code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", "../../schema.hcl"); code != 0 {
		t.Fatalf("apply: exit %d:\n%s%s", code, out, errs)
	}
	pgtest.Exec(t, u, "CREATE SCHEMA events", "CREATE TABLE events.e (at date NOT NULL) PARTITION BY RANGE (at)",
		"CREATE TABLE events.e_2026 PARTITION OF events.e FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
	code, out, errs := keel(t, "inspect", "--env", "dev", "--url", u)
	if code != 0 || !strings.Contains(out, "# keel manages the schemas public here") ||
		!strings.Contains(out, "partition_of = table.e\n") || !strings.Contains(out, `bound        = "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"`) {
		t.Fatalf("inspect: exit %d:\n%s%s", code, out, errs)
	}
	// The plan lists the schema keel never managed, and leaves it.
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", "../../schema.hcl")
	if code != 0 || !strings.Contains(out, "schema events (2 table(s))") || strings.Contains(out, "DROP") {
		t.Fatalf("plan: exit %d:\n%s%s", code, out, errs)
	}
}
