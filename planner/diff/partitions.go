package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// The schema engine does not see partitions (it skips every table that is
// one) and models inheritance as plain columns. keel plans partitions from
// the catalogs: a partition the database lacks is created (PARTITION OF,
// its own sub-partition key, checks and indexes after it), one the desired
// state lacks is dropped with a data-loss hazard, a table whose parent or
// bound changes is detached and attached again, a plain table that becomes
// a partition is attached. Of inheritance, it plans INHERIT and NO
// INHERIT of existing tables. The columns, constraints and indexes a
// partition or child gets from its parent follow the parent.

// qualified reads a schema-qualified name as quote_ident prints it
// ("public.t", `"My Schema"."t"`) at the start of s, and the rest after one
// space.
func qualified(s string) (schemaName, name, rest string, ok bool) {
	toks, err := pgsql.Lex(s)
	if err != nil {
		return "", "", "", false
	}
	part := func(t pgsql.Token) (string, bool) {
		switch t.Kind {
		case pgsql.QuotedIdent:
			return t.Value, true
		case pgsql.Word:
			return t.Text, true
		}
		return "", false
	}
	if len(toks) < 3 || toks[1].Kind != pgsql.Other || toks[1].Text != "." {
		return "", "", "", false
	}
	if schemaName, ok = part(toks[0]); !ok {
		return "", "", "", false
	}
	if name, ok = part(toks[2]); !ok {
		return "", "", "", false
	}
	if len(toks) > 3 {
		if toks[3].Kind != pgsql.Space {
			return "", "", "", false
		}
		rest = s[toks[3].Offset+len(toks[3].Text):]
	}
	return schemaName, name, rest, true
}

// partitionOf reads a partition's description: its parent and its bound.
func partitionOf(desc string) (parent state.CatalogKey, bound string, ok bool) {
	sc, name, bound, ok := qualified(desc)
	return state.CatalogKey{Kind: state.CatalogTable, Schema: sc, Name: name}, bound, ok && bound != ""
}

// parentsOf reads the parents of a table in a catalog: the table it is a
// partition of, or the tables it inherits from.
func parentsOf(cat state.Catalog, t state.CatalogKey) []state.CatalogKey {
	if desc, ok := cat[state.CatalogKey{Kind: state.CatalogPartition, Schema: t.Schema, Table: t.Name}]; ok {
		if p, _, ok := partitionOf(desc); ok {
			return []state.CatalogKey{p}
		}
	}
	var out []state.CatalogKey
	if desc, ok := cat[state.CatalogKey{Kind: state.CatalogInherits, Schema: t.Schema, Table: t.Name}]; ok {
		for _, p := range strings.Split(desc, ", ") {
			if sc, name, _, ok := qualified(p); ok {
				out = append(out, state.CatalogKey{Kind: state.CatalogTable, Schema: sc, Name: name})
			}
		}
	}
	return out
}

// isPartition reports whether the catalog has the table as a partition.
func isPartition(cat state.Catalog, schemaName, table string) bool {
	_, ok := cat[state.CatalogKey{Kind: state.CatalogPartition, Schema: schemaName, Table: table}]
	return ok
}

// hidePartitions takes out of each realm the tables that the other side's
// catalog has as partitions: the engine, which does not see partitions on
// either side, would drop a table that is to become a partition and create
// one that is to stop being one. keel attaches and detaches them. It
// returns the function that puts the realms back.
func hidePartitions(from *schema.Realm, fromCat state.Catalog, to *schema.Realm, toCat state.Catalog) (restore func()) {
	var undo []func()
	hide := func(r *schema.Realm, other state.Catalog) {
		if r == nil || other == nil {
			return
		}
		for _, s := range r.Schemas {
			if !anyPartition(other, s) {
				continue
			}
			s, tables := s, s.Tables
			undo = append(undo, func() { s.Tables = tables })
			s.Tables = without(s.Tables, func(t *schema.Table) bool { return isPartition(other, s.Name, t.Name) })
		}
	}
	hide(from, toCat)
	hide(to, fromCat)
	return func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
}

func anyPartition(cat state.Catalog, s *schema.Schema) bool {
	for _, t := range s.Tables {
		if isPartition(cat, s.Name, t.Name) {
			return true
		}
	}
	return false
}

