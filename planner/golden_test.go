package planner_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/plan"
)

var updatePlans = flag.Bool("update", false, "rewrite testdata/plans/*/plan.golden")

// TestPlanGolden plans each case of testdata/plans: a database made by
// before.sql, the desired state schema.hcl; the plan (each step's action,
// object and hazards, then its SQL) must be plan.golden, and applying it must
// leave nothing to plan.
func TestPlanGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/plans/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases in testdata/plans: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			before, err := os.ReadFile(filepath.Join(dir, "before.sql"))
			if err != nil {
				t.Fatal(err)
			}
			u, _ := pgtest.NewDatabase(t)
			pgtest.Exec(t, u, string(before))
			path := filepath.Join(dir, "schema.hcl")
			p := planFor(t, u, path)
			got := goldenText(p)
			golden := filepath.Join(dir, "plan.golden")
			if *updatePlans {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./planner -run TestPlanGolden -update writes it)", err)
			}
			if got != string(want) {
				t.Fatalf("the plan differs from %s:\n%s", golden, got)
			}
			applyPlan(t, u, p)
			if again := planFor(t, u, path); !again.Empty() {
				t.Fatalf("re-plan is not empty:\n%s", sqlOf(again))
			}
		})
	}
}

// goldenText is a plan without what varies between runs (the database's
// name, table sizes): each step's action, object and hazard codes, its SQL.
func goldenText(p *plan.Plan) string {
	var b strings.Builder
	for i, st := range p.Steps {
		var codes []string
		for _, h := range st.Hazards {
			codes = append(codes, fmt.Sprintf("%s(%s)", h.Code, h.Severity))
		}
		tx := ""
		if !st.Transactional {
			tx = " after the transaction"
		}
		fmt.Fprintf(&b, "-- %d: %s %s%s %s\n%s;\n", i+1, st.Action, st.Object, tx, strings.Join(codes, " "), st.SQL)
	}
	return b.String()
}
