package diff

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/schema"
)

// The Atlas CLI plans the statements of tables, enums and schemas as SQL
// text, with no typed changes behind them. keel reads each statement with
// PostgreSQL's lexical rules (internal/pgsql), in the forms the engine
// writes (ariga.io/atlas/sql/postgres, migrate.go), and derives from what
// it says what the embedded engine's path derives from typed changes: the
// object, the action, the hazards (through the same analysers, fed schema
// changes built from the statement) and the catalog objects it changes. A
// statement keel cannot read is refused: keel never runs what it cannot
// review.

// StatementSteps turns statements another engine planned, as SQL text
// with no typed changes behind them, into plan steps: each statement's
// object, action, comment and hazards are read from its parsed effect.
// from is the target's inspected state (its tables give row counts through
// facts). A statement whose effect keel cannot read is an error naming it:
// keel never runs what it cannot review.
//
// The steps are the statements', one each, in their order (AtlasSteps
// puts the ones that run outside the transaction last, as apply runs
// them). Unqualified names are looked up in from's schemas.
func StatementSteps(stmts []string, from *state.State, facts Facts, t plan.Timeouts) ([]plan.Step, *Coverage, error) {
	r := &statementReader{realm: realmOf(from), facts: facts, cov: newCoverage()}
	steps := make([]plan.Step, 0, len(stmts))
	for i, sql := range stmts {
		st, err := r.step(sql)
		if err != nil {
			return nil, nil, fmt.Errorf("statement %d of %d the Atlas engine planned (`%s`): keel cannot read what it does: %w; keel never runs a statement it cannot review: plan with the embedded engine (--engine embedded), or make this change by hand",
				i+1, len(stmts), shownStatement(sql), err)
		}
		st.LockTimeout, st.StatementTimeout = plan.Duration(t.Lock), plan.Duration(t.Statement)
		steps = append(steps, st)
	}
	return steps, r.cov, nil
}

func realmOf(s *state.State) *schema.Realm {
	if s == nil || s.Realm == nil {
		return &schema.Realm{}
	}
	return s.Realm
}

// shownStatement is a statement as an error names it: on one line, cut
// after 80 characters.
func shownStatement(sql string) string {
	s := strings.Join(strings.Fields(sql), " ")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:77]) + "..."
	}
	return plan.OneLine(s)
}

// statementReader reads statements against the state they run on,
// recording in cov the catalog objects they change.
type statementReader struct {
	realm *schema.Realm
	facts Facts
	cov   *Coverage
}

// step reads one statement.
func (r *statementReader) step(sql string) (plan.Step, error) {
	if err := pgsql.OneStatement(sql); err != nil {
		return plan.Step{}, err
	}
	text, err := pgsql.Printable(sql)
	if err != nil {
		return plan.Step{}, err
	}
	w, err := lexTokens(text)
	if err != nil {
		return plan.Step{}, err
	}
	st := plan.Step{SQL: w.statement(), Action: plan.ActionAlter, Transactional: true}
	switch {
	case w.keyword("CREATE", "SCHEMA"):
		err = r.createSchema(w, &st)
	case w.keyword("DROP", "SCHEMA"):
		err = r.dropSchema(w, &st)
	case w.keyword("CREATE", "TABLE"):
		err = r.createTable(w, &st)
	case w.keyword("DROP", "TABLE"):
		err = r.dropTable(w, &st)
	case w.keyword("ALTER", "TABLE"):
		err = r.alterTable(w, &st)
	case w.upcoming("CREATE", "INDEX"), w.upcoming("CREATE", "UNIQUE", "INDEX"):
		err = r.createIndex(w, &st)
	case w.keyword("DROP", "INDEX"):
		err = r.dropIndex(w, &st)
	case w.keyword("ALTER", "INDEX"):
		err = r.alterIndex(w, &st)
	case w.keyword("CREATE", "TYPE"):
		err = r.createType(w, &st)
	case w.keyword("ALTER", "TYPE"):
		err = r.alterType(w, &st)
	case w.keyword("DROP", "TYPE"):
		err = r.dropType(w, &st)
	case w.keyword("COMMENT", "ON"):
		err = r.comment(w, &st)
	case w.keyword("CREATE", "SEQUENCE"):
		err = r.createSequence(w, &st)
	case w.keyword("DROP", "SEQUENCE"):
		err = r.dropSequence(w, &st)
	default:
		err = fmt.Errorf("%s is not a statement keel reads: it reads only the statements of schemas, tables, columns, constraints, indexes, enums and serial sequences, and their comments", w.kind())
	}
	if err != nil {
		return plan.Step{}, err
	}
	return st, nil
}

