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
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
)

// planForSQL plans the desired state of a SQL file against the database.
func planForSQL(t *testing.T, dbURL, sql string) *plan.Plan {
	t.Helper()
	return generate(t, dbURL, desiredSQL(t, sql))
}

// desiredSQL is the desired state of a SQL file holding sql.
func desiredSQL(t *testing.T, sql string) source.Desired {
	t.Helper()
	path := filepath.Join(t.TempDir(), "schema.sql")
	if err := os.WriteFile(path, []byte(sql), 0o644); err != nil {
		t.Fatal(err)
	}
	desired, err := source.OpenDesired(path)
	if err != nil {
		t.Fatal(err)
	}
	return desired
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

// A table whose partitioning changes (plain to partitioned, and back) is
// dropped and created again, with the data-loss hazard naming its rows and
// the reason in the step; a table whose partitions or foreign keys would go
// with it is refused, naming them, and the database is left as it was.
func TestPartitioningChangeRecreatesTable(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE readings (id int NOT NULL, at date NOT NULL)",
		"CREATE TABLE totals (at date NOT NULL) PARTITION BY RANGE (at)",
		"INSERT INTO readings SELECT i, date '2026-01-01' FROM generate_series(1, 7) i", "ANALYZE readings")
	desired := "CREATE TABLE readings (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);\n" +
		"CREATE TABLE readings_2026 PARTITION OF readings FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n" +
		"CREATE TABLE totals (at date NOT NULL);\n"
	p := planForSQL(t, u, desired)
	sql := sqlOf(p)
	why := 0
	for _, st := range p.Steps {
		if st.Action == plan.ActionDrop && strings.Contains(st.Comment, "its partitioning changes") {
			why++
		}
	}
	if len(p.Unplanned) > 0 || !strings.Contains(sql, `DROP TABLE "public"."readings"`) || !strings.Contains(sql, `DROP TABLE "public"."totals"`) || why != 2 {
		t.Fatalf("statements:\n%s\ndifferences %+v; want readings and totals dropped and created again, saying why", sql, p.Unplanned)
	}
	lost := hazardOf(p, plan.HazardDataLoss)
	if lost == nil || lost.Rows == nil || *lost.Rows != 7 || lost.Object != "table public.readings" {
		t.Fatalf("hazards %+v: want data-loss for readings' 7 rows first", p.Hazards())
	}
	applyPlan(t, u, p)
	if p := planForSQL(t, u, desired); !p.Matches() {
		t.Fatalf("after apply: differences %+v:\n%s", p.Unplanned, sqlOf(p))
	}

	// Back to plain: readings has a partition now, which would go with it;
	// refs has a foreign key pointing at it.
	pgtest.Exec(t, u, "CREATE TABLE refs (id int PRIMARY KEY)", "CREATE TABLE uses (r int CONSTRAINT uses_r REFERENCES refs)")
	before := pgtest.DumpSchema(t, u)
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ desired, want string }{
		{"CREATE TABLE readings (id int NOT NULL, at date NOT NULL);\nCREATE TABLE totals (at date NOT NULL);\n" +
			"CREATE TABLE refs (id int PRIMARY KEY);\nCREATE TABLE uses (r int CONSTRAINT uses_r REFERENCES refs);\n",
			"table public.readings changes, which PostgreSQL cannot do in place: keel would drop the table and create it again, but partition public.readings_2026"},
		{desired + "CREATE TABLE refs (id int PRIMARY KEY) PARTITION BY HASH (id);\nCREATE TABLE uses (r int CONSTRAINT uses_r REFERENCES refs);\n",
			"but foreign key uses_r of table public.uses references it"},
	} {
		_, _, err = planner.Generate(context.Background(), connOf(t, db), open(t, writeFile(t, "schema.sql", c.desired)), planner.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("err = %v; want a refusal with %q", err, c.want)
		}
	}
	if after := pgtest.DumpSchema(t, u); after != before {
		t.Fatalf("the database changed:\n%s", after)
	}
}