// partitions plans the partitions and the inheritance of tables.
func (c *catalogPlan) partitions(diffs []state.CatalogDifference) {
	var creates []state.CatalogKey
	for _, d := range diffs {
		if d.Key.Kind != state.CatalogPartition && d.Key.Kind != state.CatalogInherits {
			continue
		}
		t := d.Key.Owner()
		_, inDesired := c.desired[t]
		_, inLive := c.live[t]
		switch {
		case d.Key.Kind == state.CatalogInherits:
			switch {
			case inDesired && inLive:
				c.inherit(d)
			case c.cov.whole[t]:
				// Created with INHERITS (see inheritingTables), or dropped.
				c.made[t] = true
				c.done[d.Key] = true
			}
		case !inDesired:
			// The table goes (with its parent, or on its own: dropped).
			if p, _, ok := partitionOf(d.Live); ok && c.desired[p] != "" {
				c.dropPartition(t, d.Live)
			}
			c.made[t] = true
			c.done[d.Key] = true
		case !inLive:
			creates = append(creates, t)
		default:
			c.repartition(d)
		}
	}
	// Parents before their sub-partitions.
	depth := func(t state.CatalogKey) int {
		n := 0
		for p := parentsOf(c.desired, t); len(p) == 1 && n < 100; p = parentsOf(c.desired, p[0]) {
			n++
		}
		return n
	}
	sort.SliceStable(creates, func(i, j int) bool { return depth(creates[i]) < depth(creates[j]) })
	for _, t := range creates {
		c.createPartition(t)
	}
}

func tableSQL(t state.CatalogKey) string { return pgsql.QuoteQualified(t.Schema, t.Name) }

func partitionKey(t state.CatalogKey) state.CatalogKey {
	return state.CatalogKey{Kind: state.CatalogPartition, Schema: t.Schema, Table: t.Name}
}

// createPartition creates a partition of the desired state, with its own
// partition key when it is partitioned itself.
func (c *catalogPlan) createPartition(t state.CatalogKey) {
	pk := partitionKey(t)
	p, bound, ok := partitionOf(c.desired[pk])
	if !ok {
		return
	}
	sql := "CREATE TABLE " + tableSQL(t) + " PARTITION OF " + tableSQL(p) + " " + bound
	rest, _ := cutComment(c.desired[t])
	if _, by, ok := strings.Cut(rest, "partition by "); ok {
		sql += " PARTITION BY " + by
	}
	c.steps = append(c.steps, plan.Step{SQL: sql, Comment: "create partition " + plan.DisplayPart(t.Name) + " of " + plan.DisplayName(p.Schema, p.Name),
		Action: plan.ActionCreate, Object: "table " + plan.DisplayName(t.Schema, t.Name), Transactional: true})
	c.made[t] = true
	c.done[pk] = true
	if _, comment := cutComment(c.desired[t]); comment != "" {
		c.commentTable(t, comment)
	}
	c.done[t] = true
}

// cutComment splits a catalog description (of a table or an index) into
// the rest and its comment as a literal ("" without one): the description
// ends with "comment" and the literal quote_literal printed.
func cutComment(desc string) (rest, comment string) {
	toks, err := pgsql.Lex(desc)
	if err != nil || len(toks) < 4 {
		return desc, ""
	}
	n := len(toks)
	if toks[n-1].Kind == pgsql.String && toks[n-2].Kind == pgsql.Space && toks[n-3].Kind == pgsql.Word && toks[n-3].Text == "comment" && toks[n-4].Kind == pgsql.Space {
		return desc[:toks[n-4].Offset], toks[n-1].Text
	}
	return desc, ""
}

// commentTable sets a table's comment (a literal, or NULL).
func (c *catalogPlan) commentTable(t state.CatalogKey, comment string) {
	c.steps = append(c.steps, plan.Step{SQL: "COMMENT ON TABLE " + tableSQL(t) + " IS " + comment, Comment: "comment on table " + plan.DisplayPart(t.Name),
		Action: plan.ActionAlter, Object: "table " + plan.DisplayName(t.Schema, t.Name), Transactional: true})
}

// partitionComments plans the comments of existing partitions, which the
// engine does not see.
func (c *catalogPlan) partitionComments(diffs []state.CatalogDifference) {
	for _, d := range diffs {
		k := d.Key
		if k.Kind != state.CatalogTable || c.done[k] || d.Desired == "" || d.Live == "" || !isPartition(c.desired, k.Schema, k.Name) || !isPartition(c.live, k.Schema, k.Name) {
			continue
		}
		wrest, wc := cutComment(d.Desired)
		lrest, _ := cutComment(d.Live)
		if wrest != lrest {
			continue
		}
		if wc == "" {
			wc = "NULL"
		}
		c.commentTable(state.CatalogKey{Kind: state.CatalogTable, Schema: k.Schema, Name: k.Name}, wc)
		c.done[k] = true
	}
}