// resolve gives a name of an object of kind its schema: its own when
// qualified; else the one schema of from that has such an object (has),
// or from's only schema.
func (r *statementReader) resolve(kind string, parts []string, has func(*schema.Schema, string) bool) (sch, name string, err error) {
	if len(parts) == 2 {
		return parts[0], parts[1], nil
	}
	name = parts[0]
	var in []string
	for _, s := range r.realm.Schemas {
		if has != nil && has(s, name) {
			in = append(in, s.Name)
		}
	}
	switch {
	case len(in) == 1:
		return in[0], name, nil
	case len(in) > 1:
		return "", "", fmt.Errorf("%s %s names no schema, and schemas %s each have one of that name", kind, plan.DisplayPart(name), displayParts(in, ", "))
	case len(r.realm.Schemas) == 1:
		return r.realm.Schemas[0].Name, name, nil
	}
	return "", "", fmt.Errorf("%s %s names no schema, and keel cannot tell which schema it is in", kind, plan.DisplayPart(name))
}

// relation is a table a statement names; t is from's, nil when from does
// not have it (the plan creates it).
type relation struct {
	schema, name string
	t            *schema.Table
}

func (r *statementReader) table(parts []string) (relation, error) {
	sch, name, err := r.resolve("table", parts, func(s *schema.Schema, n string) bool {
		_, ok := s.Table(n)
		return ok
	})
	if err != nil {
		return relation{}, err
	}
	rel := relation{schema: sch, name: name}
	if s, ok := r.realm.Schema(sch); ok {
		rel.t, _ = s.Table(name)
	}
	return rel, nil
}

func (rel relation) key() state.CatalogKey {
	return state.CatalogKey{Kind: state.CatalogTable, Schema: rel.schema, Name: rel.name}
}

func (rel relation) object() string { return "table " + plan.DisplayName(rel.schema, rel.name) }

func (rel relation) columnObject(name string) string {
	return "column " + plan.DisplayName(rel.schema, rel.name) + "." + plan.DisplayPart(name)
}

// schemaTable is from's table, or one standing for the table the plan
// creates, for the hazard analysers.
func (rel relation) schemaTable() *schema.Table {
	if rel.t != nil {
		return rel.t
	}
	return schema.NewTable(rel.name).SetSchema(schema.New(rel.schema))
}

// rowless keeps of the hazards of a statement on a table the plan creates
// those that do not come from rows it would hold: it holds none.
func (rel relation) rowless(hs []plan.Hazard) []plan.Hazard {
	if rel.t != nil {
		return hs
	}
	return slices.DeleteFunc(hs, func(h plan.Hazard) bool {
		switch h.Code {
		case plan.HazardBlockingLock, plan.HazardTableRewrite, plan.HazardMayFail:
			return true
		}
		return false
	})
}

// cascaded is the hazard of a drop with CASCADE, which takes what depends
// on the object with it.
func cascaded(obj string) plan.Hazard {
	return plan.Hazard{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: obj,
		Message: "CASCADE also drops the objects that depend on it, which keel does not list"}
}

func (r *statementReader) createSchema(w *tokens, st *plan.Step) error {
	w.keyword("IF", "NOT", "EXISTS")
	name, err := w.name(1)
	if err != nil {
		return err
	}
	if err := w.end(); err != nil {
		return err
	}
	st.Action, st.Object, st.Comment = plan.ActionCreate, "schema "+plan.DisplayPart(name[0]), "create schema "+strconv.Quote(name[0])
	return nil
}

