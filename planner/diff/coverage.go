package diff

import (
	"strings"

	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
)

// Coverage tells which objects of a catalog the statements of a plan
// change: a difference the catalog shows on any other object is one the
// plan does not account for. It is built from the engine's changes behind
// the statements that were rendered, so a change the engine makes without a
// statement covers nothing.
type Coverage struct {
	keys  map[state.CatalogKey]bool
	whole map[state.CatalogKey]bool // tables and enums created, dropped or renamed
	pkeys map[state.CatalogKey]bool // tables whose primary key changes
	drops map[state.CatalogKey]bool // tables that lose a column
	// tables whose parts are in keys
	tables map[state.CatalogKey]bool
	// inherits are the INHERITS clauses of the tables the engine creates
	// that inherit from others (see inheritingTables).
	inherits map[*schema.Table]string
	// only are the column drops rendered as ALTER TABLE ONLY (see
	// columnsLeftToChildren).
	only map[schema.Change]bool
	// rls are the tables whose row-level security the plan changes.
	rls map[state.CatalogKey]bool
	// parents are the tables those new tables inherit from.
	parents map[*schema.Table][]state.CatalogKey
	// engine reports whether the engine's desired schema has a constraint
	// (nil: not known): one it does not model is not created by its
	// statements.
	engine func(k state.CatalogKey, desc string) bool
}

// engineConstraints returns a function that tells whether the realm has a
// constraint of a catalog: a primary key, foreign key, check, or a unique
// or exclusion constraint (the engine models these as indexes).
func engineConstraints(r *schema.Realm) func(state.CatalogKey, string) bool {
	// The tables by name, per schema, indexed at the first question (the
	// realm is as it was given by then: the diff has put it back).
	indexed := make(map[string]map[string]*schema.Table)
	return func(k state.CatalogKey, desc string) bool {
		tables, ok := indexed[k.Schema]
		if !ok {
			if s, found := r.Schema(k.Schema); found {
				tables = tablesOf(s)
			}
			indexed[k.Schema] = tables
		}
		t, ok := tables[k.Table]
		if !ok {
			return false
		}
		if strings.HasPrefix(desc, "PRIMARY KEY") {
			// A state read back from HCL has no name for it.
			return t.PrimaryKey != nil
		}
		if _, ok := t.ForeignKey(k.Name); ok {
			return true
		}
		if _, ok := t.Index(k.Name); ok {
			return true
		}
		for _, a := range t.Attrs {
			if c, ok := a.(*schema.Check); ok && c.Name == k.Name {
				return true
			}
		}
		return false
	}
}

func newCoverage() *Coverage {
	return &Coverage{keys: map[state.CatalogKey]bool{}, whole: map[state.CatalogKey]bool{}, pkeys: map[state.CatalogKey]bool{}, drops: map[state.CatalogKey]bool{},
		tables: map[state.CatalogKey]bool{}, inherits: map[*schema.Table]string{}, parents: map[*schema.Table][]state.CatalogKey{}, rls: map[state.CatalogKey]bool{}, only: map[schema.Change]bool{}}
}

// Covers reports whether a statement of the plan changes d's object.
func (c *Coverage) Covers(d state.CatalogDifference) bool {
	k := d.Key
	if IsObjectKind(k.Kind) {
		// Planned by PlanObjects, which records each one.
		return c.keys[k]
	}
	if k.Kind == state.CatalogTable && c.rls[k] && !c.whole[k] && withoutRLS(d.Desired) == withoutRLS(d.Live) {
		return true
	}
	if c.keys[k] || c.whole[k.Owner()] {
		return true
	}
	// PostgreSQL drops the constraints and indexes of a dropped column with
	// it: one the desired state does not have goes with the column, as far
	// as a plan can tell (the apply checks the result).
	if c.drops[k.Owner()] && d.Desired == "" && (k.Kind == state.CatalogConstraint || k.Kind == state.CatalogIndex) {
		return true
	}
	if c.pkeys[k.Owner()] {
		switch k.Kind {
		case state.CatalogConstraint:
			return strings.HasPrefix(d.Desired, "PRIMARY KEY") || strings.HasPrefix(d.Live, "PRIMARY KEY")
		case state.CatalogIndex:
			return strings.HasPrefix(d.Desired, "primary key:") || strings.HasPrefix(d.Live, "primary key:")
		}
	}
	return false
}

// Unplanned returns the differences the plan does not account for.
func (c *Coverage) Unplanned(diffs []state.CatalogDifference) []state.CatalogDifference {
	var out []state.CatalogDifference
	for _, d := range diffs {
		if !c.Covers(d) {
			out = append(out, d)
		}
	}
	return out
}

