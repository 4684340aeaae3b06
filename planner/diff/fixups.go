package diff

import (
	"keel/internal/pgsql"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// fixColumnChanges completes the engine's column changes where it falls
// short of what PostgreSQL needs:
//   - a change of a column's collation, which the engine does not compare,
//     becomes a type change (ALTER COLUMN ... TYPE ... COLLATE ...), and so
//     does a column switched between two user-defined types (domains,
//     composite types), which the engine does not compare either;
//   - a type change of a column with a `using` attribute (using, from the
//     desired state) converts with the user's expression (USING expr);
//   - else a type change to an enum converts through text (USING
//     col::text::enum), as PostgreSQL casts neither another enum nor text
//     to an enum implicitly.
//
// A `using` applies only where the engine found the type changed: a change
// of the collation alone keeps the values, and the user's conversion is
// for another type.
func fixColumnChanges(from, to *schema.Realm, using map[state.CatalogKey]state.Conversion, changes []schema.Change) []schema.Change {
	modified := make(map[*schema.Table]*schema.ModifyTable)
	retyped := make(map[*schema.ModifyColumn]bool)
	for _, c := range changes {
		if m, ok := c.(*schema.ModifyTable); ok {
			modified[m.T] = m
			for _, c := range m.Changes {
				if mc, ok := c.(*schema.ModifyColumn); ok && mc.Change.Is(schema.ChangeType) {
					retyped[mc] = true
				}
			}
		}
	}
	columnPairs(from, to, func(_, t2 *schema.Table, c1, c2 *schema.Column) {
		if collation(c1) == collation(c2) && !otherUserType(c1, c2) {
			return
		}
		m := modified[t2]
		if m == nil {
			m = &schema.ModifyTable{T: t2}
			modified[t2] = m
			changes = append(changes, m)
		}
		if mc := findModifyColumn(m, c2.Name); mc != nil {
			mc.Change |= schema.ChangeType
		} else {
			m.Changes = append(m.Changes, &schema.ModifyColumn{From: c1, To: c2, Change: schema.ChangeType})
		}
	})
	for _, m := range modified {
		for _, c := range m.Changes {
			mc, ok := c.(*schema.ModifyColumn)
			if !ok || !mc.Change.Is(schema.ChangeType) {
				continue
			}
			if u, ok := using[columnKey(m.T, mc.To)]; ok && retyped[mc] {
				mc.Extra = append(mc.Extra, &postgres.ConvertUsing{X: u.Expr})
			} else if e, ok := mc.To.Type.Type.(*schema.EnumType); ok {
				mc.Extra = append(mc.Extra, &postgres.ConvertUsing{X: pgsql.QuoteIdent(mc.To.Name) + "::text::" + enumName(e, m.T)})
			}
		}
	}
	return changes
}

// columnKey names a column as State.Using does.
func columnKey(t *schema.Table, c *schema.Column) state.CatalogKey {
	k := state.CatalogKey{Kind: state.CatalogColumn, Table: t.Name, Name: c.Name}
	if t.Schema != nil {
		k.Schema = t.Schema.Name
	}
	return k
}

func collation(c *schema.Column) string {
	var coll schema.Collation
	for _, a := range c.Attrs {
		if x, ok := a.(*schema.Collation); ok {
			coll = *x
		}
	}
	return coll.V
}

func findModifyColumn(m *schema.ModifyTable, name string) *schema.ModifyColumn {
	for _, c := range m.Changes {
		if mc, ok := c.(*schema.ModifyColumn); ok && mc.To.Name == name {
			return mc
		}
	}
	return nil
}

// enumName is the enum's schema-qualified, quoted name.
func enumName(e *schema.EnumType, t *schema.Table) string {
	switch {
	case e.Schema != nil:
		return pgsql.QuoteIdent(e.Schema.Name) + "." + pgsql.QuoteIdent(e.T)
	case t.Schema != nil:
		return pgsql.QuoteIdent(t.Schema.Name) + "." + pgsql.QuoteIdent(e.T)
	}
	return pgsql.QuoteIdent(e.T)
}

// columnPairs calls fn with each column of to's tables that from's table of
// the same schema and name has too, and both tables.
func columnPairs(from, to *schema.Realm, fn func(t1, t2 *schema.Table, c1, c2 *schema.Column)) {
	for _, s2 := range to.Schemas {
		s1, ok := from.Schema(s2.Name)
		if !ok {
			continue
		}
		tables := tablesOf(s1)
		for _, t2 := range s2.Tables {
			t1, ok := tables[t2.Name]
			if !ok {
				continue
			}
			for _, c2 := range t2.Columns {
				if c1, ok := t1.Column(c2.Name); ok {
					fn(t1, t2, c1, c2)
				}
			}
		}
	}
}

// tablesOf indexes a schema's tables by name, as Schema.Table finds them
// (the first of a name), which walks them all: a lookup for each table of
// a large schema took n² comparisons.
func tablesOf(s *schema.Schema) map[string]*schema.Table {
	m := make(map[string]*schema.Table, len(s.Tables))
	for _, t := range s.Tables {
		if _, ok := m[t.Name]; !ok {
			m[t.Name] = t
		}
	}
	return m
}

// otherUserType reports whether two columns have user-defined types
// (domains, composite types) of different names.
func otherUserType(c1, c2 *schema.Column) bool {
	u1, ok1 := c1.Type.Type.(*postgres.UserDefinedType)
	u2, ok2 := c2.Type.Type.(*postgres.UserDefinedType)
	return ok1 && ok2 && u1.T != u2.T
}