// dropSchema drops a schema and, with CASCADE, everything in it: the
// hazards of dropping each of its tables, and coverage of them and its
// enums.
func (r *statementReader) dropSchema(w *tokens, st *plan.Step) error {
	name, cascade, err := w.dropped("schema", 1)
	if err != nil {
		return err
	}
	obj := "schema " + plan.DisplayPart(name[0])
	st.Action, st.Object, st.Comment = plan.ActionDrop, obj, "drop schema "+strconv.Quote(name[0])
	sch, ok := r.realm.Schema(name[0])
	var tables []string
	if ok {
		for _, t := range sch.Tables {
			tables = append(tables, state.TableName(t))
			r.cov.whole[tableKey(t)] = true
		}
		for _, o := range sch.Objects {
			if e, ok := o.(*schema.EnumType); ok {
				r.cov.object(e)
			}
		}
	}
	msg := "drops the schema and everything in it"
	switch {
	case len(tables) > 5:
		msg += fmt.Sprintf(": tables %s and %d more, with all their rows", strings.Join(tables[:5], ", "), len(tables)-5)
	case len(tables) > 0:
		msg += ": tables " + strings.Join(tables, ", ") + ", with all their rows"
	}
	if cascade {
		msg += ", and what keel does not manage in it (CASCADE)"
	}
	st.Hazards = append(st.Hazards, plan.Hazard{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: obj, Message: msg})
	if !cascade && ok && (len(sch.Tables) > 0 || len(sch.Objects) > 0) {
		st.Hazards = append(st.Hazards, plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityDanger, Object: obj,
			Message: "DROP SCHEMA without CASCADE fails while the schema holds objects, and the plan rolls back"})
	}
	if ok {
		for _, t := range sch.Tables {
			st.Hazards = append(st.Hazards, hazardsOf([]schema.Change{&schema.DropTable{T: t}}, r.facts)...)
		}
	}
	return nil
}

func (r *statementReader) createTable(w *tokens, st *plan.Step) error {
	w.keyword("IF", "NOT", "EXISTS")
	parts, err := w.name(2)
	if err != nil {
		return err
	}
	rel, err := r.table(parts)
	if err != nil {
		return err
	}
	if _, err := w.group(); err != nil {
		return err
	}
	if w.keyword("PARTITION", "BY") {
		w.rest()
	}
	if err := w.end(); err != nil {
		return err
	}
	st.Action, st.Object, st.Comment = plan.ActionCreate, rel.object(), "create table "+plan.DisplayName(rel.schema, rel.name)
	r.cov.whole[rel.key()] = true
	return nil
}

func (r *statementReader) dropTable(w *tokens, st *plan.Step) error {
	parts, cascade, err := w.dropped("table", 2)
	if err != nil {
		return err
	}
	rel, err := r.table(parts)
	if err != nil {
		return err
	}
	st.Action, st.Object, st.Comment = plan.ActionDrop, rel.object(), "drop table "+plan.DisplayName(rel.schema, rel.name)
	st.Hazards = hazardsOf([]schema.Change{&schema.DropTable{T: rel.schemaTable()}}, r.facts)
	if cascade {
		st.Hazards = append(st.Hazards, cascaded(rel.object()))
	}
	r.cov.whole[rel.key()] = true
	return nil
}

// enum resolves the name of an enum: the enum of from, or one standing for
// the enum the plan creates.
func (r *statementReader) enum(parts []string) (e *schema.EnumType, found bool, err error) {
	sch, name, err := r.resolve("enum", parts, func(s *schema.Schema, n string) bool {
		_, ok := enumOf(s, n)
		return ok
	})
	if err != nil {
		return nil, false, err
	}
	if s, ok := r.realm.Schema(sch); ok {
		if e, ok := enumOf(s, name); ok {
			return e, true, nil
		}
	}
	return &schema.EnumType{T: name, Schema: schema.New(sch)}, false, nil
}

func enumOf(s *schema.Schema, name string) (*schema.EnumType, bool) {
	for _, o := range s.Objects {
		if e, ok := o.(*schema.EnumType); ok && e.T == name {
			return e, true
		}
	}
	return nil, false
}

