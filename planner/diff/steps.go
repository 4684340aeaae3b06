// Package diff turns the difference between two schema states into the
// steps of a plan: the engine's changes rendered as SQL (through keel's name
// guard), keel's own statements for extensions and invalid indexes, and the
// hazards of every step, derived from the typed changes and the facts the
// live database gives.
package diff

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

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
	steps, _, err := StepsCovering(ctx, drv, facts, from, to, nil, concurrent, t)
	return steps, err
}

// StepsCovering is Steps, and the objects of the catalog its statements
// change. fromCatalog is the catalog of from (a live state has none of its
// own), if read: the engine leaves out the tables it has as partitions.
func StepsCovering(ctx context.Context, drv migrate.PlanApplier, facts Facts, from, to *state.State, fromCatalog state.Catalog, concurrent bool, t plan.Timeouts) ([]plan.Step, *Coverage, error) {
	// The engine's own differ would compare column defaults by running
	// `SELECT <old> = <new>` on the target: text from the desired state,
	// evaluated there. Both states print their defaults through the same
	// server, so keel compares them as text: DefaultDiff runs no SQL.
	// Both states are normalized (read back from PostgreSQL), so check
	// expressions are compared too: a changed CHECK is planned.
	cov := newCoverage()
	cov.engine = engineConstraints(to.Realm)
	if fromCatalog == nil {
		fromCatalog = from.Catalog
	}
	unhide := hidePartitions(from.Realm, fromCatalog, to.Realm, to.Catalog)
	recreated, recreatedNames, unrecreate, err := repartitioned(from.Realm, to.Realm, fromCatalog)
	if err != nil {
		unhide()
		return nil, nil, fmt.Errorf("computing the difference: %w", err)
	}
	regen, restore := regenerated(from.Realm, to.Realm, facts)
	var changes []schema.Change
	if from.Realm != to.Realm {
		// The same realm (a target that hashes as the cached desired
		// state) has nothing to change: the catalogs are still compared.
		// Tables that hash the same on both sides are left out of the
		// engine's comparison (at 1,000 tables it compares each pair in
		// 60-100 ms for a plan that changes one).
		fr, tr := from.Realm, to.Realm
		same := state.SameTables(from, to)
		if len(same) > 0 {
			fr, tr = withoutTables(fr, same), withoutTables(tr, same)
			tablesLeftOut.Add(int64(len(same)))
		}
		changes, err = postgres.DefaultDiff.RealmDiff(fr, tr, schema.DiffNormalized())
		if len(same) > 0 {
			ownSchemas(changes, from.Realm, to.Realm)
		}
	}
	restore()
	unrecreate()
	unhide()
	if err != nil {
		return nil, nil, fmt.Errorf("computing the difference: %w", err)
	}
	changes = append(recreated, changes...)
	changes = enumsCreatedAgain(changes)
	changes = fixColumnChanges(from.Realm, to.Realm, to.Using, changes)
	changes, idBefore, idAfter := identityChanges(changes, facts, cov)
	inheritingTables(changes, to.Catalog, cov)
	changes = columnsLeftToChildren(changes, to.Catalog, cov)
	changes = childrenDroppedFirst(changes, fromCatalog)
	var first, rest []schema.Change
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.AddSchema:
			first = append(first, c)
		case *schema.DropSchema:
			// Atlas drops schemas with CASCADE, which would take objects keel
			// does not manage with it. Managed schemas are the desired ones,
			// so this cannot come from a desired state: refuse rather than guess.
			return nil, nil, fmt.Errorf("computing the difference: schema %q would be dropped; keel does not drop schemas", c.S.Name)
		default:
			rest = append(rest, c)
		}
	}
	drops, rest := foreignKeysDroppedFirst(rest)
	rest, pieces, pinned := splitModify(rest, concurrent)
	before, after := extensionSteps(from.Extensions, to.Extensions, facts)
	var steps []plan.Step
	for _, ix := range from.Invalid {
		cov.index(state.CatalogKey{Kind: state.CatalogTable, Schema: ix.Schema, Name: ix.Table}, &schema.Index{Name: ix.Name})
	}
	realms := []*schema.Realm{from.Realm, to.Realm}
	s, err := renderSteps(ctx, drv, first, nil, facts, realms, cov)
	if err != nil {
		return nil, nil, err
	}
	steps = append(append(steps, s...), before...)
	// Rendered apart: the engine would order them among the others.
	if s, err = renderSteps(ctx, drv, drops, nil, facts, realms, cov); err != nil {
		return nil, nil, err
	}
	steps = append(steps, s...)
	steps = append(steps, invalidIndexSteps(from.Invalid, concurrent)...)
	steps = append(append(steps, regen...), idBefore...)
	if s, err = renderSteps(ctx, drv, rest, pieces, facts, realms, cov); err != nil {
		return nil, nil, err
	}
	noteNeededIndexes(s, pinned)
	steps = append(append(append(steps, s...), idAfter...), after...)
	for i, st := range steps {
		if st.Action == plan.ActionDrop && recreatedNames[st.Object] {
			steps[i].Comment += " (its partitioning changes, which PostgreSQL cannot do in place: it is created again, empty)"
		}
	}
	return transactionalFirst(steps, t), cov, nil
}

