package planner_test

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/plan"
)

// eventsHCL is an events table partitioned by month, with a partition for
// each of the months given ("2026_01": January 2026).
func eventsHCL(months ...string) string {
	var b strings.Builder
	b.WriteString(`schema "public" {}
table "events" {
  schema = schema.public
  column "id" { type = bigint }
  column "at" { type = date }
  primary_key { columns = [column.id, column.at] }
  partition {
    type    = RANGE
    columns = [column.at]
  }
}
`)
	for _, m := range months {
		y, mo, _ := strings.Cut(m, "_")
		ny, nmo := y, mo
		switch mo {
		case "12":
			ny, nmo = "2027", "01"
		default:
			nmo = map[string]string{"01": "02", "02": "03", "03": "04"}[mo]
		}
		b.WriteString(`table "events_` + m + `" {
  schema       = schema.public
  partition_of = table.events
  bound        = "FOR VALUES FROM ('` + y + `-` + mo + `-01') TO ('` + ny + `-` + nmo + `-01')"
}
`)
	}
	return b.String()
}

// The users' case: monthly partitions declared in schema.hcl. Applied to an
// empty database, the parent and its partitions are created; the next
// month in the file plans exactly its CREATE TABLE ... PARTITION OF; the
// oldest left out is dropped with a data-loss hazard; each state re-plans
// empty.
func TestMonthlyPartitionsInHCL(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	apply := func(hcl string) *plan.Plan {
		t.Helper()
		path := writeSchema(t, hcl)
		p := planFor(t, u, path)
		if len(p.Unplanned) > 0 {
			t.Fatalf("differences keel does not plan: %+v\n%s", p.Unplanned, sqlOf(p))
		}
		applyPlan(t, u, p)
		if again := planFor(t, u, path); !again.Matches() {
			t.Fatalf("re-plan after apply: %d statements, differences %+v:\n%s", len(again.Steps), again.Unplanned, sqlOf(again))
		}
		return p
	}
	p := apply(eventsHCL("2026_01", "2026_02"))
	if sql := sqlOf(p); !strings.Contains(sql, `PARTITION BY RANGE ("at")`) ||
		!strings.Contains(sql, `CREATE TABLE "public"."events_2026_01" PARTITION OF "public"."events" FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')`) ||
		!strings.Contains(sql, `CREATE TABLE "public"."events_2026_02" PARTITION OF "public"."events" FOR VALUES FROM ('2026-02-01') TO ('2026-03-01')`) {
		t.Fatalf("first apply:\n%s\nwant the partitioned table and both partitions", sql)
	}
	if n := pgtest.QueryValue[int64](t, u, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass"); n != 2 {
		t.Fatalf("%d partitions of events, want 2", n)
	}
	pgtest.Exec(t, u, "INSERT INTO events SELECT i, date '2026-01-01' + (i % 50) FROM generate_series(1, 40) i", "ANALYZE events_2026_01, events_2026_02")

	p = apply(eventsHCL("2026_01", "2026_02", "2026_03"))
	want := `CREATE TABLE "public"."events_2026_03" PARTITION OF "public"."events" FOR VALUES FROM ('2026-03-01') TO ('2026-04-01')`
	if len(p.Steps) != 1 || strings.TrimSpace(p.Steps[0].SQL) != want || len(p.Hazards()) != 0 {
		t.Fatalf("next month: %d statements, hazards %+v:\n%s\nwant exactly %s", len(p.Steps), p.Hazards(), sqlOf(p), want)
	}

	p = apply(eventsHCL("2026_02", "2026_03"))
	h := hazardOf(p, plan.HazardDataLoss)
	if len(p.Steps) != 1 || strings.TrimSpace(p.Steps[0].SQL) != `DROP TABLE "public"."events_2026_01"` ||
		h == nil || h.Object != "table public.events_2026_01" {
		t.Fatalf("oldest month dropped: %d statements, hazards %+v:\n%s\nwant DROP TABLE of events_2026_01 with a data-loss hazard", len(p.Steps), p.Hazards(), sqlOf(p))
	}
}
