package planner_test

import (
	"context"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/diff"
)

// The tables that hash the same in the database and in the desired state
// are left out of the engine's comparison: the plan is the one computed
// with every table compared (as without fingerprints), for a column
// added, a default changed, a foreign key's table changed, a table
// dropped and one created, beside tables that do not change (one with a
// hostile name). Not parallel: it counts the tables left out.
func TestTablesThatHashTheSameAreLeftOutOfTheComparison(t *testing.T) {
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	const live = "CREATE TABLE a (id int PRIMARY KEY, note text DEFAULT 'x');\n" +
		"CREATE TABLE b (id int PRIMARY KEY, a int REFERENCES a (id));\n" +
		"CREATE TABLE \"we\"\"ird\" (id int PRIMARY KEY, \"x\"\"y\" text);\n" +
		"CREATE TABLE c (id int PRIMARY KEY);\n" +
		"CREATE TABLE keep (id int PRIMARY KEY, at timestamptz DEFAULT now());\n"
	pgtest.Exec(t, u, live)
	desired := strings.NewReplacer(
		"note text DEFAULT 'x')", "note text DEFAULT 'y', extra int)",
		"CREATE TABLE c (id int PRIMARY KEY);\n", "CREATE TABLE d (id int PRIMARY KEY, b int REFERENCES b (id));\n",
	).Replace(live)
	conn := connOf(t, parseURL(t, u))
	sqls := func(opts planner.Options) string {
		t.Helper()
		p, _, err := planner.Generate(ctx, conn, desiredSQL(t, desired), opts)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, st := range p.Steps {
			b.WriteString(st.SQL + ";\n")
		}
		return b.String()
	}
	n := diff.TablesLeftOut()
	got := sqls(planner.Options{})
	if left := diff.TablesLeftOut() - n; left < 2 {
		t.Fatalf("%d tables left out of the engine's comparison; want b, we\"ird and keep", left)
	}
	n = diff.TablesLeftOut()
	whole := sqls(planner.Options{NoFingerprints: true})
	if diff.TablesLeftOut() != n {
		t.Fatal("a plan without fingerprints left tables out of the comparison")
	}
	if got != whole {
		t.Fatalf("the plan with tables left out:\n%s\nwith every table compared:\n%s", got, whole)
	}
	for _, want := range []string{`ADD COLUMN "extra"`, `DEFAULT 'y'`, `DROP TABLE "public"."c"`, `CREATE TABLE "public"."d"`} {
		if !strings.Contains(got, want) {
			t.Fatalf("the plan lacks %s:\n%s", want, got)
		}
	}
}
