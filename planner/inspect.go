package planner

import (
	"fmt"
	"strconv"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"
)

// invalidIndexSteps drop the invalid indexes, so that the plan builds them again.
func invalidIndexSteps(invalid []state.InvalidIndex, concurrent bool) []plan.Step {
	steps := make([]plan.Step, 0, len(invalid))
	for _, ix := range invalid {
		st := plan.Step{
			Action:        plan.ActionDrop,
			Object:        "table " + plan.DisplayName(ix.Schema, ix.Table),
			Comment:       fmt.Sprintf("drop index %s, left INVALID by a failed build, to build it again", strconv.Quote(ix.Name)),
			SQL:           "DROP INDEX IF EXISTS " + pgsql.QuoteQualified(ix.Schema, ix.Name),
			Transactional: true,
		}
		if concurrent {
			st.SQL = "DROP INDEX CONCURRENTLY IF EXISTS " + pgsql.QuoteQualified(ix.Schema, ix.Name)
			st.Transactional = false
			st.Hazards = []plan.Hazard{{Code: plan.HazardNonTransactional, Severity: plan.SeverityInfo, Object: "index " + plan.DisplayName(ix.Schema, ix.Table) + "." + plan.DisplayPart(ix.Name),
				Message: "dropped CONCURRENTLY after the transaction commits"}}
		}
		steps = append(steps, st)
	}
	return steps
}
