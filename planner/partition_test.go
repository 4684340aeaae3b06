package planner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/apply"
	"keel/planner/plan"
	"keel/planner/source"
)

// planForSQL plans the desired state of a SQL file against the database.
func planForSQL(t *testing.T, dbURL, sql string) *plan.Plan {
	t.Helper()
	path := filepath.Join(t.TempDir(), "schema.sql")
	if err := os.WriteFile(path, []byte(sql), 0o644); err != nil {
		t.Fatal(err)
	}
	desired, err := source.OpenDesired(path)
	if err != nil {
		t.Fatal(err)
	}
	return generate(t, dbURL, desired)
}

// Monthly partitions of an events table, created ahead by the desired
// state: the new month is created as a partition, the old one dropped with
// a data-loss hazard, and a column dropped from the partitioned table names
// the partitions whose values go with it.
func TestMonthlyPartitions(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	const parent = "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, note text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);\n"
	pgtest.Exec(t, u, parent,
		"CREATE TABLE events_2026_10 PARTITION OF events FOR VALUES FROM ('2026-10-01') TO ('2026-11-01')",
		"CREATE TABLE events_2026_11 PARTITION OF events FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')",
		"INSERT INTO events SELECT i, date '2026-10-01' + (i % 60), 'x' FROM generate_series(1, 50) i",
		"ANALYZE events_2026_10, events_2026_11")
	desired := strings.Replace(parent, "note text, ", "", 1) + `
CREATE TABLE events_2026_11 PARTITION OF events FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
CREATE TABLE events_2026_12 PARTITION OF events FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
`
	p := planForSQL(t, u, desired)
	sql := sqlOf(p)
	if len(p.Unplanned) > 0 || !strings.Contains(sql, `CREATE TABLE "public"."events_2026_12" PARTITION OF "public"."events" FOR VALUES FROM ('2026-12-01') TO ('2027-01-01')`) ||
		!strings.Contains(sql, `DROP TABLE "public"."events_2026_10"`) {
		t.Fatalf("statements:\n%s\ndifferences %+v; want the December partition created and October's dropped", sql, p.Unplanned)
	}
	var dropped, column bool
	for _, h := range p.Hazards() {
		if h.Code == plan.HazardDataLoss && h.Object == "table public.events_2026_10" && h.Rows != nil && *h.Rows == 30 {
			dropped = true
		}
		if h.Code == plan.HazardDataLoss && h.Object == "column public.events.note" && strings.Contains(h.Message, "public.events_2026_10, public.events_2026_11") &&
			h.Rows != nil && *h.Rows == 50 {
			column = true
		}
	}
	if !dropped || !column {
		t.Fatalf("hazards %+v: want data-loss for the dropped partition (30 rows) and for the column, naming the partitions and their 50 rows", p.Hazards())
	}
	applyPlan(t, u, p)
	if p := planForSQL(t, u, desired); !p.Matches() {
		t.Fatalf("after apply: %d statements, differences %+v:\n%s", len(p.Steps), p.Unplanned, sqlOf(p))
	}
	if n := pgtest.QueryValue[int64](t, u, "SELECT count(*) FROM events"); n != 20 {
		t.Fatalf("%d rows, want November's 20", n)
	}
}

// Where the profile asks for online changes (concurrent_indexes), an old
// partition is detached CONCURRENTLY and dropped after the transaction.
func TestPartitionDetachedConcurrently(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	const parent = "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);\n"
	pgtest.Exec(t, u, parent,
		"CREATE TABLE events_2026_10 PARTITION OF events FOR VALUES FROM ('2026-10-01') TO ('2026-11-01')",
		"CREATE TABLE events_2026_11 PARTITION OF events FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')")
	desired := parent + "CREATE TABLE events_2026_11 PARTITION OF events FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');\n"
	path := filepath.Join(t.TempDir(), "schema.sql")
	if err := os.WriteFile(path, []byte(desired), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := source.OpenDesired(path)
	if err != nil {
		t.Fatal(err)
	}
	conn := connOf(t, parseURL(t, u))
	p, want, err := planner.Generate(context.Background(), conn, d, planner.Options{ConcurrentIndexes: true})
	if err != nil {
		t.Fatal(err)
	}
	var later []string
	for _, st := range p.Steps {
		if !st.Transactional {
			later = append(later, st.SQL)
		}
	}
	if len(later) != 2 || later[0] != `ALTER TABLE "public"."events" DETACH PARTITION "public"."events_2026_10" CONCURRENTLY` || later[1] != `DROP TABLE "public"."events_2026_10"` {
		t.Fatalf("statements after the transaction %q, want the detach CONCURRENTLY and the drop", later)
	}
	if err := apply.Apply(context.Background(), conn, p, want, "test", apply.ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if p := planForSQL(t, u, desired); !p.Matches() {
		t.Fatalf("after apply: %d statements, differences %+v:\n%s", len(p.Steps), p.Unplanned, sqlOf(p))
	}
}
