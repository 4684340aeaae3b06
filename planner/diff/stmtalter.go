package diff

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// alterTable reads ALTER TABLE: a rename, or sub-commands, each read on
// its own. The step's hazards are theirs; its object is the table, as the
// embedded engine's steps name it.
func (r *statementReader) alterTable(w *tokens, st *plan.Step) error {
	w.keyword("IF", "EXISTS")
	only := w.keyword("ONLY")
	parts, err := w.name(2)
	if err != nil {
		return err
	}
	rel, err := r.table(parts)
	if err != nil {
		return err
	}
	if !only {
		w.punct("*")
	}
	a := &alteration{r: r, rel: rel, only: only}
	var cmds []command
	if w.keyword("RENAME") {
		c, err := a.rename(w)
		if err != nil {
			return err
		}
		cmds = append(cmds, c)
	} else {
		items := w.items()
		if len(items) == 0 {
			return errors.New("it names no change of the table")
		}
		for _, it := range items {
			c, err := a.command(it)
			if err != nil {
				return err
			}
			cmds = append(cmds, c)
		}
	}
	// As the embedded engine's steps: the table is altered, whatever the
	// sub-commands (the plan's summary and the doctor's privileges count
	// tables).
	st.Action, st.Object = plan.ActionAlter, rel.object()
	whats := make([]string, len(cmds))
	for i, c := range cmds {
		whats[i] = c.what
		st.Hazards = append(st.Hazards, c.hazards...)
	}
	switch {
	case len(cmds) == 1 && cmds[0].comment != "":
		st.Comment = cmds[0].comment
	case len(cmds) == 1:
		st.Comment = cmds[0].what + " " + cmds[0].prep + " table " + plan.DisplayName(rel.schema, rel.name)
	default:
		st.Comment = "alter table " + plan.DisplayName(rel.schema, rel.name) + ": " + strings.Join(whats, ", ")
	}
	return nil
}

// alteration is an ALTER TABLE statement being read.
type alteration struct {
	r    *statementReader
	rel  relation
	only bool // ALTER TABLE ONLY: not the table's children
}

// command is what one sub-command of ALTER TABLE does.
type command struct {
	what    string // in words: `add column "nickname"`
	prep    string // what joins the table to it in a comment: "to", "from", "in"
	comment string // the step's comment, when it is not what, prep and the table
	column  string // the column it changes, if it is about one
	action  plan.Action
	hazards []plan.Hazard
}

// part records a column, constraint or setting of the table as changed;
// one PostgreSQL names ("") cannot be.
func (a *alteration) part(kind, name string) {
	if name != "" {
		a.r.cov.part(a.rel.key(), kind, name)
	}
}

// index records an index of the table, and the constraint it may back, as
// changed.
func (a *alteration) index(name string) {
	if name != "" {
		a.r.cov.index(a.rel.key(), &schema.Index{Name: name})
	}
}

// command reads one sub-command of ALTER TABLE.
func (a *alteration) command(w *tokens) (command, error) {
	var (
		c   command
		err error
	)
	switch {
	case !w.more():
		return command{}, errors.New("it has an empty change between its commas")
	case w.keyword("ADD", "COLUMN"):
		c, err = a.addColumn(w)
	case w.upcoming("ADD", "CONSTRAINT"), w.upcoming("ADD", "CHECK"), w.upcoming("ADD", "FOREIGN"),
		w.upcoming("ADD", "UNIQUE"), w.upcoming("ADD", "PRIMARY"), w.upcoming("ADD", "EXCLUDE"):
		w.keyword("ADD")
		c, err = a.addConstraint(w)
	case w.keyword("ADD"):
		c, err = a.addColumn(w)
	case w.keyword("DROP", "CONSTRAINT"):
		c, err = a.dropConstraint(w)
	case w.keyword("DROP"):
		w.keyword("COLUMN")
		c, err = a.dropColumn(w)
	case w.keyword("ALTER", "CONSTRAINT"):
		c, err = a.constraintCommand(w, "change", "")
	case w.keyword("VALIDATE", "CONSTRAINT"):
		c, err = a.constraintCommand(w, "validate", "fails on rows that violate the constraint")
	case w.keyword("ALTER"):
		w.keyword("COLUMN")
		c, err = a.alterColumn(w)
	default:
		return command{}, fmt.Errorf("ALTER TABLE ... %s is not a change keel reads", w.lead(2))
	}
	if err != nil {
		return command{}, err
	}
	if err := w.end(); err != nil {
		return command{}, err
	}
	c.hazards = a.rel.rowless(c.hazards)
	return c, nil
}