// transactionalFirst orders steps as apply runs them, the transaction's
// first and the others after, each with the plan's timeouts.
func transactionalFirst(steps []plan.Step, t plan.Timeouts) []plan.Step {
	ordered := make([]plan.Step, 0, len(steps))
	for _, tx := range []bool{true, false} {
		for _, st := range steps {
			if st.Transactional == tx {
				st.LockTimeout, st.StatementTimeout = plan.Duration(t.Lock), plan.Duration(t.Statement)
				ordered = append(ordered, st)
			}
		}
	}
	return ordered
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
//
// A new unique index that a foreign key of the same plan references is not
// built concurrently: the foreign key, inside the transaction, needs it
// there (PostgreSQL refuses the key without it, 42830). Its piece comes
// before every change that adds such a key. pinned maps those indexes to
// the keys that need them.
func splitModify(changes []schema.Change, concurrent bool) ([]schema.Change, map[*schema.ModifyTable]pieceKind, map[*schema.Index]neededBy) {
	pieces := make(map[*schema.ModifyTable]pieceKind)
	pinned := make(map[*schema.Index]neededBy)
	needs := addedForeignKeys(changes)
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
				if fks := needs[uniqueKey(m.T, sub.I)]; len(fks) > 0 {
					pinned[sub.I] = neededBy{table: m.T, keys: fks}
				} else if concurrent {
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
	return keysAfterIndexes(out, pinned), pieces, pinned
}

// neededBy is a new unique index's table and the foreign keys that need it.
type neededBy struct {
	table *schema.Table
	keys  []string
}

// addedForeignKeys maps each referenced key ("table(col,...)", columns
// sorted) of the foreign keys the changes add to their names.
func addedForeignKeys(changes []schema.Change) map[string][]string {
	needs := make(map[string][]string)
	add := func(fk *schema.ForeignKey) {
		if fk.RefTable == nil {
			return
		}
		cols := make([]string, len(fk.RefColumns))
		for i, c := range fk.RefColumns {
			cols[i] = c.Name
		}
		k := keyOf(fk.RefTable, cols)
		needs[k] = append(needs[k], state.TableName(fk.Table)+"."+plan.DisplayPart(fk.Symbol))
	}
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.AddTable:
			for _, fk := range c.T.ForeignKeys {
				add(fk)
			}
		case *schema.ModifyTable:
			for _, sub := range c.Changes {
				switch sub := sub.(type) {
				case *schema.AddForeignKey:
					add(sub.F)
				case *schema.ModifyForeignKey:
					add(sub.To)
				}
			}
		}
	}
	return needs
}

// uniqueKey is keyOf the columns of a unique index that can back a foreign
// key (no expressions, no predicate), or "".
func uniqueKey(t *schema.Table, idx *schema.Index) string {
	if !idx.Unique || hasAttr[*postgres.IndexPredicate](idx.Attrs) {
		return ""
	}
	cols := make([]string, 0, len(idx.Parts))
	for _, p := range idx.Parts {
		if p.C == nil {
			return ""
		}
		cols = append(cols, p.C.Name)
	}
	return keyOf(t, cols)
}