// dropPartition drops a partition the desired state does not have.
func (c *catalogPlan) dropPartition(t state.CatalogKey, desc string) {
	obj := "table " + plan.DisplayName(t.Schema, t.Name)
	table := &schema.Table{Name: t.Name, Schema: &schema.Schema{Name: t.Schema}}
	rows, bytes := c.facts.Size(table)
	loss := plan.Hazard{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: obj,
		Message: andBelow("drops the partition and all its rows", table, c.facts), Rows: rows, Bytes: bytes}
	if parent, _, ok := partitionOf(desc); ok && c.concurrent && !c.hasDefault(parent) {
		// Online: detached without blocking queries of the partitioned
		// table, then dropped, each after the transaction.
		c.steps = append(c.steps,
			plan.Step{SQL: "ALTER TABLE " + tableSQL(parent) + " DETACH PARTITION " + tableSQL(t) + " CONCURRENTLY",
				Comment: "detach partition " + plan.DisplayPart(t.Name) + " CONCURRENTLY, to drop it", Action: plan.ActionAlter, Object: obj,
				Hazards: []plan.Hazard{{Code: plan.HazardNonTransactional, Severity: plan.SeverityInfo, Object: obj,
					Message: "detached CONCURRENTLY after the transaction commits: queries go on; if the drop after it fails, the table stays, detached"}}},
			plan.Step{SQL: "DROP TABLE " + tableSQL(t), Comment: "drop partition " + plan.DisplayPart(t.Name), Action: plan.ActionDrop, Object: obj,
				Hazards: []plan.Hazard{loss}})
	} else {
		c.before = append(c.before, plan.Step{SQL: "DROP TABLE " + tableSQL(t), Comment: "drop partition " + plan.DisplayPart(t.Name),
			Action: plan.ActionDrop, Object: obj, Transactional: true, Hazards: []plan.Hazard{loss}})
	}
	c.made[t] = true
	c.done[t] = true
	c.done[partitionKey(t)] = true
}

// hasDefault reports whether the live partitioned table p has a default
// partition (PostgreSQL then refuses DETACH ... CONCURRENTLY).
func (c *catalogPlan) hasDefault(p state.CatalogKey) bool {
	for k, v := range c.live {
		if k.Kind == state.CatalogPartition {
			if parent, bound, ok := partitionOf(v); ok && parent == p && bound == "DEFAULT" {
				return true
			}
		}
	}
	return false
}

// repartition changes the parent or the bound of an existing table:
// detached (before the engine's statements) and attached again (after).
func (c *catalogPlan) repartition(d state.CatalogDifference) {
	t := d.Key.Owner()
	obj := "table " + plan.DisplayName(t.Schema, t.Name)
	if old, _, ok := partitionOf(d.Live); ok {
		c.before = append(c.before, plan.Step{SQL: "ALTER TABLE " + tableSQL(old) + " DETACH PARTITION " + tableSQL(t),
			Comment: "detach partition " + plan.DisplayPart(t.Name) + " from " + plan.DisplayName(old.Schema, old.Name),
			Action:  plan.ActionAlter, Object: obj, Transactional: true,
			Hazards: []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj,
				Message: "its rows leave the partitioned table " + plan.DisplayName(old.Schema, old.Name) + " until it is attached again"}}})
	}
	if p, bound, ok := partitionOf(d.Desired); ok {
		c.add(obj, "ALTER TABLE "+tableSQL(p)+" ATTACH PARTITION "+tableSQL(t)+" "+bound,
			"attach "+plan.DisplayPart(t.Name)+" as a partition of "+plan.DisplayName(p.Schema, p.Name),
			plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj, Message: "fails if rows of the table are outside the bound"},
			plan.Hazard{Code: plan.HazardBlockingLock, Severity: plan.SeverityWarning, Object: obj,
				Message: "ATTACH scans the table to check the bound (unless a CHECK constraint implies it), blocking writes to it"})
	}
	c.made[t] = true
	c.done[d.Key] = true
}