func tableKey(t *schema.Table) state.CatalogKey {
	return state.CatalogKey{Kind: state.CatalogTable, Schema: schemaOf(t.Schema), Name: t.Name}
}

func schemaOf(s *schema.Schema) string {
	if s == nil {
		return ""
	}
	return s.Name
}

func (c *Coverage) part(t state.CatalogKey, kind, name string) {
	c.keys[state.CatalogKey{Kind: kind, Schema: t.Schema, Table: t.Name, Name: name}] = true
	c.tables[t] = true
}

// touched reports whether the engine's statements change any column,
// constraint or index of table t, or the table as a whole.
func (c *Coverage) touched(t state.CatalogKey) bool {
	return c.tables[t] || c.whole[t] || c.pkeys[t]
}

// index covers an index and the constraint it may back (unique).
func (c *Coverage) index(t state.CatalogKey, idx *schema.Index) {
	if idx != nil {
		c.part(t, state.CatalogIndex, idx.Name)
		c.part(t, state.CatalogConstraint, idx.Name)
	}
}

// add records the objects the rendered change r changes.
func (c *Coverage) add(r *migrate.Change) {
	switch src := r.Source.(type) {
	case *schema.AddTable:
		c.whole[tableKey(src.T)] = true
	case *schema.DropTable:
		c.whole[tableKey(src.T)] = true
	case *schema.RenameTable:
		c.whole[tableKey(src.From)] = true
		c.whole[tableKey(src.To)] = true
	case *schema.ModifyTable:
		c.table(tableKey(src.T), src.Changes)
	case *schema.AddObject:
		c.object(src.O)
	case *schema.DropObject:
		c.object(src.O)
	case *schema.ModifyObject:
		c.object(src.From)
		c.object(src.To)
	case nil:
		// A statement the engine left without its change (ALTER TYPE ...
		// ADD VALUE): the object it names.
		if kind, sc, name, ok := plan.ParseObject(StepOf(r).Object); ok && (kind == state.CatalogEnum || kind == state.CatalogTable) {
			c.whole[state.CatalogKey{Kind: kind, Schema: sc, Name: name}] = true
		}
	}
}

func (c *Coverage) object(o schema.Object) {
	if e, ok := o.(*schema.EnumType); ok {
		c.whole[state.CatalogKey{Kind: state.CatalogEnum, Schema: schemaOf(e.Schema), Name: e.T}] = true
	}
}

// table records the objects of table t that changes change.
func (c *Coverage) table(t state.CatalogKey, changes []schema.Change) {
	for _, ch := range changes {
		switch ch := ch.(type) {
		case *schema.AddColumn:
			c.part(t, state.CatalogColumn, ch.C.Name)
		case *schema.DropColumn:
			c.part(t, state.CatalogColumn, ch.C.Name)
			c.drops[t] = true
		case *schema.ModifyColumn:
			c.part(t, state.CatalogColumn, ch.From.Name)
			c.part(t, state.CatalogColumn, ch.To.Name)
		case *schema.RenameColumn:
			c.part(t, state.CatalogColumn, ch.From.Name)
			c.part(t, state.CatalogColumn, ch.To.Name)
		case *schema.AddIndex:
			c.index(t, ch.I)
		case *schema.DropIndex:
			c.index(t, ch.I)
		case *schema.ModifyIndex:
			c.index(t, ch.From)
			c.index(t, ch.To)
		case *schema.RenameIndex:
			c.index(t, ch.From)
			c.index(t, ch.To)
		case *schema.AddPrimaryKey, *schema.DropPrimaryKey, *schema.ModifyPrimaryKey:
			c.pkeys[t] = true
		case *schema.AddForeignKey:
			c.part(t, state.CatalogConstraint, ch.F.Symbol)
		case *schema.DropForeignKey:
			c.part(t, state.CatalogConstraint, ch.F.Symbol)
		case *schema.ModifyForeignKey:
			c.part(t, state.CatalogConstraint, ch.From.Symbol)
			c.part(t, state.CatalogConstraint, ch.To.Symbol)
		case *schema.AddCheck:
			c.part(t, state.CatalogConstraint, ch.C.Name)
		case *schema.DropCheck:
			c.part(t, state.CatalogConstraint, ch.C.Name)
		case *schema.ModifyCheck:
			c.part(t, state.CatalogConstraint, ch.From.Name)
			c.part(t, state.CatalogConstraint, ch.To.Name)
		default:
			// Attributes of the table itself (its comment, ...).
			c.keys[t] = true
		}
	}
}

// withoutRLS is a table's description without its row-level security.
func withoutRLS(desc string) string {
	desc = strings.Replace(desc, " force row level security", "", 1)
	return strings.Replace(desc, " row level security", "", 1)
}