func keyOf(t *schema.Table, cols []string) string {
	cols = slices.Clone(cols)
	slices.Sort(cols)
	return state.TableName(t) + "(" + strings.Join(cols, ",") + ")"
}

// keysAfterIndexes moves each change that adds a foreign key after the
// pieces building the unique indexes it needs, keeping the order otherwise.
func keysAfterIndexes(changes []schema.Change, pinned map[*schema.Index]neededBy) []schema.Change {
	if len(pinned) == 0 {
		return changes
	}
	needing := func(c schema.Change) map[string]bool {
		keys := make(map[string]bool)
		for k := range addedForeignKeys([]schema.Change{c}) {
			keys[k] = true
		}
		return keys
	}
	builds := func(c schema.Change) string {
		if m, ok := c.(*schema.ModifyTable); ok && len(m.Changes) == 1 {
			if a, ok := m.Changes[0].(*schema.AddIndex); ok {
				if _, ok := pinned[a.I]; ok {
					return uniqueKey(m.T, a.I)
				}
			}
		}
		return ""
	}
	out := slices.Clone(changes)
	for i := 0; i < len(out); i++ {
		k := builds(out[i])
		if k == "" {
			continue
		}
		// Any earlier change that needs k goes right after this piece.
		for j := 0; j < i; j++ {
			if needing(out[j])[k] {
				c := out[j]
				out = slices.Delete(out, j, j+1)
				out = slices.Insert(out, i, c)
				j--
				i--
			}
		}
	}
	return out
}

// noteNeededIndexes says, on the steps building indexes in the transaction
// because a foreign key needs them, why they are not built concurrently.
func noteNeededIndexes(steps []plan.Step, pinned map[*schema.Index]neededBy) {
	if len(pinned) == 0 {
		return
	}
	for idx, nb := range pinned {
		obj := "index " + state.TableName(nb.table) + "." + plan.DisplayPart(idx.Name)
		for i := range steps {
			for j := range steps[i].Hazards {
				h := &steps[i].Hazards[j]
				if h.Object == obj && h.Code == plan.HazardBlockingLock {
					h.Message += fmt.Sprintf(" (built inside the transaction, not concurrently: foreign key %s needs it there)", strings.Join(nb.keys, ", "))
				}
			}
		}
	}
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
func renderSteps(ctx context.Context, drv migrate.PlanApplier, changes []schema.Change, pieces map[*schema.ModifyTable]pieceKind, facts Facts, realms []*schema.Realm, cov *Coverage) ([]plan.Step, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	rendered, err := Render(ctx, drv, changes, realms...)
	if err != nil {
		return nil, fmt.Errorf("planning the changes: %w", err)
	}
	steps := make([]plan.Step, 0, len(rendered))
	sources := make([]schema.Change, 0, len(rendered))
	seen := make(map[schema.Change]bool)
	for _, c := range rendered {
		st := StepOf(c)
		st.Transactional = true
		cov.add(c)
		if add, ok := c.Source.(*schema.AddTable); ok && cov.inherits[add.T] != "" && strings.HasPrefix(st.SQL, "CREATE TABLE ") && strings.HasSuffix(st.SQL, ")") {
			// A table whose columns all come from its parents: the
			// engine writes its constraints after an empty column list.
			if prefix := "CREATE TABLE " + pgsql.QuoteQualified(add.T.Schema.Name, add.T.Name) + " (, "; len(add.T.Columns) == 0 && strings.HasPrefix(st.SQL, prefix) {
				st.SQL = strings.TrimSuffix(prefix, ", ") + st.SQL[len(prefix):]
			}
			st.SQL += cov.inherits[add.T]
			delete(cov.inherits, add.T)
		}
		m, isModify := c.Source.(*schema.ModifyTable)
		if isModify && len(m.Changes) > 0 && cov.only[m.Changes[0]] {
			// See columnsLeftToChildren.
			prefix := "ALTER TABLE " + pgsql.QuoteQualified(m.T.Schema.Name, m.T.Name) + " "
			if rest, ok := strings.CutPrefix(st.SQL, prefix); ok {
				st.SQL = "ALTER TABLE ONLY " + pgsql.QuoteQualified(m.T.Schema.Name, m.T.Name) + " " + rest
			}
		}
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
			if isModify && len(m.Changes) > 0 && cov.only[m.Changes[0]] {
				for i, h := range st.Hazards {
					if h.Code == plan.HazardDataLoss {
						st.Hazards[i].Message = "drops the column and its values in this table; its child tables keep the column, as their own (ALTER TABLE ONLY; the row estimate counts the children too)"
					}
				}
			}
		}
		if c.Source != nil {
			seen[c.Source] = true
		}
		steps = append(steps, st)
		sources = append(sources, c.Source)
	}
	if len(cov.parents) > 0 {
		steps = parentsCreatedFirst(steps, sources, cov.parents)
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
	s := plan.Step{SQL: strings.TrimSuffix(strings.TrimSpace(c.Cmd), ";"), Comment: engineComment.Replace(c.Comment)}
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
		o := src.From
		if o == nil {
			o = src.To
		}
		s.Action, s.Object = plan.ActionAlter, objectName(o)
	case nil:
		// The engine leaves some statements without their change (ALTER
		// TYPE ... ADD VALUE): name the object from the statement.
		s.Action, s.Object = plan.ActionAlter, objectOfStatement(s.SQL)
	default:
		s.Action = plan.ActionAlter
	}
	if s.Object == "" {
		// An object the engine's change does not name: name it from the
		// statement rather than print a Go type or "<nil>".
		s.Object = objectOfStatement(s.SQL)
	}
	return s
}