// inherit changes the parents a table inherits from.
func (c *catalogPlan) inherit(d state.CatalogDifference) {
	t := d.Key.Owner()
	obj := "table " + plan.DisplayName(t.Schema, t.Name)
	want, have := parentsOf(c.desired, t), parentsOf(c.live, t)
	for _, p := range have {
		if !containsKey(want, p) {
			c.before = append(c.before, plan.Step{SQL: "ALTER TABLE " + tableSQL(t) + " NO INHERIT " + tableSQL(p),
				Comment: plan.DisplayPart(t.Name) + " stops inheriting from " + plan.DisplayName(p.Schema, p.Name), Action: plan.ActionAlter, Object: obj, Transactional: true,
				Hazards: []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj,
					Message: "its rows no longer show in queries of " + plan.DisplayName(p.Schema, p.Name)}}})
		}
	}
	for _, p := range want {
		if !containsKey(have, p) {
			c.add(obj, "ALTER TABLE "+tableSQL(t)+" INHERIT "+tableSQL(p), plan.DisplayPart(t.Name)+" inherits from "+plan.DisplayName(p.Schema, p.Name),
				plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj, Message: "fails unless the table has every column and check of the parent"})
		}
	}
	c.made[t] = true
	c.done[d.Key] = true
}

func containsKey(list []state.CatalogKey, k state.CatalogKey) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}

// followsParent reports whether a difference of a column, constraint or
// index that a table has from its parent (inherited, attached) is made by
// what the plan does to the parent or to the table's place under it.
func (c *catalogPlan) followsParent(d state.CatalogDifference) bool {
	fromParent := func(desc string) bool {
		return strings.HasSuffix(desc, " inherited") || strings.HasSuffix(desc, " inherited and local") ||
			strings.Contains(desc, " attached")
	}
	if !fromParent(d.Desired) && !fromParent(d.Live) {
		return false
	}
	t := d.Key.Owner()
	if c.made[t] {
		return true
	}
	for _, cat := range []state.Catalog{c.desired, c.live} {
		for _, p := range parentsOf(cat, t) {
			if c.cov.whole[p] || c.made[p] {
				return true
			}
			pk := state.CatalogKey{Kind: d.Key.Kind, Schema: p.Schema, Table: p.Name, Name: d.Key.Name}
			if d.Key.Kind == state.CatalogColumn && (c.cov.keys[pk] || c.done[pk]) {
				return true
			}
			if d.Key.Kind != state.CatalogColumn && c.cov.touched(p) {
				return true
			}
		}
	}
	return false
}

// inheritingTables makes the engine create a table of the desired state
// that inherits from others as PostgreSQL needs it: with its own columns
// and checks only (the engine sees the inherited ones as its own) and an
// INHERITS clause, which cov keeps for renderSteps to add.
func inheritingTables(changes []schema.Change, toCat state.Catalog, cov *Coverage) {
	for _, ch := range changes {
		add, ok := ch.(*schema.AddTable)
		if !ok || add.T.Schema == nil {
			continue
		}
		tk := state.CatalogKey{Kind: state.CatalogTable, Schema: add.T.Schema.Name, Name: add.T.Name}
		parents := parentsOf(toCat, tk)
		if len(parents) == 0 || isPartition(toCat, tk.Schema, tk.Name) {
			continue
		}
		own := *add.T
		own.Columns = without(add.T.Columns, func(c *schema.Column) bool {
			return strings.HasSuffix(toCat[state.CatalogKey{Kind: state.CatalogColumn, Schema: tk.Schema, Table: tk.Name, Name: c.Name}], " inherited")
		})
		own.Attrs = without(add.T.Attrs, func(a schema.Attr) bool {
			ck, ok := a.(*schema.Check)
			return ok && strings.HasSuffix(toCat[state.CatalogKey{Kind: state.CatalogConstraint, Schema: tk.Schema, Table: tk.Name, Name: ck.Name}], " inherited")
		})
		add.T = &own
		names := make([]string, len(parents))
		for i, p := range parents {
			names[i] = tableSQL(p)
		}
		cov.inherits[&own] = " INHERITS (" + strings.Join(names, ", ") + ")"
		cov.parents[&own] = parents
	}
}

// childrenDroppedFirst moves the drops of tables that inherit from others
// before the other changes: PostgreSQL refuses to drop a parent that has
// children.
func childrenDroppedFirst(changes []schema.Change, fromCat state.Catalog) []schema.Change {
	var children, rest []schema.Change
	for _, ch := range changes {
		if d, ok := ch.(*schema.DropTable); ok && d.T.Schema != nil &&
			len(parentsOf(fromCat, state.CatalogKey{Kind: state.CatalogTable, Schema: d.T.Schema.Name, Name: d.T.Name})) > 0 {
			children = append(children, ch)
			continue
		}
		rest = append(rest, ch)
	}
	return append(children, rest...)
}

