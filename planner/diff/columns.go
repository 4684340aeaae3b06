package diff

import (
	"fmt"
	"slices"
	"strconv"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// The engine cannot plan some column changes that PostgreSQL can make: a
// column that becomes an identity column or stops being one (it fails
// with "unexpected attribute change"), and a column that becomes generated
// or whose generation expression changes (it refuses: "drop and add is
// required"). keel plans them itself.

// regenerated finds the columns of from that the desired state has as
// generated columns, with another expression or none before: they are
// dropped and added again. It takes them (and the indexes and foreign keys
// on them, which PostgreSQL drops with them) out of from's tables, so that
// the engine adds them, and returns the statements that drop them, and a
// function that puts from back as it was.
func regenerated(from, to *schema.Realm, facts Facts) (drops []plan.Step, restore func()) {
	var undo []func()
	restore = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	columnPairs(from, to, func(t1, _ *schema.Table, c1, c2 *schema.Column) {
		x2, generated := generatedExpr(c2)
		if !generated {
			return
		}
		if x1, had := generatedExpr(c1); had && x1 == x2 {
			return
		}
		t, cols, idxs, fks := t1, t1.Columns, t1.Indexes, t1.ForeignKeys
		undo = append(undo, func() { t.Columns, t.Indexes, t.ForeignKeys = cols, idxs, fks })
		t1.Columns = without(t1.Columns, func(c *schema.Column) bool { return c == c1 })
		t1.Indexes = without(t1.Indexes, func(i *schema.Index) bool { return usesColumn(i.Parts, c1) })
		t1.ForeignKeys = without(t1.ForeignKeys, func(f *schema.ForeignKey) bool { return slices.Contains(f.Columns, c1) })
		obj := columnName(t1, c1)
		rows, bytes := facts.Size(t1)
		drops = append(drops, plan.Step{
			SQL:     "ALTER TABLE " + pgsql.QuoteQualified(t1.Schema.Name, t1.Name) + " DROP COLUMN " + pgsql.QuoteIdent(c1.Name),
			Comment: fmt.Sprintf("drop column %s to add it again as a generated column (PostgreSQL cannot make a column generated)", plan.DisplayPart(c1.Name)),
			Action:  plan.ActionAlter, Object: "table " + state.TableName(t1), Transactional: true,
			Hazards: []plan.Hazard{{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: obj,
				Message: "drops the column's values: the generated column computes them again from its expression", Rows: rows, Bytes: bytes}},
		})
	})
	return drops, restore
}

// generatedExpr is the expression of a generated column.
func generatedExpr(c *schema.Column) (string, bool) {
	for _, a := range c.Attrs {
		if x, ok := a.(*schema.GeneratedExpr); ok {
			return x.Expr, true
		}
	}
	return "", false
}

func without[T any](list []T, drop func(T) bool) []T {
	out := make([]T, 0, len(list))
	for _, x := range list {
		if !drop(x) {
			out = append(out, x)
		}
	}
	return out
}

func usesColumn(parts []*schema.IndexPart, c *schema.Column) bool {
	for _, p := range parts {
		if p.C == c {
			return true
		}
	}
	return false
}

// identityChanges takes out of the engine's column changes the identities
// added to or dropped from existing columns, and returns the statements
// that make them: the drops run before the engine's statements (a default
// may take the identity's place), the additions after (they need the
// column NOT NULL and without a default). cov records the columns.
func identityChanges(changes []schema.Change, facts Facts, cov *Coverage) (out []schema.Change, before, after []plan.Step) {
	for _, c := range changes {
		m, ok := c.(*schema.ModifyTable)
		if !ok {
			out = append(out, c)
			continue
		}
		kept := m.Changes[:0:0]
		for _, ch := range m.Changes {
			mc, ok := ch.(*schema.ModifyColumn)
			if !ok || !mc.Change.Is(schema.ChangeAttr) {
				kept = append(kept, ch)
				continue
			}
			_, hadIdentity := identityOf(mc.From)
			to, hasIdentity := identityOf(mc.To)
			if hadIdentity == hasIdentity {
				kept = append(kept, ch)
				continue
			}
			column := "ALTER TABLE " + pgsql.QuoteQualified(m.T.Schema.Name, m.T.Name) + " ALTER COLUMN " + pgsql.QuoteIdent(mc.To.Name)
			obj := columnName(m.T, mc.To)
			st := plan.Step{Action: plan.ActionAlter, Object: "table " + state.TableName(m.T), Transactional: true}
			if hasIdentity {
				gen := "BY DEFAULT"
				if to.Generation == "ALWAYS" {
					gen = "ALWAYS"
				}
				start, incr := int64(1), int64(1)
				if to.Sequence != nil {
					start, incr = to.Sequence.Start, to.Sequence.Increment
				}
				st.SQL = column + " ADD GENERATED " + gen + " AS IDENTITY (START WITH " + strconv.FormatInt(start, 10) + " INCREMENT BY " + strconv.FormatInt(incr, 10) + ")"
				st.Comment = "make column " + plan.DisplayPart(mc.To.Name) + " an identity column"
				rows, _ := facts.Size(m.T)
				st.Hazards = []plan.Hazard{{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj, Rows: rows,
					Message: "the identity's sequence starts at " + strconv.FormatInt(start, 10) + " whatever values the column holds: inserts fail on duplicates until it is restarted past them (ALTER COLUMN ... RESTART WITH)"}}
				after = append(after, st)
			} else {
				st.SQL = column + " DROP IDENTITY"
				st.Comment = "column " + plan.DisplayPart(mc.To.Name) + " stops being an identity column"
				st.Hazards = []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj,
					Message: "inserts that leave the column out no longer get a value from the identity's sequence"}}
				before = append(before, st)
			}
			cov.part(tableKey(m.T), state.CatalogColumn, mc.To.Name)
			if mc.Change &^= schema.ChangeAttr; mc.Change != schema.NoChange {
				kept = append(kept, mc)
			}
		}
		if len(kept) > 0 || len(m.Changes) == 0 {
			m.Changes = kept
			out = append(out, m)
		}
	}
	return out, before, after
}

func identityOf(c *schema.Column) (*postgres.Identity, bool) {
	for _, a := range c.Attrs {
		if id, ok := a.(*postgres.Identity); ok {
			return id, true
		}
	}
	return nil, false
}