// createType reads CREATE TYPE ... AS ENUM, the one type the engine
// creates.
func (r *statementReader) createType(w *tokens, st *plan.Step) error {
	parts, err := w.name(2)
	if err != nil {
		return err
	}
	if !w.keyword("AS", "ENUM") {
		return fmt.Errorf("CREATE TYPE ... %s is not a type keel reads: it reads enums", w.lead(2))
	}
	g, err := w.group()
	if err != nil {
		return err
	}
	for _, it := range g.items() {
		if _, err := it.str(); err != nil {
			return err
		}
		if err := it.end(); err != nil {
			return err
		}
	}
	if err := w.end(); err != nil {
		return err
	}
	e, _, err := r.enum(parts)
	if err != nil {
		return err
	}
	st.Action, st.Object, st.Comment = plan.ActionCreate, objectName(e), "create "+objectName(e)
	r.cov.object(e)
	return nil
}

// alterType reads ALTER TYPE ... ADD VALUE, RENAME VALUE and RENAME TO of
// an enum.
func (r *statementReader) alterType(w *tokens, st *plan.Step) error {
	parts, err := w.name(2)
	if err != nil {
		return err
	}
	e, _, err := r.enum(parts)
	if err != nil {
		return err
	}
	obj := objectName(e)
	st.Object = obj
	r.cov.object(e)
	switch {
	case w.keyword("ADD", "VALUE"):
		w.keyword("IF", "NOT", "EXISTS")
		v, err := w.str()
		if err != nil {
			return err
		}
		if w.keyword("BEFORE") || w.keyword("AFTER") {
			if _, err := w.str(); err != nil {
				return err
			}
		}
		st.Comment = "add value " + v + " to " + obj
	case w.keyword("RENAME", "VALUE"):
		from, err := w.str()
		if err != nil {
			return err
		}
		if !w.keyword("TO") {
			return fmt.Errorf("%s where TO should be", w.here())
		}
		to, err := w.str()
		if err != nil {
			return err
		}
		st.Comment = "rename value " + from + " of " + obj + " to " + to
		st.Hazards = []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj, Message: "renames the value: code that uses the old value breaks"}}
	case w.keyword("RENAME", "TO"):
		to, err := w.ident()
		if err != nil {
			return err
		}
		st.Comment = "rename " + obj + " to " + strconv.Quote(to)
		st.Hazards = []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj, Message: "renames the type: code that uses the old name breaks"}}
		r.cov.object(&schema.EnumType{T: to, Schema: e.Schema})
	default:
		return fmt.Errorf("ALTER TYPE ... %s is not a change keel reads", w.lead(2))
	}
	return w.end()
}

// dropType reads DROP TYPE of an enum: data loss as the embedded engine's
// drop of an enum, or, for an enum from has without values, as keel's own.
func (r *statementReader) dropType(w *tokens, st *plan.Step) error {
	parts, cascade, err := w.dropped("type", 2)
	if err != nil {
		return err
	}
	e, found, err := r.enum(parts)
	if err != nil {
		return err
	}
	obj := objectName(e)
	st.Action, st.Object, st.Comment = plan.ActionDrop, obj, "drop "+obj
	if found && len(e.Values) == 0 {
		st.Hazards = []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj, Message: "code that uses the type breaks"}}
	} else {
		st.Hazards = hazardsOf([]schema.Change{&schema.DropObject{O: e}}, r.facts)
	}
	if cascade {
		st.Hazards = append(st.Hazards, cascaded(obj))
	}
	r.cov.object(e)
	return nil
}