// columnWords end a column's type in its definition, and a default.
var columnWords = []string{"NOT", "NULL", "DEFAULT", "COLLATE", "GENERATED", "CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "REFERENCES"}

// addColumn reads ADD COLUMN: the engine's column definition (type, NOT
// NULL, DEFAULT, COLLATE, identity or generation).
func (a *alteration) addColumn(w *tokens) (command, error) {
	w.keyword("IF", "NOT", "EXISTS")
	name, err := w.ident()
	if err != nil {
		return command{}, err
	}
	typ := w.until(func(_ *pgsql.Token, t pgsql.Token) bool { return isAnyWord(t, columnWords...) })
	if !typ.more() {
		return command{}, fmt.Errorf("column %s has no type", strconv.Quote(name))
	}
	col := &schema.Column{Name: name, Type: &schema.ColumnType{Null: true, Type: parsedType(typ)}}
	for w.more() {
		switch {
		case w.keyword("NOT", "NULL"):
			col.Type.Null = false
		case w.keyword("NULL"):
		case w.keyword("DEFAULT"):
			x := defaultExpr(w)
			if !x.more() {
				return command{}, fmt.Errorf("the default of column %s is empty", strconv.Quote(name))
			}
			col.Default = &schema.RawExpr{X: x.text()}
		case w.keyword("COLLATE"):
			if _, err := w.name(2); err != nil {
				return command{}, err
			}
		case w.keyword("GENERATED", "ALWAYS", "AS", "IDENTITY"), w.keyword("GENERATED", "BY", "DEFAULT", "AS", "IDENTITY"):
			col.Attrs = append(col.Attrs, &postgres.Identity{})
			if w.more() && isPunct(w.list[w.at], "(") {
				if _, err := w.group(); err != nil {
					return command{}, err
				}
			}
		case w.keyword("GENERATED", "ALWAYS", "AS"):
			g, err := w.group()
			if err != nil {
				return command{}, err
			}
			if !w.keyword("STORED") {
				return command{}, fmt.Errorf("%s where STORED should be", w.here())
			}
			col.Attrs = append(col.Attrs, &schema.GeneratedExpr{Expr: g.text()})
		case w.keyword("CONSTRAINT"):
			if _, err := w.ident(); err != nil {
				return command{}, err
			}
		default:
			return command{}, fmt.Errorf("column %s is added with %s, which keel does not read in a column's definition (the engine writes constraints on their own)", strconv.Quote(name), w.lead(2))
		}
	}
	t := a.rel.schemaTable()
	var hs []plan.Hazard
	if _, serial := col.Type.Type.(*postgres.SerialType); serial && col.Default == nil {
		// A serial column's default is nextval(), which fills every row.
		rows, bytes := a.r.facts.Size(t)
		hs = append(hs, plan.Hazard{Code: plan.HazardTableRewrite, Severity: plan.SeverityWarning, Object: columnName(t, col),
			Message: "a serial column's default calls nextval(), a volatile function, so every row is rewritten", Rows: rows, Bytes: bytes})
		col.Default = &schema.RawExpr{X: "nextval()"}
	}
	hs = append(hs, modifyHazards(t, &schema.AddColumn{C: col}, a.r.facts)...)
	a.part(state.CatalogColumn, name)
	return command{what: "add column " + strconv.Quote(name), prep: "to", column: name, action: plan.ActionCreate, hazards: hs}, nil
}

// defaultExpr reads a column's default: up to the next part of the
// column's definition (NOT NULL, COLLATE, ...), which IS NOT NULL in the
// expression is not.
func defaultExpr(w *tokens) *tokens {
	return w.until(func(prev *pgsql.Token, t pgsql.Token) bool {
		switch {
		case prev == nil:
			return false
		case isWord(t, "NOT") && isWord(*prev, "IS"), isWord(t, "NULL") && isAnyWord(*prev, "IS", "NOT"):
			return false
		}
		return isAnyWord(t, columnWords...)
	})
}

// parsedType is the engine's type of a type as written, or nil when the
// engine cannot read it (or fails on it: the text is another program's).
func parsedType(w *tokens) (typ schema.Type) {
	defer func() {
		if recover() != nil {
			typ = nil
		}
	}()
	var b strings.Builder
	for i, t := range w.list[w.at:] {
		if i > 0 && t.Kind == pgsql.Word && w.list[w.at+i-1].Kind == pgsql.Word {
			b.WriteByte(' ')
		}
		if t.Kind == pgsql.Word {
			b.WriteString(foldIdent(t.Text))
		} else {
			b.WriteString(t.Text)
		}
	}
	typ, err := postgres.ParseType(b.String())
	if err != nil {
		return nil
	}
	return typ
}

func (a *alteration) dropColumn(w *tokens) (command, error) {
	w.keyword("IF", "EXISTS")
	name, err := w.ident()
	if err != nil {
		return command{}, err
	}
	cascade := w.cascade()
	t := a.rel.schemaTable()
	col := &schema.Column{Name: name}
	hs := modifyHazards(t, &schema.DropColumn{C: col}, a.r.facts)
	if a.only {
		for i, h := range hs {
			if h.Code == plan.HazardDataLoss {
				hs[i].Message = "drops the column and its values in this table; its child tables keep the column, as their own (ALTER TABLE ONLY; the row estimate counts the children too)"
			}
		}
	}
	if cascade {
		hs = append(hs, cascaded(columnName(t, col)))
	}
	a.part(state.CatalogColumn, name)
	a.r.cov.drops[a.rel.key()] = true
	return command{what: "drop column " + strconv.Quote(name), prep: "from", column: name, action: plan.ActionDrop, hazards: hs}, nil
}

// alterColumn reads ALTER COLUMN and its one action.
func (a *alteration) alterColumn(w *tokens) (command, error) {
	name, err := w.ident()
	if err != nil {
		return command{}, err
	}
	t := a.rel.schemaTable()
	obj := columnName(t, &schema.Column{Name: name})
	c := command{prep: "in", column: name, action: plan.ActionAlter}
	q := strconv.Quote(name)
	a.part(state.CatalogColumn, name)
	switch {
	case w.keyword("SET", "DATA", "TYPE"), w.keyword("TYPE"):
		return a.alterColumnType(w, name)
	case w.keyword("SET", "NOT", "NULL"):
		c.what = "set column " + q + " NOT NULL"
		if from, ok := t.Column(name); !ok || from.Type == nil || from.Type.Null {
			c.hazards = modifyHazards(t, &schema.ModifyColumn{
				From:   &schema.Column{Name: name, Type: &schema.ColumnType{Null: true}},
				To:     &schema.Column{Name: name, Type: &schema.ColumnType{Null: false}},
				Change: schema.ChangeNull,
			}, a.r.facts)
		}
	case w.keyword("DROP", "NOT", "NULL"):
		c.what = "drop NOT NULL from column " + q
	case w.keyword("SET", "DEFAULT"):
		if !w.rest().more() {
			return command{}, fmt.Errorf("the default of column %s is empty", q)
		}
		c.what = "set the default of column " + q
	case w.keyword("DROP", "DEFAULT"):
		c.what = "drop the default of column " + q
	case w.keyword("ADD", "GENERATED", "ALWAYS", "AS", "IDENTITY"), w.keyword("ADD", "GENERATED", "BY", "DEFAULT", "AS", "IDENTITY"):
		start := "1"
		if w.more() {
			g, err := w.group()
			if err != nil {
				return command{}, err
			}
			for g.more() {
				if g.keyword("START") {
					g.keyword("WITH")
					if start, err = g.number(); err != nil {
						return command{}, err
					}
					continue
				}
				g.at++
			}
		}
		rows, _ := a.r.facts.Size(t)
		c.what = "make column " + q + " an identity column"
		c.hazards = []plan.Hazard{{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj, Rows: rows,
			Message: "the identity's sequence starts at " + start + " whatever values the column holds: inserts fail on duplicates until it is restarted past them (ALTER COLUMN ... RESTART WITH)"}}
		a.part(state.CatalogIdentityOptions, name)
	case w.keyword("DROP", "IDENTITY"):
		w.keyword("IF", "EXISTS")
		c.what = "drop the identity of column " + q
		c.hazards = []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj,
			Message: "inserts that leave the column out no longer get a value from the identity's sequence"}}
		a.part(state.CatalogIdentityOptions, name)
	case w.keyword("DROP", "EXPRESSION"):
		w.keyword("IF", "EXISTS")
		c.what = "drop the generation expression of column " + q
		c.hazards = []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj,
			Message: "the column keeps its values but no longer computes them: writes that leave it out store NULL"}}
	case w.upcoming("SET", "GENERATED"), w.upcoming("SET", "START"), w.upcoming("SET", "INCREMENT"), w.upcoming("RESTART"):
		restart, err := identityOptions(w)
		if err != nil {
			return command{}, err
		}
		c.what = "change the identity of column " + q
		if restart {
			c.hazards = []plan.Hazard{{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj,
				Message: "restarts the identity's sequence: inserts fail on duplicates if it restarts below values the column holds"}}
		}
		a.part(state.CatalogIdentityOptions, name)
	default:
		return command{}, fmt.Errorf("ALTER COLUMN ... %s is not a change keel reads", w.lead(2))
	}
	return c, nil
}

