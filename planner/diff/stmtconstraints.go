package diff

import (
	"fmt"
	"strconv"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// addConstraint reads ADD [CONSTRAINT name] and a table constraint: the
// hazards are modifyHazards' for the engine's change of that constraint.
func (a *alteration) addConstraint(w *tokens) (command, error) {
	var (
		name string
		err  error
	)
	if w.keyword("CONSTRAINT") {
		if name, err = w.ident(); err != nil {
			return command{}, err
		}
	}
	t, facts := a.rel.schemaTable(), a.r.facts
	q := strconv.Quote(name)
	c := command{prep: "to", action: plan.ActionAlter}
	switch {
	case w.keyword("CHECK"):
		g, err := w.group()
		if err != nil {
			return command{}, err
		}
		c.what = "add check " + q
		c.hazards = modifyHazards(t, &schema.AddCheck{C: &schema.Check{Name: name, Expr: g.text()}, Extra: notValid(w)}, facts)
		a.part(state.CatalogConstraint, name)
	case w.keyword("FOREIGN", "KEY"):
		fk, err := a.foreignKey(w, name)
		if err != nil {
			return command{}, err
		}
		c.what = "add foreign key " + q
		c.hazards = modifyHazards(t, &schema.AddForeignKey{F: fk, Extra: notValid(w)}, facts)
		a.part(state.CatalogConstraint, name)
	case w.upcoming("UNIQUE", "USING", "INDEX"), w.upcoming("PRIMARY", "KEY", "USING", "INDEX"):
		// An existing index becomes the constraint: nothing is built.
		pk := w.keyword("PRIMARY", "KEY", "USING", "INDEX")
		if !pk {
			w.keyword("UNIQUE", "USING", "INDEX")
		}
		idx, err := w.ident()
		if err != nil {
			return command{}, err
		}
		w.rest()
		a.index(idx)
		a.index(name)
		c.what, c.prep = "make index "+strconv.Quote(idx)+" a unique constraint", "in"
		if pk {
			c.what = "make index " + strconv.Quote(idx) + " the primary key"
			a.r.cov.pkeys[a.rel.key()] = true
		}
	case w.keyword("UNIQUE"):
		if !w.keyword("NULLS", "NOT", "DISTINCT") {
			w.keyword("NULLS", "DISTINCT")
		}
		g, err := w.group()
		if err != nil {
			return command{}, err
		}
		w.rest()
		c.what = "add unique constraint " + q
		c.hazards = modifyHazards(t, &schema.AddIndex{I: &schema.Index{Name: name, Unique: true, Table: t, Parts: keyParts(g)}}, facts)
		a.index(name)
	case w.keyword("PRIMARY", "KEY"):
		g, err := w.group()
		if err != nil {
			return command{}, err
		}
		w.rest()
		c.what = "add the primary key"
		c.hazards = modifyHazards(t, &schema.AddPrimaryKey{P: &schema.Index{Name: name, Unique: true, Table: t, Parts: keyParts(g)}}, facts)
		a.r.cov.pkeys[a.rel.key()] = true
		a.part(state.CatalogConstraint, name)
	case w.keyword("EXCLUDE"):
		if w.keyword("USING") {
			if _, err := w.ident(); err != nil {
				return command{}, err
			}
		}
		if _, err := w.group(); err != nil {
			return command{}, err
		}
		w.rest()
		c.what = "add exclusion constraint " + q
		c.hazards = modifyHazards(t, &schema.AddIndex{I: &schema.Index{Name: name, Table: t}}, facts)
		if a.rel.t != nil {
			rows, _ := facts.Size(t)
			c.hazards = append(c.hazards, mayFail("index "+state.TableName(t)+"."+plan.DisplayPart(name), "an exclusion constraint fails if rows conflict under it", nil, rows))
		}
		a.index(name)
	default:
		return command{}, fmt.Errorf("ALTER TABLE ... ADD %s is not a constraint keel reads", w.lead(2))
	}
	if name == "" {
		// PostgreSQL names it: the hazards are of the table.
		c.what = strings.TrimSuffix(c.what, ` ""`)
		for i, h := range c.hazards {
			if strings.HasSuffix(h.Object, `.""`) {
				c.hazards[i].Object = a.rel.object()
			}
		}
	}
	return c, nil
}

// notValid reads what follows a constraint's definition (its timing, NOT
// VALID, NO INHERIT, ...) and reports NOT VALID as the engine's clause.
func notValid(w *tokens) []schema.Clause {
	tail := w.rest()
	for i := 0; i+1 < len(tail.list); i++ {
		if isWord(tail.list[i], "NOT") && isWord(tail.list[i+1], "VALID") {
			return []schema.Clause{&postgres.NotValid{}}
		}
	}
	return nil
}

// foreignKey reads FOREIGN KEY (columns) REFERENCES table [(columns)]; a
// key without referenced columns references the primary key.
func (a *alteration) foreignKey(w *tokens, name string) (*schema.ForeignKey, error) {
	g, err := w.group()
	if err != nil {
		return nil, err
	}
	cols, err := columnList(g)
	if err != nil {
		return nil, err
	}
	if !w.keyword("REFERENCES") {
		return nil, fmt.Errorf("%s where REFERENCES should be", w.here())
	}
	parts, err := w.name(2)
	if err != nil {
		return nil, err
	}
	ref, err := a.r.table(parts)
	if err != nil {
		return nil, err
	}
	fk := &schema.ForeignKey{Symbol: name, Table: a.rel.schemaTable(), RefTable: ref.schemaTable()}
	for _, c := range cols {
		fk.Columns = append(fk.Columns, &schema.Column{Name: c})
	}
	if w.more() && isPunct(w.list[w.at], "(") {
		g, err := w.group()
		if err != nil {
			return nil, err
		}
		refCols, err := columnList(g)
		if err != nil {
			return nil, err
		}
		for _, c := range refCols {
			fk.RefColumns = append(fk.RefColumns, &schema.Column{Name: c})
		}
	} else if ref.t != nil && ref.t.PrimaryKey != nil {
		for _, p := range ref.t.PrimaryKey.Parts {
			if p.C != nil {
				fk.RefColumns = append(fk.RefColumns, &schema.Column{Name: p.C.Name})
			}
		}
	}
	return fk, nil
}

// columnList reads a list of column names.
func columnList(g *tokens) ([]string, error) {
	var cols []string
	for _, it := range g.items() {
		c, err := it.ident()
		if err != nil {
			return nil, err
		}
		if err := it.end(); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// keyParts reads the keys of an index (or a unique constraint or primary
// key) for the hazard analysers: a column, or an expression. A part keel
// cannot tell is left out: the count of duplicates is then not made.
func keyParts(g *tokens) []*schema.IndexPart {
	var parts []*schema.IndexPart
	for _, it := range g.items() {
		if !it.more() {
			return nil
		}
		first := it.list[it.at]
		name := first.Kind == pgsql.QuotedIdent || first.Kind == pgsql.Word && identStart(first.Text[0])
		call := len(it.list) > it.at+1 && (isPunct(it.list[it.at+1], "(") || isPunct(it.list[it.at+1], "."))
		switch {
		case name && !call:
			name, err := it.ident()
			if err != nil {
				return nil
			}
			parts = append(parts, &schema.IndexPart{C: &schema.Column{Name: name}})
		case isPunct(first, "("):
			x, err := it.group()
			if err != nil {
				return nil
			}
			parts = append(parts, &schema.IndexPart{X: &schema.RawExpr{X: x.text()}})
		default:
			// A function call: its name and arguments.
			start := it.at
			if _, err := it.name(3); err != nil {
				return nil
			}
			if _, err := it.group(); err != nil {
				return nil
			}
			call := &tokens{sql: it.sql, list: it.list[start:it.at]}
			parts = append(parts, &schema.IndexPart{X: &schema.RawExpr{X: call.text()}})
		}
	}
	return parts
}

// dropConstraint reads DROP CONSTRAINT. Dropping a primary key or a unique
// constraint that from knows is backward-incompatible.
func (a *alteration) dropConstraint(w *tokens) (command, error) {
	w.keyword("IF", "EXISTS")
	name, err := w.ident()
	if err != nil {
		return command{}, err
	}
	cascade := w.cascade()
	q := strconv.Quote(name)
	obj := "constraint " + plan.DisplayName(a.rel.schema, a.rel.name) + "." + plan.DisplayPart(name)
	c := command{what: "drop constraint " + q, prep: "from", action: plan.ActionAlter}
	t := a.rel.t
	switch {
	case t != nil && t.PrimaryKey != nil && (t.PrimaryKey.Name == name || t.PrimaryKey.Name == "" && name == t.Name+"_pkey"):
		c.what = "drop the primary key " + q
		c.hazards = []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: "primary key " + state.TableName(t),
			Message: "drops the primary key: rows with duplicate keys can be written, and code that relies on the key (ON CONFLICT, foreign keys) breaks"}}
		a.r.cov.pkeys[a.rel.key()] = true
		a.part(state.CatalogConstraint, name)
	case t != nil && backingIndex(t, name) != nil:
		c.hazards = []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj,
			Message: "drops the constraint and its index: rows it kept out can be written, and code that relies on it (ON CONFLICT) breaks"}}
		a.index(name)
	default:
		a.part(state.CatalogConstraint, name)
	}
	if cascade {
		c.hazards = append(c.hazards, cascaded(obj))
	}
	return c, nil
}

// backingIndex is the index of a unique or exclusion constraint of t named
// name, or nil.
func backingIndex(t *schema.Table, name string) *schema.Index {
	idx, ok := t.Index(name)
	if ok && (idx.Unique || isConstraint(idx)) {
		return idx
	}
	return nil
}

// constraintCommand reads ALTER CONSTRAINT and VALIDATE CONSTRAINT: fails
// says how validating may fail ("" when it does not validate).
func (a *alteration) constraintCommand(w *tokens, verb, fails string) (command, error) {
	name, err := w.ident()
	if err != nil {
		return command{}, err
	}
	w.rest()
	c := command{what: verb + " constraint " + strconv.Quote(name), prep: "of", action: plan.ActionAlter}
	if fails != "" && a.rel.t != nil {
		rows, _ := a.r.facts.Size(a.rel.t)
		c.hazards = []plan.Hazard{mayFail("constraint "+state.TableName(a.rel.t)+"."+plan.DisplayPart(name), fails, nil, rows)}
	}
	a.part(state.CatalogConstraint, name)
	return c, nil
}
