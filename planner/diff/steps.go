// Package diff turns the difference between two schema states into the
// steps of a plan: the engine's changes rendered as SQL (through keel's name
// guard), keel's own statements for extensions and invalid indexes, and the
// hazards of every step, derived from the typed changes and the facts the
// live database gives.
package diff

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// Steps diffs two states and orders the statements: new schemas, then
// extensions, then the engine's changes, then dropped extensions; the
// statements that run outside the transaction come last. drv renders the
// engine's changes (it runs no SQL); facts answer the hazard analysis.
func Steps(ctx context.Context, drv migrate.PlanApplier, facts Facts, from, to *state.State, concurrent bool, t plan.Timeouts) ([]plan.Step, error) {
	// The engine's own differ would compare column defaults by running
	// `SELECT <old> = <new>` on the target: text from the desired state,
	// evaluated there. Both states print their defaults through the same
	// server, so keel compares them as text: DefaultDiff runs no SQL.
	changes, err := postgres.DefaultDiff.RealmDiff(from.Realm, to.Realm)
	if err != nil {
		return nil, fmt.Errorf("computing the difference: %w", err)
	}
	changes = fixColumnChanges(from.Realm, to.Realm, changes)
	var first, rest []schema.Change
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.AddSchema:
			first = append(first, c)
		case *schema.DropSchema:
			// Atlas drops schemas with CASCADE, which would take objects keel
			// does not manage with it. Managed schemas are the desired ones,
			// so this cannot come from a desired state: refuse rather than guess.
			return nil, fmt.Errorf("computing the difference: schema %q would be dropped; keel does not drop schemas", c.S.Name)
		default:
			rest = append(rest, c)
		}
	}
	rest, pieces := splitModify(rest, concurrent)
	before, after := extensionSteps(from.Extensions, to.Extensions)
	var steps []plan.Step
	realms := []*schema.Realm{from.Realm, to.Realm}
	s, err := renderSteps(ctx, drv, first, nil, facts, realms)
	if err != nil {
		return nil, err
	}
	steps = append(append(steps, s...), before...)
	steps = append(steps, invalidIndexSteps(from.Invalid, concurrent)...)
	if s, err = renderSteps(ctx, drv, rest, pieces, facts, realms); err != nil {
		return nil, err
	}
	steps = append(append(steps, s...), after...)
	ordered := make([]plan.Step, 0, len(steps))
	for _, tx := range []bool{true, false} {
		for _, st := range steps {
			if st.Transactional == tx {
				st.LockTimeout, st.StatementTimeout = plan.Duration(t.Lock), plan.Duration(t.Statement)
				ordered = append(ordered, st)
			}
		}
	}
	return ordered, nil
}

// pieceKind tells the pieces splitModify makes apart.
type pieceKind int

const (
	pieceRest  pieceKind = iota // the table's ALTER TABLE and comments
	pieceIndex                  // one index created or dropped
)

// splitModify splits each table modification into one piece per index
// created or dropped (their own statements, maybe CONCURRENTLY) and one for
// the rest, so that every statement maps to the changes behind it.
func splitModify(changes []schema.Change, concurrent bool) ([]schema.Change, map[*schema.ModifyTable]pieceKind) {
	pieces := make(map[*schema.ModifyTable]pieceKind)
	out := make([]schema.Change, 0, len(changes))
	for _, c := range changes {
		m, ok := c.(*schema.ModifyTable)
		if !ok {
			out = append(out, c)
			continue
		}
		var drops, adds, rest []schema.Change
		columnsChange := false
		for _, sub := range m.Changes {
			switch sub.(type) {
			case *schema.DropColumn, *schema.ModifyColumn:
				columnsChange = true
			}
		}
		for _, sub := range m.Changes {
			switch sub := sub.(type) {
			case *schema.AddIndex:
				if isConstraint(sub.I) {
					rest = append(rest, sub)
					continue
				}
				if concurrent {
					sub.Extra = append(sub.Extra, &postgres.Concurrently{})
				}
				adds = append(adds, sub)
			case *schema.DropIndex:
				if isConstraint(sub.I) {
					rest = append(rest, sub)
					continue
				}
				// A column change may drop the index itself; keep it in the transaction then.
				if concurrent && !columnsChange {
					sub.Extra = append(sub.Extra, &postgres.Concurrently{})
				}
				drops = append(drops, sub)
			default:
				rest = append(rest, sub)
			}
		}
		for _, d := range drops {
			p := &schema.ModifyTable{T: m.T, Changes: []schema.Change{d}}
			pieces[p] = pieceIndex
			out = append(out, p)
		}
		if len(rest) > 0 {
			p := &schema.ModifyTable{T: m.T, Changes: rest}
			pieces[p] = pieceRest
			out = append(out, p)
		}
		for _, a := range adds {
			p := &schema.ModifyTable{T: m.T, Changes: []schema.Change{a}}
			pieces[p] = pieceIndex
			out = append(out, p)
		}
	}
	return out, pieces
}