// identityOptions reads the changes of an identity column's generation and
// sequence the engine writes (SET GENERATED, SET START WITH, SET INCREMENT
// BY, RESTART); restart reports a RESTART.
func identityOptions(w *tokens) (restart bool, err error) {
	for w.more() {
		switch {
		case w.keyword("SET", "GENERATED", "ALWAYS"), w.keyword("SET", "GENERATED", "BY", "DEFAULT"):
		case w.keyword("SET", "START"):
			w.keyword("WITH")
			_, err = w.number()
		case w.keyword("SET", "INCREMENT"):
			w.keyword("BY")
			_, err = w.number()
		case w.keyword("RESTART"):
			restart = true
			if w.keyword("WITH") || w.more() && !w.upcoming("SET") && !w.upcoming("RESTART") {
				_, err = w.number()
			}
		default:
			return false, fmt.Errorf("ALTER COLUMN ... %s is not a change of an identity keel reads", w.lead(2))
		}
		if err != nil {
			return false, err
		}
	}
	return restart, nil
}

// alterColumnType reads ALTER COLUMN ... TYPE: the hazards of
// modifyHazards for a type change, with what keel can tell of the
// conversion from the statement (its USING) and facts.Converts.
func (a *alteration) alterColumnType(w *tokens, name string) (command, error) {
	typ := w.until(func(_ *pgsql.Token, t pgsql.Token) bool { return isAnyWord(t, "COLLATE", "USING") })
	if !typ.more() {
		return command{}, fmt.Errorf("column %s gets no type", strconv.Quote(name))
	}
	toSQL, to := typ.text(), parsedType(typ)
	var using string
	for w.more() {
		switch {
		case w.keyword("COLLATE"):
			if _, err := w.name(2); err != nil {
				return command{}, err
			}
		case w.keyword("USING"):
			x := w.rest()
			if !x.more() {
				return command{}, errors.New("its USING is empty")
			}
			using = x.text()
		default:
			return command{}, fmt.Errorf("%s after the type of column %s", w.here(), strconv.Quote(name))
		}
	}
	c := command{what: "change the type of column " + strconv.Quote(name) + " to " + toSQL, prep: "in", column: name, action: plan.ActionAlter}
	if a.rel.t != nil {
		c.hazards = a.typeHazards(name, toSQL, to, using)
	}
	return c, nil
}

