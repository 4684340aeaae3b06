package source

import (
	"slices"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
)

// withInherits makes the engine's statements create the tables an HCL
// desired state declares with `inherits` (see state.Inherit) as
// PostgreSQL needs them: each CREATE TABLE of a child gets its INHERITS
// clause, and runs after its parents' (the engine orders tables by their
// foreign keys and names only). The statements that use a table not
// created yet (its indexes, a foreign key to it) wait for it too; the
// others keep the engine's order. A table that cannot be created after
// its parents is an error that names it.
func withInherits(rendered []*migrate.Change, inherits []state.Inherit) ([]*migrate.Change, error) {
	if len(inherits) == 0 {
		return rendered, nil
	}
	byTable := make(map[[2]string]state.Inherit, len(inherits))
	for _, in := range inherits {
		byTable[[2]string{in.Schema, in.Name}] = in
	}
	nameOf := func(t *schema.Table) [2]string {
		if t == nil || t.Schema == nil {
			return [2]string{}
		}
		return [2]string{t.Schema.Name, t.Name}
	}
	// The tables these statements create.
	creates := make(map[[2]string]bool)
	for _, c := range rendered {
		if add, ok := c.Source.(*schema.AddTable); ok {
			creates[nameOf(add.T)] = true
		}
	}
	done := make(map[[2]string]bool)
	ready := func(t [2]string) bool { return !creates[t] || done[t] }
	// needs lists the tables a statement waits for.
	needs := func(c *migrate.Change) [][2]string {
		var out [][2]string
		switch src := c.Source.(type) {
		case *schema.AddTable:
			t := nameOf(src.T)
			if !strings.HasPrefix(c.Cmd, "CREATE TABLE ") {
				out = append(out, t)
			}
			for _, fk := range src.T.ForeignKeys {
				if fk.RefTable != nil && fk.RefTable != src.T {
					out = append(out, nameOf(fk.RefTable))
				}
			}
			out = append(out, byTable[t].Parents...)
		case *schema.ModifyTable:
			out = append(out, nameOf(src.T))
			for _, ch := range src.Changes {
				if fk, ok := ch.(*schema.AddForeignKey); ok && fk.F.RefTable != nil {
					out = append(out, nameOf(fk.F.RefTable))
				}
			}
		}
		return out
	}
	var (
		out     []*migrate.Change
		waiting []*migrate.Change
	)
	// run takes c into out when what it needs is made, and then what
	// waits and can be taken now, in order.
	var take func(c *migrate.Change) bool
	take = func(c *migrate.Change) bool {
		for _, t := range needs(c) {
			if !ready(t) {
				return false
			}
		}
		if add, ok := c.Source.(*schema.AddTable); ok && strings.HasPrefix(c.Cmd, "CREATE TABLE ") {
			t := nameOf(add.T)
			if in, ok := byTable[t]; ok {
				cc := *c
				cc.Cmd = createInheriting(c.Cmd, add.T, in)
				c = &cc
			}
			done[t] = true
		}
		out = append(out, c)
		return true
	}
	for _, c := range rendered {
		if !take(c) {
			waiting = append(waiting, c)
			continue
		}
		for progress := true; progress; {
			progress = false
			for i := 0; i < len(waiting); i++ {
				if take(waiting[i]) {
					waiting = append(waiting[:i], waiting[i+1:]...)
					progress = true
					break
				}
			}
		}
	}
	if len(waiting) > 0 {
		c := waiting[0]
		where := ""
		if add, ok := c.Source.(*schema.AddTable); ok {
			if in, ok := byTable[nameOf(add.T)]; ok {
				where = in.Pos + ": "
			}
		}
		return nil, loadFailed("%sthe desired state does not load into PostgreSQL: %s cannot be created after the tables it needs (its parents, the tables its foreign keys refer to):\n  %s",
			where, plan.OneLine(c.Comment), c.Cmd)
	}
	return out, nil
}

// createInheriting adds the INHERITS clause to the engine's CREATE TABLE of
// a child. A child whose columns all come from its parents gets its
// constraints after an empty column list from the engine: "(, ".
func createInheriting(sql string, t *schema.Table, in state.Inherit) string {
	sql = strings.TrimSuffix(strings.TrimSpace(sql), ";")
	if !strings.HasSuffix(sql, ")") {
		return sql
	}
	if prefix := "CREATE TABLE " + pgsql.QuoteQualified(t.Schema.Name, t.Name) + " (, "; len(t.Columns) == 0 && strings.HasPrefix(sql, prefix) {
		sql = strings.TrimSuffix(prefix, ", ") + sql[len(prefix):]
	}
	return sql + in.Clause()
}

// ownColumnsOnly takes out of the engine's new tables the columns their
// blocks declare with `inherited = true`: they come from the parents with
// INHERITS, and a column in the CREATE TABLE would be the child's own too.
// Their indexes and keys still name them.
func ownColumnsOnly(changes []schema.Change, inherits []state.Inherit) []schema.Change {
	inherited := make(map[[2]string][]string)
	for _, in := range inherits {
		if len(in.Inherited) > 0 {
			inherited[[2]string{in.Schema, in.Name}] = in.Inherited
		}
	}
	if len(inherited) == 0 {
		return changes
	}
	out := make([]schema.Change, len(changes))
	for i, c := range changes {
		out[i] = c
		add, ok := c.(*schema.AddTable)
		if !ok || add.T.Schema == nil || inherited[[2]string{add.T.Schema.Name, add.T.Name}] == nil {
			continue
		}
		names := inherited[[2]string{add.T.Schema.Name, add.T.Name}]
		own := *add.T
		own.Columns = nil
		for _, col := range add.T.Columns {
			if !slices.Contains(names, col.Name) {
				own.Columns = append(own.Columns, col)
			}
		}
		a := *add
		a.T = &own
		out[i] = &a
	}
	return out
}