// parentsCreatedFirst orders the statements that create tables so that a
// new table comes after the new tables it inherits from: the engine orders
// new tables by name and by their foreign keys only. sources holds the
// engine's change behind each step; the steps of one change stay together,
// and a change waits only while a table it needs (a parent, a referenced
// table, the table it alters) is still to be created.
func parentsCreatedFirst(steps []plan.Step, sources []schema.Change, parents map[*schema.Table][]state.CatalogKey) []plan.Step {
	type unit struct {
		steps   []plan.Step
		creates state.CatalogKey
		needs   []state.CatalogKey
	}
	key := func(t *schema.Table) state.CatalogKey {
		if t == nil || t.Schema == nil {
			return state.CatalogKey{}
		}
		return state.CatalogKey{Kind: state.CatalogTable, Schema: t.Schema.Name, Name: t.Name}
	}
	var units []*unit
	pending := map[state.CatalogKey]bool{}
	for i, st := range steps {
		src := sources[i]
		if src != nil && i > 0 && sources[i-1] == src {
			u := units[len(units)-1]
			u.steps = append(u.steps, st)
			continue
		}
		u := &unit{steps: []plan.Step{st}}
		switch c := src.(type) {
		case *schema.AddTable:
			u.creates = key(c.T)
			pending[u.creates] = true
			u.needs = append(u.needs, parents[c.T]...)
			for _, fk := range c.T.ForeignKeys {
				u.needs = append(u.needs, key(fk.RefTable))
			}
		case *schema.ModifyTable:
			u.needs = append(u.needs, key(c.T))
			for _, ch := range c.Changes {
				if fk, ok := ch.(*schema.AddForeignKey); ok {
					u.needs = append(u.needs, key(fk.F.RefTable))
				}
			}
		}
		units = append(units, u)
	}
	ready := func(u *unit) bool {
		for _, n := range u.needs {
			if n != u.creates && pending[n] {
				return false
			}
		}
		return true
	}
	out := make([]plan.Step, 0, len(steps))
	var waiting []*unit
	emit := func(u *unit) {
		out = append(out, u.steps...)
		delete(pending, u.creates)
	}
	for _, u := range units {
		if !ready(u) {
			waiting = append(waiting, u)
			continue
		}
		emit(u)
		for progress := true; progress; {
			progress = false
			for i, w := range waiting {
				if ready(w) {
					emit(w)
					waiting = append(waiting[:i], waiting[i+1:]...)
					progress = true
					break
				}
			}
		}
	}
	for _, w := range waiting {
		out = append(out, w.steps...)
	}
	return out
}

// columnsLeftToChildren plans the drop of a parent's column that a child
// keeps as its own (the desired child has it, not only inherited) as
// ALTER TABLE ONLY ... DROP COLUMN, in a statement of its own: a plain
// DROP COLUMN drops the child's inherited column too, values and all; with
// ONLY, the child's column stays, as its own.
func columnsLeftToChildren(changes []schema.Change, toCat state.Catalog, cov *Coverage) []schema.Change {
	children := make(map[state.CatalogKey][]state.CatalogKey)
	for _, k := range toCat.InheritsKeys() {
		child := state.CatalogKey{Kind: state.CatalogTable, Schema: k.Schema, Name: k.Table}
		for _, p := range parentsOf(toCat, child) {
			children[p] = append(children[p], child)
		}
	}
	if len(children) == 0 {
		return changes
	}
	var out []schema.Change
	for _, c := range changes {
		m, ok := c.(*schema.ModifyTable)
		if !ok || m.T.Schema == nil {
			out = append(out, c)
			continue
		}
		var kept, only []schema.Change
		for _, ch := range m.Changes {
			dc, ok := ch.(*schema.DropColumn)
			left := false
			if ok {
				for _, child := range children[tableKey(m.T)] {
					ck := state.CatalogKey{Kind: state.CatalogColumn, Schema: child.Schema, Table: child.Name, Name: dc.C.Name}
					if d, ok := toCat[ck]; ok && !strings.HasSuffix(d, " inherited") {
						left = true
						cov.keys[ck] = true
					}
				}
			}
			if left {
				only = append(only, ch)
			} else {
				kept = append(kept, ch)
			}
		}
		if len(only) == 0 {
			out = append(out, c)
			continue
		}
		for _, ch := range only {
			cov.only[ch] = true
		}
		out = append(out, &schema.ModifyTable{T: m.T, Changes: only})
		if len(kept) > 0 {
			out = append(out, &schema.ModifyTable{T: m.T, Changes: kept})
		}
	}
	return out
}