// comment reads COMMENT ON a schema, table, column, index, enum or
// constraint: no hazard.
func (r *statementReader) comment(w *tokens, st *plan.Step) error {
	switch {
	case w.keyword("SCHEMA"):
		name, err := w.name(1)
		if err != nil {
			return err
		}
		st.Object, st.Comment = "schema "+plan.DisplayPart(name[0]), "set the comment of schema "+strconv.Quote(name[0])
	case w.keyword("TABLE"):
		parts, err := w.name(2)
		if err != nil {
			return err
		}
		rel, err := r.table(parts)
		if err != nil {
			return err
		}
		st.Object, st.Comment = rel.object(), "set the comment of table "+plan.DisplayName(rel.schema, rel.name)
		r.cov.keys[rel.key()] = true
	case w.keyword("COLUMN"):
		parts, err := w.name(3)
		if err != nil {
			return err
		}
		if len(parts) < 2 {
			return fmt.Errorf("column %s names no table", plan.DisplayPart(parts[0]))
		}
		rel, err := r.table(parts[:len(parts)-1])
		if err != nil {
			return err
		}
		col := parts[len(parts)-1]
		st.Object = rel.columnObject(col)
		st.Comment = "set the comment of column " + strconv.Quote(col) + " of table " + plan.DisplayName(rel.schema, rel.name)
		r.cov.part(rel.key(), state.CatalogColumn, col)
	case w.keyword("INDEX"):
		parts, err := w.name(2)
		if err != nil {
			return err
		}
		sch, name, rel, err := r.index(parts)
		if err != nil {
			return err
		}
		st.Object, st.Comment = "index "+plan.DisplayName(sch, name), "set the comment of index "+plan.DisplayName(sch, name)
		if rel.t != nil {
			st.Object = rel.object()
			st.Comment = "set the comment of index " + strconv.Quote(name) + " of table " + state.TableName(rel.t)
			r.cov.index(rel.key(), &schema.Index{Name: name})
		}
	case w.keyword("TYPE"):
		parts, err := w.name(2)
		if err != nil {
			return err
		}
		e, _, err := r.enum(parts)
		if err != nil {
			return err
		}
		st.Object, st.Comment = objectName(e), "set the comment of "+objectName(e)
		r.cov.object(e)
	case w.keyword("CONSTRAINT"):
		name, err := w.ident()
		if err != nil {
			return err
		}
		if !w.keyword("ON") || w.upcoming("DOMAIN") {
			return fmt.Errorf("%s where ON and a table should be", w.here())
		}
		parts, err := w.name(2)
		if err != nil {
			return err
		}
		rel, err := r.table(parts)
		if err != nil {
			return err
		}
		st.Object = rel.object()
		st.Comment = "set the comment of constraint " + strconv.Quote(name) + " of table " + plan.DisplayName(rel.schema, rel.name)
		r.cov.part(rel.key(), state.CatalogConstraintComment, name)
	default:
		return fmt.Errorf("COMMENT ON %s is not a comment keel reads", w.lead(2))
	}
	if !w.keyword("IS") {
		return fmt.Errorf("%s where IS should be", w.here())
	}
	if !w.keyword("NULL") {
		if _, err := w.str(); err != nil {
			return err
		}
	}
	return w.end()
}

// sequence resolves the name of a sequence, which from's realm does not
// hold: its own schema, or from's only one.
func (r *statementReader) sequence(parts []string) (state.CatalogKey, error) {
	sch, name, err := r.resolve("sequence", parts, nil)
	return state.CatalogKey{Kind: state.CatalogSequence, Schema: sch, Name: name}, err
}

// createSequence reads the CREATE SEQUENCE the engine writes for a serial
// column: [IF NOT EXISTS] name [OWNED BY column].
func (r *statementReader) createSequence(w *tokens, st *plan.Step) error {
	w.keyword("IF", "NOT", "EXISTS")
	parts, err := w.name(2)
	if err != nil {
		return err
	}
	if w.keyword("OWNED", "BY") {
		if _, err := w.name(3); err != nil {
			return err
		}
	}
	if err := w.end(); err != nil {
		return err
	}
	k, err := r.sequence(parts)
	if err != nil {
		return err
	}
	st.Action, st.Object, st.Comment = plan.ActionCreate, k.String(), "create "+k.String()
	r.cov.keys[k] = true
	return nil
}

// dropSequence reads DROP SEQUENCE, which the engine writes for a column
// that stops being serial.
func (r *statementReader) dropSequence(w *tokens, st *plan.Step) error {
	parts, cascade, err := w.dropped("sequence", 2)
	if err != nil {
		return err
	}
	k, err := r.sequence(parts)
	if err != nil {
		return err
	}
	obj := k.String()
	st.Action, st.Object, st.Comment = plan.ActionDrop, obj, "drop "+obj
	st.Hazards = []plan.Hazard{{Code: plan.HazardDataLoss, Severity: plan.SeverityWarning, Object: obj, Message: "the sequence's current value is lost"}}
	if cascade {
		st.Hazards = append(st.Hazards, cascaded(obj))
	}
	r.cov.keys[k] = true
	return nil
}
