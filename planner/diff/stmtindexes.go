package diff

import (
	"errors"
	"fmt"
	"strconv"

	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// createIndex reads CREATE [UNIQUE] INDEX [CONCURRENTLY]: building it on a
// table from has blocks writes, or runs after the transaction when
// CONCURRENTLY; a unique one fails on duplicates.
func (r *statementReader) createIndex(w *tokens, st *plan.Step) error {
	w.keyword("CREATE")
	unique := w.keyword("UNIQUE")
	w.keyword("INDEX")
	concurrently := w.keyword("CONCURRENTLY")
	var (
		name string
		err  error
	)
	if w.keyword("IF", "NOT", "EXISTS") || !w.upcoming("ON") {
		if name, err = w.ident(); err != nil {
			return err
		}
	}
	if !w.keyword("ON") {
		return fmt.Errorf("%s where ON should be", w.here())
	}
	w.keyword("ONLY")
	parts, err := w.name(2)
	if err != nil {
		return err
	}
	rel, err := r.table(parts)
	if err != nil {
		return err
	}
	if w.keyword("USING") {
		if _, err := w.ident(); err != nil {
			return err
		}
	}
	g, err := w.group()
	if err != nil {
		return err
	}
	t := rel.schemaTable()
	idx := &schema.Index{Name: name, Unique: unique, Table: t, Parts: keyParts(g)}
	for w.more() {
		switch {
		case w.keyword("INCLUDE"), w.keyword("WITH"):
			_, err = w.group()
		case w.keyword("NULLS", "NOT", "DISTINCT"), w.keyword("NULLS", "DISTINCT"):
		case w.keyword("TABLESPACE"):
			_, err = w.ident()
		case w.keyword("WHERE"):
			p := w.rest()
			if !p.more() {
				return errors.New("its WHERE is empty")
			}
			idx.Attrs = append(idx.Attrs, &postgres.IndexPredicate{P: p.text()})
		default:
			return fmt.Errorf("%s after the index's keys, which keel does not read", w.here())
		}
		if err != nil {
			return err
		}
	}
	add := &schema.AddIndex{I: idx}
	if concurrently {
		add.Extra = append(add.Extra, &postgres.Concurrently{})
	}
	st.Action, st.Object, st.Transactional = plan.ActionAlter, rel.object(), !concurrently
	if rel.t == nil {
		// The index of a table the plan creates, counted with it.
		st.Action = plan.ActionCreate
	}
	st.Hazards = rel.rowless(modifyHazards(t, add, r.facts))
	kind := "index"
	if unique {
		kind = "unique index"
	}
	how := ""
	if concurrently {
		how = " concurrently"
	}
	st.Comment = fmt.Sprintf("create %s %s%s on table %s", kind, strconv.Quote(name), how, plan.DisplayName(rel.schema, rel.name))
	if name == "" {
		st.Comment = fmt.Sprintf("create %s%s on table %s", kind, how, plan.DisplayName(rel.schema, rel.name))
		for i := range st.Hazards {
			st.Hazards[i].Object = rel.object()
		}
		return nil
	}
	r.cov.index(rel.key(), idx)
	return nil
}

// index resolves the name of an index: its schema and table (a zero
// relation when from does not have it).
func (r *statementReader) index(parts []string) (sch, name string, rel relation, err error) {
	sch, name, err = r.resolve("index", parts, func(s *schema.Schema, n string) bool {
		return tableOfIndex(s, n) != nil
	})
	if err != nil {
		return "", "", relation{}, err
	}
	if s, ok := r.realm.Schema(sch); ok {
		if t := tableOfIndex(s, name); t != nil {
			rel = relation{schema: sch, name: t.Name, t: t}
		}
	}
	return sch, name, rel, nil
}

// tableOfIndex is the table of schema s that has the index name (a primary
// key's included), or nil.
func tableOfIndex(s *schema.Schema, name string) *schema.Table {
	for _, t := range s.Tables {
		if _, ok := t.Index(name); ok || t.PrimaryKey != nil && t.PrimaryKey.Name == name {
			return t
		}
	}
	return nil
}

func (r *statementReader) dropIndex(w *tokens, st *plan.Step) error {
	concurrently := w.keyword("CONCURRENTLY")
	parts, cascade, err := w.dropped("index", 2)
	if err != nil {
		return err
	}
	sch, name, rel, err := r.index(parts)
	if err != nil {
		return err
	}
	obj := "index " + plan.DisplayName(sch, name)
	st.Action, st.Object, st.Transactional = plan.ActionDrop, obj, !concurrently
	st.Comment = "drop index " + plan.DisplayName(sch, name)
	if rel.t != nil {
		obj = "index " + state.TableName(rel.t) + "." + plan.DisplayPart(name)
		st.Action, st.Object = plan.ActionAlter, rel.object()
		st.Comment = "drop index " + strconv.Quote(name) + " from table " + state.TableName(rel.t)
		r.cov.index(rel.key(), &schema.Index{Name: name})
	}
	if concurrently {
		st.Hazards = append(st.Hazards, plan.Hazard{Code: plan.HazardNonTransactional, Severity: plan.SeverityInfo, Object: obj, Message: "dropped CONCURRENTLY after the transaction commits"})
	}
	if cascade {
		st.Hazards = append(st.Hazards, cascaded(obj))
	}
	return nil
}

// alterIndex reads ALTER INDEX ... RENAME TO, the one form the engine
// writes.
func (r *statementReader) alterIndex(w *tokens, st *plan.Step) error {
	w.keyword("IF", "EXISTS")
	parts, err := w.name(2)
	if err != nil {
		return err
	}
	if !w.keyword("RENAME", "TO") {
		return fmt.Errorf("ALTER INDEX ... %s is not a change keel reads", w.lead(2))
	}
	to, err := w.ident()
	if err != nil {
		return err
	}
	if err := w.end(); err != nil {
		return err
	}
	sch, name, rel, err := r.index(parts)
	if err != nil {
		return err
	}
	st.Object = "index " + plan.DisplayName(sch, name)
	st.Comment = "rename index " + strconv.Quote(name) + " to " + strconv.Quote(to)
	if rel.t != nil {
		st.Object = rel.object()
		r.cov.index(rel.key(), &schema.Index{Name: name})
		r.cov.index(rel.key(), &schema.Index{Name: to})
	}
	return nil
}