// objectOfStatement names the object an ALTER TYPE or ALTER TABLE statement
// changes ("enum public.status"), read with PostgreSQL's lexical rules; ""
// when it is neither.
func objectOfStatement(sql string) string {
	toks, err := pgsql.Lex(sql)
	if err != nil {
		return ""
	}
	// The statement's first words; a name as PostgreSQL reads it (quoted
	// as written, unquoted folded to lower case).
	type word struct{ upper, name string }
	var words []word
	for _, t := range toks {
		switch {
		case len(words) == 4:
		case t.Kind == pgsql.Word:
			words = append(words, word{strings.ToUpper(t.Text), strings.ToLower(t.Text)})
		case t.Kind == pgsql.QuotedIdent:
			words = append(words, word{"", t.Value})
		case t.Kind == pgsql.Other && t.Text == ".", t.Kind == pgsql.Space, t.Kind == pgsql.Comment:
		default:
			words = append(words, word{}) // anything else ends the name
		}
	}
	if len(words) < 3 || words[0].upper != "ALTER" {
		return ""
	}
	kind := map[string]string{"TYPE": "enum", "TABLE": "table"}[words[1].upper]
	if kind == "" {
		return ""
	}
	if len(words) == 4 && words[3].name != "" && words[3].upper != "ADD" && words[3].upper != "RENAME" {
		return kind + " " + plan.DisplayName(words[2].name, words[3].name)
	}
	return kind + " " + plan.DisplayPart(words[2].name)
}

// engineComment words the engine's comments of statements as keel's own
// ("create index "i" to table: "t"" reads "create index "i" on table "t"").
var engineComment = strings.NewReplacer(
	" to table: ", " on table ",
	" from table: ", " from table ",
	" on table: ", " of table ",
	"set comment to schema: ", "set the comment of schema ",
	"set comment to table: ", "set the comment of table ",
	"set comment to column: ", "set the comment of column ",
	"set comment to index: ", "set the comment of index ",
	"add value to enum type: ", "add a value to enum type ",
	"Add new schema named ", "create schema ",
	"Drop schema named ", "drop schema ",
)

