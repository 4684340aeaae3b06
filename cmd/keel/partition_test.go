package main

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// A database with a range-partitioned table, its default partition and a
// partition list-partitioned itself: keel inspect prints each partition as
// a table block (partition_of, bound, its own partition block), the file
// validates, plans nothing against the same database, and builds the same
// partitions in an empty one.
func TestInspectPartitionsReadBack(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u,
		"CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, region text NOT NULL, PRIMARY KEY (id, at, region)) PARTITION BY RANGE (at)",
		"CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY LIST (region)",
		"CREATE TABLE events_2026_eu PARTITION OF events_2026 FOR VALUES IN ('eu', 'uk')",
		"CREATE TABLE events_2026_rest PARTITION OF events_2026 DEFAULT",
		"CREATE TABLE events_other PARTITION OF events DEFAULT",
		"COMMENT ON TABLE events_other IS 'all but 2026'")
	code, out, errs := keel(t, "inspect", "--env", "dev", "--url", u)
	if code != 0 {
		t.Fatalf("inspect: exit %d:\n%s%s", code, out, errs)
	}
	for _, w := range []string{
		"partition_of = table.events\n",
		`bound        = "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"`,
		"type    = LIST\n    columns = [column.region]",
		"partition_of = table.events_2026\n",
		`bound        = "FOR VALUES IN ('eu', 'uk')"`,
		`bound        = "DEFAULT"`,
		`comment      = "all but 2026"`,
	} {
		if !strings.Contains(out, w) {
			t.Fatalf("inspect lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "is a partition of") {
		t.Fatalf("inspect still prints partitions as comments:\n%s", out)
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
		t.Fatalf("apply of the inspected file to an empty database: exit %d:\n%s%s", code, aout, errs)
	}
	if n := pgtest.QueryValue[int64](t, empty, "SELECT count(*) FROM pg_class WHERE relispartition AND relkind IN ('r', 'p')"); n != 4 {
		t.Fatalf("%d partitions in the database built from the inspected file, want 4", n)
	}
	if got := pgtest.QueryValue[string](t, empty, "SELECT coalesce(obj_description('events_other'::regclass, 'pg_class'), '')"); got != "all but 2026" {
		t.Fatalf("the partition's comment is %q, want it set", got)
	}
}