// typeHazards are the hazards of changing the type of column name of an
// existing table to the type written toSQL (to, as the engine reads it;
// nil when it cannot), converting with using (or none).
func (a *alteration) typeHazards(name, toSQL string, to schema.Type, using string) []plan.Hazard {
	t, facts := a.rel.t, a.r.facts
	obj := columnName(t, &schema.Column{Name: name})
	rows, bytes := facts.Size(t)
	fromName, toName, fromSQL := "its current type", toSQL, ""
	if to != nil {
		toName = typeString(to)
	}
	rewrite, narrow := true, false
	if c, ok := t.Column(name); ok && c.Type != nil && c.Type.Type != nil {
		fromName, fromSQL = typeString(c.Type.Type), typeString(c.Type.Type)
		if e, ok := c.Type.Type.(*schema.EnumType); ok {
			fromSQL = pgsql.QuoteQualified(schemaOf(e.Schema), e.T)
		}
		if to != nil {
			r, n := typeChange(c.Type.Type, to)
			// A conversion of the engine's (USING) rewrites every row.
			rewrite, narrow = r || using != "", n
		}
	}
	var hs []plan.Hazard
	if rewrite {
		hs = append(hs, plan.Hazard{Code: plan.HazardTableRewrite, Severity: plan.SeverityWarning, Object: obj,
			Message: fmt.Sprintf("changing the type from %s to %s rewrites the table", fromName, toName), Rows: rows, Bytes: bytes})
	}
	if narrow {
		hs = append(hs, plan.Hazard{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: obj,
			Message: fmt.Sprintf("narrows the type from %s to %s: values may be cut or rejected", fromName, toName), Rows: rows, Bytes: bytes})
	}
	var converts *bool
	if fromSQL != "" && using == "" {
		converts = facts.Converts(fromSQL, toSQL)
	}
	switch {
	case using != "":
		hs = append(hs, plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj,
			Message: fmt.Sprintf("the values are converted from %s to %s with USING %s, and a value it cannot convert fails the statement and the plan rolls back", fromName, toName, using)})
	case converts == nil:
		hs = append(hs, plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj,
			Message: fmt.Sprintf("keel cannot tell whether PostgreSQL converts %s to %s on its own: if it does not, the statement fails (SQLSTATE 42804) and the plan rolls back", fromName, toName)})
	case !*converts:
		hs = append(hs, plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityDanger, Object: obj,
			Message: fmt.Sprintf("PostgreSQL has no automatic conversion from %s to %s, and the statement has no USING: it fails (SQLSTATE 42804) and the plan rolls back", fromName, toName)})
	}
	hs = append(hs, plan.Hazard{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj, Message: "changes the column's type: code that expects the old type may break"})
	return append(hs, blockedBy(obj, facts.Dependents(t, name))...)
}