func objectName(o schema.Object) string {
	if e, ok := o.(*schema.EnumType); ok {
		return "enum " + state.DisplayName(e.Schema, e.T)
	}
	return "" // named from the statement (StepOf)
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

// enumsCreatedAgain leaves out the engine's change of an enum that loses
// a value or whose values change order: PostgreSQL cannot do that in
// place, the engine refuses to plan it, and keel creates the enum again
// (see PlanObjects).
func enumsCreatedAgain(changes []schema.Change) []schema.Change {
	out := changes[:0:0]
	for _, c := range changes {
		if m, ok := c.(*schema.ModifyObject); ok {
			from, ok1 := m.From.(*schema.EnumType)
			to, ok2 := m.To.(*schema.EnumType)
			if ok1 && ok2 && !keepsOrder(from.Values, to.Values) {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// keepsOrder reports whether want has every value of have, in the same
// order (values added anywhere).
func keepsOrder(have, want []string) bool {
	j := 0
	for _, w := range want {
		if j < len(have) && have[j] == w {
			j++
		}
	}
	return j == len(have)
}

// foreignKeysDroppedFirst moves the foreign keys that table modifications
// drop into modifications of their own, before the others, and then the
// tables dropped: the engine orders its statements by table, and a primary
// key or unique constraint dropped in one table's statement is refused
// while a foreign key of another table, dropped in a later statement (or
// with its table), still uses it.
func foreignKeysDroppedFirst(changes []schema.Change) (drops, rest []schema.Change) {
	var first, tables []schema.Change
	for _, c := range changes {
		if _, ok := c.(*schema.DropTable); ok {
			// A table dropped takes its foreign keys with it.
			tables = append(tables, c)
			continue
		}
		m, ok := c.(*schema.ModifyTable)
		if !ok {
			rest = append(rest, c)
			continue
		}
		var fks, others []schema.Change
		for _, ch := range m.Changes {
			if _, ok := ch.(*schema.DropForeignKey); ok {
				fks = append(fks, ch)
			} else {
				others = append(others, ch)
			}
		}
		if len(fks) == 0 || len(others) == 0 {
			if len(fks) > 0 {
				first = append(first, c)
			} else {
				rest = append(rest, c)
			}
			continue
		}
		first = append(first, &schema.ModifyTable{T: m.T, Changes: fks})
		rest = append(rest, &schema.ModifyTable{T: m.T, Changes: others})
	}
	return append(first, tables...), rest
}

// withoutTables is a copy of r whose schemas (copies too) leave out the
// tables named in same ("schema\x00table"). The tables are r's own: a
// change the engine computes points at them, and at their schemas.
func withoutTables(r *schema.Realm, same map[string]bool) *schema.Realm {
	out := &schema.Realm{Attrs: r.Attrs, Objects: r.Objects}
	for _, s := range r.Schemas {
		cp := *s
		cp.Realm = out
		cp.Tables = make([]*schema.Table, 0, len(s.Tables))
		for _, t := range s.Tables {
			if !same[s.Name+"\x00"+t.Name] {
				cp.Tables = append(cp.Tables, t)
			}
		}
		out.Schemas = append(out.Schemas, &cp)
	}
	return out
}

// ownSchemas points the changes of schemas the engine computed on copies
// (withoutTables) at the realms' own schemas of the same name.
func ownSchemas(changes []schema.Change, realms ...*schema.Realm) {
	own := func(s *schema.Schema, r *schema.Realm) *schema.Schema {
		if s == nil {
			return s
		}
		if o, ok := r.Schema(s.Name); ok {
			return o
		}
		return s
	}
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.ModifySchema:
			c.S = own(c.S, realms[1])
		case *schema.AddSchema:
			c.S = own(c.S, realms[1])
		case *schema.DropSchema:
			c.S = own(c.S, realms[0])
		}
	}
}

// tablesLeftOut counts the tables left out of the engine's comparison
// because both sides hash them the same (for tests).
var tablesLeftOut atomic.Int64

// TablesLeftOut is how many tables this process left out of the engine's
// comparison because both sides hash them the same.
func TablesLeftOut() int64 { return tablesLeftOut.Load() }