func isConstraint(idx *schema.Index) bool {
	for _, a := range idx.Attrs {
		if c, ok := a.(*postgres.Constraint); ok && (c.IsUnique() || c.IsExclude()) {
			return true
		}
	}
	return false
}

// plan turns engine changes into steps with their hazards.
func renderSteps(ctx context.Context, drv migrate.PlanApplier, changes []schema.Change, pieces map[*schema.ModifyTable]pieceKind, facts Facts, realms []*schema.Realm) ([]plan.Step, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	rendered, err := Render(ctx, drv, changes, realms...)
	if err != nil {
		return nil, fmt.Errorf("planning the changes: %w", err)
	}
	steps := make([]plan.Step, 0, len(rendered))
	seen := make(map[schema.Change]bool)
	for _, c := range rendered {
		st := StepOf(c)
		st.Transactional = true
		m, isModify := c.Source.(*schema.ModifyTable)
		kind, isPiece := pieces[m]
		switch {
		case isModify && isPiece && kind == pieceIndex:
			// The index statement, then maybe its comment: only the first carries hazards.
			if !seen[c.Source] {
				st.Hazards = hazardsOf([]schema.Change{m}, facts)
			}
			st.Transactional = !concurrently(m)
		case isModify && isPiece:
			// Comments of the rest piece: no hazard of their own.
		case c.Source != nil && !seen[c.Source]:
			st.Hazards = hazardsOf([]schema.Change{c.Source}, facts)
		}
		if c.Source != nil {
			seen[c.Source] = true
		}
		steps = append(steps, st)
	}
	return steps, nil
}

func concurrently(m *schema.ModifyTable) bool {
	for _, c := range m.Changes {
		switch c := c.(type) {
		case *schema.AddIndex:
			return hasClause[*postgres.Concurrently](c.Extra)
		case *schema.DropIndex:
			return hasClause[*postgres.Concurrently](c.Extra)
		}
	}
	return false
}

func StepOf(c *migrate.Change) plan.Step {
	s := plan.Step{SQL: strings.TrimSuffix(strings.TrimSpace(c.Cmd), ";"), Comment: c.Comment}
	switch src := c.Source.(type) {
	case *schema.AddSchema:
		s.Action, s.Object = plan.ActionCreate, "schema "+plan.DisplayPart(src.S.Name)
	case *schema.ModifySchema:
		s.Action, s.Object = plan.ActionAlter, "schema "+plan.DisplayPart(src.S.Name)
	case *schema.AddTable:
		s.Action, s.Object = plan.ActionCreate, "table "+state.TableName(src.T)
	case *schema.DropTable:
		s.Action, s.Object = plan.ActionDrop, "table "+state.TableName(src.T)
	case *schema.ModifyTable:
		s.Action, s.Object = plan.ActionAlter, "table "+state.TableName(src.T)
	case *schema.RenameTable:
		s.Action, s.Object = plan.ActionAlter, "table "+state.TableName(src.From)
	case *schema.AddObject:
		s.Action, s.Object = plan.ActionCreate, objectName(src.O)
	case *schema.DropObject:
		s.Action, s.Object = plan.ActionDrop, objectName(src.O)
	case *schema.ModifyObject:
		s.Action, s.Object = plan.ActionAlter, objectName(src.From)
	default:
		s.Action, s.Object = plan.ActionAlter, fmt.Sprintf("%T", c.Source)
	}
	return s
}

func objectName(o schema.Object) string {
	if e, ok := o.(*schema.EnumType); ok {
		return "enum " + state.DisplayName(e.Schema, e.T)
	}
	return fmt.Sprintf("%T", o)
}

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