// repartitioned takes out of from the live tables whose partitioning
// changes: a plain table that becomes partitioned, a partitioned one that
// becomes plain, or a new partition key. PostgreSQL cannot change that in
// place and the engine refuses to plan it, so keel drops the table (with the
// drop's data-loss hazard, which names its rows) and the engine, which no
// longer sees it, creates it again. It refuses a table that has partitions,
// inheriting tables or foreign keys pointing at it: those would go with it.
// It returns the drops, to run before the engine's changes, and the
// function that puts from back.
func repartitioned(from, to *schema.Realm, fromCat state.Catalog) (drops []schema.Change, names map[string]bool, restore func(), err error) {
	var undo []func()
	restore = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	names = make(map[string]bool)
	for _, s := range from.Schemas {
		ts, ok := to.Schema(s.Name)
		if !ok {
			continue
		}
		var gone []*schema.Table
		byName := tablesOf(ts)
		for _, t := range s.Tables {
			nt, ok := byName[t.Name]
			if !ok || samePartitioning(t, nt) {
				continue
			}
			if why := keptBy(from, fromCat, t); why != "" {
				restore()
				return nil, nil, nil, fmt.Errorf("the partitioning of table %s changes, which PostgreSQL cannot do in place: keel would drop the table and create it again, but %s; change that in a plan of its own first",
					state.TableName(t), why)
			}
			gone = append(gone, t)
		}
		if len(gone) == 0 {
			continue
		}
		s, tables := s, s.Tables
		undo = append(undo, func() { s.Tables = tables })
		s.Tables = without(s.Tables, func(t *schema.Table) bool { return slices.Contains(gone, t) })
		for _, t := range gone {
			drops = append(drops, &schema.DropTable{T: t})
			names["table "+state.TableName(t)] = true
		}
	}
	return drops, names, restore, nil
}

// samePartitioning reports whether two tables have the same partition key,
// or none.
func samePartitioning(a, b *schema.Table) bool {
	pa, pb := partitionKeyOf(a), partitionKeyOf(b)
	if pa == nil || pb == nil {
		return pa == pb
	}
	if !strings.EqualFold(pa.T, pb.T) || len(pa.Parts) != len(pb.Parts) {
		return false
	}
	for i := range pa.Parts {
		if partText(pa.Parts[i]) != partText(pb.Parts[i]) {
			return false
		}
	}
	return true
}

func partitionKeyOf(t *schema.Table) *postgres.Partition {
	for _, a := range t.Attrs {
		if p, ok := a.(*postgres.Partition); ok {
			return p
		}
	}
	return nil
}

func partText(p *postgres.PartitionPart) string {
	switch {
	case p.C != nil:
		return "column " + p.C.Name
	case p.X != nil:
		if x, ok := p.X.(*schema.RawExpr); ok {
			return "expr " + x.X
		}
		return fmt.Sprintf("expr %T %v", p.X, p.X)
	}
	return ""
}

// keptBy names what a table dropped to be created again would take with it
// in from, or returns "".
func keptBy(from *schema.Realm, fromCat state.Catalog, t *schema.Table) string {
	key := state.CatalogKey{Kind: state.CatalogTable, Schema: t.Schema.Name, Name: t.Name}
	var kept []string
	for k, v := range fromCat {
		switch k.Kind {
		case state.CatalogPartition:
			if p, _, ok := partitionOf(v); ok && p == key {
				kept = append(kept, "partition "+plan.DisplayName(k.Schema, k.Table))
			}
		case state.CatalogInherits:
			if containsKey(parentsOf(fromCat, k.Owner()), key) {
				kept = append(kept, "table "+plan.DisplayName(k.Schema, k.Table)+" inherits from it")
			}
		}
	}
	for _, s := range from.Schemas {
		for _, other := range s.Tables {
			if other == t {
				continue
			}
			for _, fk := range other.ForeignKeys {
				if fk.RefTable == t {
					kept = append(kept, "foreign key "+plan.DisplayPart(fk.Symbol)+" of table "+state.TableName(other)+" references it")
				}
			}
		}
	}
	sort.Strings(kept)
	kept = slices.Compact(kept)
	return strings.Join(kept, ", ")
}
