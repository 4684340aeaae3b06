package diff

import (
	"strings"

	"keel/planner/plan"
	"keel/planner/state"
)

// AtlasSteps is StepsCovering for a plan whose statements for tables, enums
// and schemas the Atlas CLI planned (see StatementSteps): keel adds the
// extensions' around them, as it does around the embedded engine's, the
// schemas first and the statements that run outside the transaction last.
func AtlasSteps(stmts []string, from, to *state.State, facts Facts, t plan.Timeouts) ([]plan.Step, *Coverage, error) {
	planned, cov, err := StatementSteps(stmts, from, facts, t)
	if err != nil {
		return nil, nil, err
	}
	before, after := extensionSteps(from.Extensions, to.Extensions, facts)
	at := 0
	for at < len(planned) && strings.HasPrefix(planned[at].Object, "schema ") && planned[at].Action == plan.ActionCreate {
		at++
	}
	steps := make([]plan.Step, 0, len(planned)+len(before)+len(after))
	steps = append(append(append(steps, planned[:at]...), before...), planned[at:]...)
	steps = append(steps, after...)
	return transactionalFirst(steps, t), cov, nil
}

// ObjectsTablesUse are the statements that create, in an empty database,
// the objects of a catalog that tables use (sequences, domains, types,
// collations, functions), in dependency order: what another engine needs
// in its dev database to read tables that use them.
func ObjectsTablesUse(desired state.Catalog) []plan.Step {
	return PlanObjects(desired, state.Catalog{}, newCoverage()).Early
}