// rename reads what follows ALTER TABLE ... RENAME: the table, a column or
// a constraint.
func (a *alteration) rename(w *tokens) (command, error) {
	var c command
	switch {
	case w.keyword("TO"):
		parts, err := w.name(2)
		if err != nil {
			return command{}, err
		}
		to := parts[len(parts)-1]
		if len(parts) == 2 && parts[0] != a.rel.schema {
			return command{}, fmt.Errorf("it renames table %s into schema %s, which RENAME TO cannot do", plan.DisplayName(a.rel.schema, a.rel.name), plan.DisplayPart(parts[0]))
		}
		from := a.rel.schemaTable()
		c = command{what: "rename to " + strconv.Quote(to), action: plan.ActionAlter,
			comment: "rename table " + plan.DisplayName(a.rel.schema, a.rel.name) + " to " + strconv.Quote(to),
			hazards: hazardsOf([]schema.Change{&schema.RenameTable{From: from, To: schema.NewTable(to).SetSchema(from.Schema)}}, a.r.facts)}
		a.r.cov.whole[a.rel.key()] = true
		a.r.cov.whole[state.CatalogKey{Kind: state.CatalogTable, Schema: a.rel.schema, Name: to}] = true
	case w.keyword("CONSTRAINT"):
		from, to, err := renamePair(w)
		if err != nil {
			return command{}, err
		}
		obj := "constraint " + plan.DisplayName(a.rel.schema, a.rel.name) + "." + plan.DisplayPart(to)
		c = command{what: "rename constraint " + strconv.Quote(from) + " to " + strconv.Quote(to), prep: "in", action: plan.ActionAlter,
			hazards: []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityInfo, Object: obj, Message: "renames the constraint (and its index): code that names it breaks"}}}
		// A unique or exclusion constraint's index, and a primary key's,
		// takes the new name too.
		t := a.rel.t
		pk := t != nil && t.PrimaryKey != nil && t.PrimaryKey.Name == from
		indexed := pk || t != nil && backingIndex(t, from) != nil
		for _, n := range []string{from, to} {
			a.part(state.CatalogConstraint, n)
			a.part(state.CatalogConstraintComment, n)
			if indexed {
				a.index(n)
			}
		}
		if pk {
			a.r.cov.pkeys[a.rel.key()] = true
		}
	default:
		w.keyword("COLUMN")
		from, to, err := renamePair(w)
		if err != nil {
			return command{}, err
		}
		c = command{what: "rename column " + strconv.Quote(from) + " to " + strconv.Quote(to), prep: "in", column: from, action: plan.ActionAlter,
			hazards: modifyHazards(a.rel.schemaTable(), &schema.RenameColumn{From: &schema.Column{Name: from}, To: &schema.Column{Name: to}}, a.r.facts)}
		a.part(state.CatalogColumn, from)
		a.part(state.CatalogColumn, to)
	}
	return c, w.end()
}

// renamePair reads "a TO b".
func renamePair(w *tokens) (from, to string, err error) {
	if from, err = w.ident(); err != nil {
		return "", "", err
	}
	if !w.keyword("TO") {
		return "", "", fmt.Errorf("%s where TO should be", w.here())
	}
	to, err = w.ident()
	return from, to, err
}
