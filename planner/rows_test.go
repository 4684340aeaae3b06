package planner_test

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/plan"
	"keel/planner/render"
)

// A drop's row count says where it comes from when that is not recent
// statistics: counted (a table never analyzed, small enough to count), or
// from statistics of unknown age (here: the statistics were reset since
// the ANALYZE that made the estimate); an estimate from an ANALYZE just
// run needs no word.
func TestRowEstimatesSayWhereTheyComeFrom(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE fresh (id int)", "INSERT INTO fresh SELECT generate_series(1, 4)",
		"CREATE TABLE reset (id int)", "INSERT INTO reset SELECT generate_series(1, 9)", "ANALYZE reset",
		"SELECT pg_stat_reset_single_table_counters('reset'::regclass)",
		`CREATE TABLE "ana""lyzed" (id int)`, `INSERT INTO "ana""lyzed" SELECT generate_series(1, 7)`, `ANALYZE "ana""lyzed"`)
	p := planForSQL(t, u, "CREATE TABLE kept (id int);\n")
	notes := map[string]string{}
	for _, h := range p.Hazards() {
		if h.Code == plan.HazardDataLoss && h.Rows != nil {
			notes[h.Object] = h.RowsNote
		}
	}
	analyzed, ok := notes[`table public."ana\"lyzed"`]
	if notes["table public.fresh"] != "counted" || notes["table public.reset"] != "from statistics of unknown age" || !ok || analyzed != "" {
		t.Fatalf("row notes %q", notes)
	}
	var b strings.Builder
	if err := render.Text(&b, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "(4 rows, counted, ") || !strings.Contains(b.String(), "(~9 rows, from statistics of unknown age, ") {
		t.Fatalf("the plan does not say where the row counts come from:\n%s", b.String())
	}
}
