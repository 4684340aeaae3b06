package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"
)

// The schema engine models tables, columns, keys, indexes and checks, but
// not all of what PostgreSQL's catalog holds about them: a deferrable or
// NOT VALID constraint, MATCH FULL, ON DELETE SET NULL (columns), a check
// that names no column, an index's storage parameters or collations, a
// table's persistence and storage parameters, a column's storage. keel
// plans these itself from the two catalogs, with PostgreSQL's own
// definitions (pg_get_constraintdef, pg_get_indexdef) of the desired state:
// the settings by one statement each (SettingSQL), and a constraint or an
// index that differs in what the engine does not see by re-creating it.
// The apply checks the result against the catalog before it commits.

// CatalogSteps returns the statements that change what the engine's
// statements (whose objects cov holds) leave different between the live
// catalog and the desired one, and records the objects they change in cov:
// before are to run before the engine's statements (partitions dropped or
// detached, inheritance removed), after after them, in its transaction,
// but for indexes built CONCURRENTLY (when concurrent), which run after it.
func CatalogSteps(desired, live state.Catalog, cov *Coverage, facts Facts, concurrent bool) (before, after []plan.Step, err error) {
	return CatalogStepsOf(desired.Differences(live), desired, live, cov, facts, concurrent)
}

// CatalogStepsOf is CatalogSteps with diffs, desired.Differences(live),
// computed already (a plan lists those the steps do not cover too: at
// 1,000 tables each comparison of the catalogs takes 15-25 ms).
func CatalogStepsOf(diffs []state.CatalogDifference, desired, live state.Catalog, cov *Coverage, facts Facts, concurrent bool) (before, after []plan.Step, err error) {
	c := &catalogPlan{desired: desired, live: live, cov: cov, facts: facts, concurrent: concurrent, done: map[state.CatalogKey]bool{}, made: map[state.CatalogKey]bool{}}
	c.partitions(diffs)
	c.partitionComments(diffs)
	for _, d := range diffs {
		owner := d.Key.Owner()
		_, inDesired := desired[owner]
		if c.followsParent(d) || c.made[owner] && !inDesired {
			c.done[d.Key] = true
		}
	}
	// Constraints first: re-creating a unique constraint or primary key
	// re-creates its index too.
	for _, d := range diffs {
		if d.Key.Kind == state.CatalogConstraint {
			c.constraint(d)
		}
	}
	for _, d := range diffs {
		if d.Key.Kind == state.CatalogIndex {
			c.index(d)
		}
	}
	for _, d := range diffs {
		if d.Key.Kind == state.CatalogEnum {
			c.emptyEnum(d)
		}
	}
	// What the engine creates is as the engine models it: the constraints
	// and indexes of new tables that it does not carry whole.
	c.newTables()
	for _, d := range diffs {
		if IsSetting(d.Key.Kind) {
			if err := c.setting(d); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := c.recommented(); err != nil {
		return nil, nil, err
	}
	for k := range c.done {
		cov.keys[k] = true
	}
	return c.before, c.steps, nil
}

type catalogPlan struct {
	desired, live state.Catalog
	cov           *Coverage
	concurrent    bool // indexes of existing tables are built CONCURRENTLY
	facts         Facts
	steps, before []plan.Step
	done          map[state.CatalogKey]bool
	// made are the tables keel creates, drops, attaches or detaches itself
	// (partitions, children): what they get from their parents follows.
	made map[state.CatalogKey]bool
	// recommentKeys are the constraints re-created, whose comments go with them.
	recommentKeys []state.CatalogKey
}

func (c *catalogPlan) add(object string, sql, comment string, hazards ...plan.Hazard) {
	c.steps = append(c.steps, plan.Step{SQL: sql, Comment: comment, Action: plan.ActionAlter, Object: object, Hazards: hazards, Transactional: true})
}

// exists reports whether the table of k is in the catalog.
func exists(cat state.Catalog, k state.CatalogKey) bool {
	_, ok := cat[k.Owner()]
	return ok
}

func tableObject(k state.CatalogKey) string {
	return "table " + plan.DisplayName(k.Schema, k.Table)
}

func partObject(kind string, k state.CatalogKey) string {
	return kind + " " + plan.DisplayName(k.Schema, k.Table) + "." + plan.DisplayPart(k.Name)
}

func alterTable(k state.CatalogKey) string {
	return "ALTER TABLE " + pgsql.QuoteQualified(k.Schema, k.Table)
}

// constraintParts splits a constraint's description: the definition
// without its timing and validity, the timing ("", "DEFERRABLE" or
// "DEFERRABLE INITIALLY DEFERRED") and whether it is NOT VALID.
func constraintParts(desc string) (def, timing string, notValid bool) {
	def = desc
	if s, ok := strings.CutSuffix(def, " NOT VALID"); ok {
		def, notValid = s, true
	}
	for _, t := range []string{"DEFERRABLE INITIALLY DEFERRED", "DEFERRABLE"} {
		if s, ok := strings.CutSuffix(def, " "+t); ok {
			return s, t, notValid
		}
	}
	return def, "", notValid
}

// inherited reports whether a description is of a constraint or column
// that comes from a parent table (keel does not plan inheritance).
func inherited(desc string) bool {
	return strings.HasSuffix(desc, " inherited") || strings.HasSuffix(desc, " inherited and local")
}

func (c *catalogPlan) constraint(d state.CatalogDifference) {
	k := d.Key
	if c.done[k] || inherited(d.Desired) || inherited(d.Live) || !exists(c.desired, k) || !exists(c.live, k) {
		return
	}
	if c.cov.Covers(d) {
		// The engine makes it, without what it does not model.
		if d.Desired != "" && (c.cov.engine == nil || c.cov.engine(k, d.Desired)) {
			c.completeEngines(k, d.Desired)
		}
		return
	}
	obj := partObject("constraint", k)
	switch {
	case d.Desired != "" && d.Live != "":
		wdef, wtiming, wnv := constraintParts(d.Desired)
		ldef, ltiming, lnv := constraintParts(d.Live)
		switch {
		case wdef == ldef && wtiming == ltiming && !wnv && lnv:
			c.add(tableObject(k), alterTable(k)+" VALIDATE CONSTRAINT "+pgsql.QuoteIdent(k.Name), "validate constraint "+plan.DisplayPart(k.Name),
				plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj, Message: "fails if rows the table holds violate the constraint"})
		case wdef == ldef && wnv == lnv && strings.HasPrefix(wdef, "FOREIGN KEY"):
			c.add(tableObject(k), alterTable(k)+" ALTER CONSTRAINT "+pgsql.QuoteIdent(k.Name)+" "+timingClause(wtiming), "change when constraint "+plan.DisplayPart(k.Name)+" is checked")
		default:
			c.recreate(k, d.Desired)
		}
		c.done[k] = true
	case d.Desired != "":
		if old := c.renamed(c.live, c.desired, k, d.Desired); old != "" {
			c.rename(k, old, k.Name)
			return
		}
		ik := state.CatalogKey{Kind: state.CatalogIndex, Schema: k.Schema, Table: k.Table, Name: k.Name}
		wdef, wtiming, _ := constraintParts(d.Desired)
		if using, ok := usingIndex(wdef); ok && c.live[ik] != "" && indexDef(c.live[ik]) == indexDef(c.desired[ik]) {
			sql := alterTable(k) + " ADD CONSTRAINT " + pgsql.QuoteIdent(k.Name) + " " + using + " USING INDEX " + pgsql.QuoteIdent(k.Name)
			if wtiming != "" {
				sql += " " + wtiming
			}
			c.add(tableObject(k), sql, "make index "+plan.DisplayPart(k.Name)+" constraint "+plan.DisplayPart(k.Name))
			c.setIndexParams(ik, c.desired[ik], c.live[ik])
			c.done[ik] = true
		} else {
			if c.live[ik] != "" && !c.backsConstraint(c.live, ik) {
				// The constraint's index takes the name of the index there.
				c.add(tableObject(k), "DROP INDEX "+pgsql.QuoteQualified(k.Schema, k.Name), "drop index "+plan.DisplayPart(k.Name)+": constraint "+plan.DisplayPart(k.Name)+" takes its name")
				c.done[ik] = true
			}
			c.add(tableObject(k), alterTable(k)+" ADD CONSTRAINT "+pgsql.QuoteIdent(k.Name)+" "+d.Desired, "add constraint "+plan.DisplayPart(k.Name), addHazards(obj, d.Desired)...)
			c.setIndexParams(ik, c.desired[ik], "")
			c.done[ik] = c.done[ik] || c.live[ik] == ""
		}
		c.done[k] = true
	default:
		if to := c.renamed(c.desired, c.live, k, d.Live); to != "" {
			c.rename(k, k.Name, to)
			return
		}
		c.add(tableObject(k), alterTable(k)+" DROP CONSTRAINT "+pgsql.QuoteIdent(k.Name), "drop constraint "+plan.DisplayPart(k.Name),
			plan.Hazard{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityInfo, Object: obj, Message: "drops the constraint: rows it kept out can be written"})
		c.done[k] = true
		// Its index goes with it: the desired state's index of that name
		// is built again.
		ik := state.CatalogKey{Kind: state.CatalogIndex, Schema: k.Schema, Table: k.Table, Name: k.Name}
		c.done[ik] = c.desired[ik] == ""
		if def := c.desired[ik]; def != "" && c.live[ik] != "" && !c.backsConstraint(c.desired, ik) {
			c.createIndex(ik, def)
		}
	}
}

// timingClause is what ALTER CONSTRAINT takes for a timing.
func timingClause(timing string) string {
	switch timing {
	case "DEFERRABLE INITIALLY DEFERRED":
		return "DEFERRABLE INITIALLY DEFERRED"
	case "DEFERRABLE":
		return "DEFERRABLE INITIALLY IMMEDIATE"
	}
	return "NOT DEFERRABLE"
}

// usingIndex returns the constraint kind of a unique constraint or primary
// key that an existing index can become.
func usingIndex(def string) (string, bool) {
	switch {
	case strings.HasPrefix(def, "UNIQUE ("):
		return "UNIQUE", !strings.Contains(def, ") INCLUDE") && !strings.Contains(def, ") WITH")
	case strings.HasPrefix(def, "PRIMARY KEY ("):
		return "PRIMARY KEY", !strings.Contains(def, ") INCLUDE") && !strings.Contains(def, ") WITH")
	}
	return "", false
}

// renamed returns the one constraint of k's table that is in the catalog
// in, not in the catalog other, and has the same definition as desc: the
// other name of a constraint that is only renamed.
func (c *catalogPlan) renamed(in, other state.Catalog, k state.CatalogKey, desc string) string {
	var found []string
	for ok, o := range in {
		if ok.Kind == state.CatalogConstraint && ok.Schema == k.Schema && ok.Table == k.Table && o == desc && !c.done[ok] {
			if _, there := other[ok]; !there {
				found = append(found, ok.Name)
			}
		}
	}
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

// rename renames a constraint of k's table (and its index, if it has one).
func (c *catalogPlan) rename(k state.CatalogKey, from, to string) {
	k.Name = to
	c.add(tableObject(k), alterTable(k)+" RENAME CONSTRAINT "+pgsql.QuoteIdent(from)+" TO "+pgsql.QuoteIdent(to), "rename constraint "+plan.DisplayPart(from)+" to "+plan.DisplayPart(to),
		plan.Hazard{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityInfo, Object: partObject("constraint", k), Message: "renames the constraint (and its index): code that names it breaks"})
	c.doneConstraint(k, from)
}

// doneConstraint records a renamed constraint and its index, if any.
func (c *catalogPlan) doneConstraint(k state.CatalogKey, old string) {
	for _, kind := range []string{state.CatalogConstraint, state.CatalogIndex, state.CatalogConstraintComment} {
		c.done[state.CatalogKey{Kind: kind, Schema: k.Schema, Table: k.Table, Name: k.Name}] = true
		c.done[state.CatalogKey{Kind: kind, Schema: k.Schema, Table: k.Table, Name: old}] = true
	}
}

// recreate drops a constraint and adds it as the desired state defines it.
func (c *catalogPlan) recreate(k state.CatalogKey, desc string) {
	c.add(tableObject(k), alterTable(k)+" DROP CONSTRAINT "+pgsql.QuoteIdent(k.Name)+", ADD CONSTRAINT "+pgsql.QuoteIdent(k.Name)+" "+desc,
		"re-create constraint "+plan.DisplayPart(k.Name)+" as the desired state defines it", addHazards(partObject("constraint", k), desc)...)
	// Its index, and its comment, are made again.
	ik := state.CatalogKey{Kind: state.CatalogIndex, Schema: k.Schema, Table: k.Table, Name: k.Name}
	c.setIndexParams(ik, c.desired[ik], "")
	c.done[ik] = true
	c.done[k] = true
	c.recommentKeys = append(c.recommentKeys, k)
}

// param is one storage parameter of an index, as PostgreSQL prints it:
// fillfactor='50'.
type param struct{ name, value string }

// indexParams reads the storage parameters of a CREATE INDEX statement
// (its WITH (...)), and where the clause is, or nil.
func indexParams(def string) (params []param, start, end int) {
	at := strings.Index(def, " WITH (")
	if at < 0 {
		return nil, 0, 0
	}
	toks, err := pgsql.Lex(def[at+len(" WITH ("):])
	if err != nil {
		return nil, 0, 0
	}
	var cur []pgsql.Token
	flush := func() bool {
		if len(cur) != 3 || cur[0].Kind != pgsql.Word || cur[1].Text != "=" || (cur[2].Kind != pgsql.String && cur[2].Kind != pgsql.Word) {
			return false
		}
		params = append(params, param{cur[0].Text, cur[2].Text})
		cur = nil
		return true
	}
	for _, t := range toks {
		switch {
		case t.Kind == pgsql.Space:
		case t.Kind == pgsql.Other && t.Text == ",":
			if !flush() {
				return nil, 0, 0
			}
		case t.Kind == pgsql.Other && t.Text == ")":
			if !flush() {
				return nil, 0, 0
			}
			return params, at, at + len(" WITH (") + t.Offset + 1
		default:
			cur = append(cur, t)
		}
	}
	return nil, 0, 0
}

// withoutParams is a CREATE INDEX statement without its WITH (...).
func withoutParams(def string) string {
	if _, start, end := indexParams(def); end > 0 {
		return def[:start] + def[end:]
	}
	return def
}

// setIndexParams sets on an index the storage parameters the desired
// description has and the live one (none, for an index the plan makes)
// does not, and resets those only the live one has.
func (c *catalogPlan) setIndexParams(k state.CatalogKey, desired, live string) {
	want, _, _ := indexParams(indexDef(desired))
	have, _, _ := indexParams(indexDef(live))
	var set, reset []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			set = append(set, pgsql.QuoteIdent(w.name)+" = "+w.value)
		}
	}
	for _, h := range have {
		if !slices.ContainsFunc(want, func(w param) bool { return w.name == h.name }) {
			reset = append(reset, pgsql.QuoteIdent(h.name))
		}
	}
	name := pgsql.QuoteQualified(k.Schema, k.Name)
	if len(reset) > 0 {
		c.add(tableObject(k), "ALTER INDEX "+name+" RESET ("+strings.Join(reset, ", ")+")", "reset storage parameters of index "+plan.DisplayPart(k.Name))
	}
	if len(set) > 0 {
		c.add(tableObject(k), "ALTER INDEX "+name+" SET ("+strings.Join(set, ", ")+")", "set storage parameters of index "+plan.DisplayPart(k.Name))
	}
}

// addHazards are the risks of adding a constraint to a table with rows.
func addHazards(obj, desc string) []plan.Hazard {
	if _, _, notValid := constraintParts(desc); notValid {
		return nil
	}
	msg := "validating the constraint scans the table under a lock that blocks writes"
	if strings.HasPrefix(desc, "UNIQUE") || strings.HasPrefix(desc, "PRIMARY KEY") || strings.HasPrefix(desc, "EXCLUDE") {
		msg = "building the constraint's index blocks writes to the table until it is done"
	}
	return []plan.Hazard{
		{Code: plan.HazardBlockingLock, Severity: plan.SeverityWarning, Object: obj, Message: msg},
		{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj, Message: "fails if rows the table holds violate the constraint"},
	}
}

// backsConstraint reports whether an index of the catalog is a constraint's.
func (c *catalogPlan) backsConstraint(cat state.Catalog, ik state.CatalogKey) bool {
	if strings.HasPrefix(cat[ik], "primary key:") {
		return true
	}
	_, ok := cat[state.CatalogKey{Kind: state.CatalogConstraint, Schema: ik.Schema, Table: ik.Table, Name: ik.Name}]
	return ok
}

// indexDef is the CREATE INDEX statement of an index's description,
// without "primary key:", " invalid" and the comment.
func indexDef(desc string) string {
	def, _ := indexParts(desc)
	return def
}

// indexParts splits an index's description into its CREATE INDEX statement
// and its comment as a literal ("" without one).
func indexParts(desc string) (def, comment string) {
	def, comment = cutComment(strings.TrimPrefix(desc, "primary key: "))
	return strings.TrimSuffix(strings.TrimSuffix(def, " attached"), " invalid"), comment
}

func (c *catalogPlan) index(d state.CatalogDifference) {
	k := d.Key
	if c.done[k] || !exists(c.desired, k) || !exists(c.live, k) {
		return
	}
	if c.backsConstraint(c.desired, k) || c.backsConstraint(c.live, k) {
		// A constraint's index is made with the constraint, without the
		// storage parameters pg_get_constraintdef does not print: they
		// are set on it.
		switch {
		case d.Desired == "" || strings.Contains(d.Desired, " attached"):
		case c.cov.Covers(d):
			c.setIndexParams(k, d.Desired, "")
		case d.Live != "" && withoutParams(indexDef(d.Desired)) == withoutParams(indexDef(d.Live)):
			c.setIndexParams(k, d.Desired, d.Live)
			c.done[k] = true
		}
		return
	}
	if c.cov.Covers(d) {
		// The engine builds the index, without what it does not model:
		// built again as the desired state defines it.
		if d.Desired != "" && engineMisses(indexDef(d.Desired)) {
			c.rebuildIndex(k, true, d.Desired)
		}
		return
	}
	c.rebuildIndex(k, d.Live != "", d.Desired)
}

// rebuildIndex drops an index of an existing table (when drop) and builds
// it as desc describes (unless desc is ""): CONCURRENTLY, after the
// transaction, where the plan builds indexes so.
func (c *catalogPlan) rebuildIndex(k state.CatalogKey, drop bool, desc string) {
	if !c.concurrent {
		if drop {
			c.add(tableObject(k), "DROP INDEX "+pgsql.QuoteQualified(k.Schema, k.Name), "drop index "+plan.DisplayPart(k.Name)+" to build it as the desired state defines it")
		}
		if desc != "" {
			c.createIndex(k, desc)
		}
		c.done[k] = true
		return
	}
	later := func(sql, comment string, hazards ...plan.Hazard) {
		c.steps = append(c.steps, plan.Step{SQL: sql, Comment: comment, Action: plan.ActionAlter, Object: tableObject(k), Hazards: hazards})
	}
	obj := partObject("index", k)
	if drop {
		later("DROP INDEX CONCURRENTLY "+pgsql.QuoteQualified(k.Schema, k.Name), "drop index "+plan.DisplayPart(k.Name)+" to build it as the desired state defines it",
			plan.Hazard{Code: plan.HazardNonTransactional, Severity: plan.SeverityInfo, Object: obj, Message: "dropped CONCURRENTLY after the transaction commits"})
	}
	if desc != "" {
		def, comment := indexParts(desc)
		if rest, ok := strings.CutPrefix(def, "CREATE INDEX "); ok {
			def = "CREATE INDEX CONCURRENTLY " + rest
		} else if rest, ok := strings.CutPrefix(def, "CREATE UNIQUE INDEX "); ok {
			def = "CREATE UNIQUE INDEX CONCURRENTLY " + rest
		}
		later(def, "create index "+plan.DisplayPart(k.Name),
			plan.Hazard{Code: plan.HazardNonTransactional, Severity: plan.SeverityInfo, Object: obj,
				Message: "built CONCURRENTLY after the transaction commits: reads and writes go on; a failed build leaves an INVALID index that the next plan rebuilds"})
		if comment != "" {
			later("COMMENT ON INDEX "+pgsql.QuoteQualified(k.Schema, k.Name)+" IS "+comment, "comment on index "+plan.DisplayPart(k.Name))
		}
	}
	c.done[k] = true
}

// createIndex builds an index as the desired state's catalog describes it.
func (c *catalogPlan) createIndex(k state.CatalogKey, desc string) {
	def, comment := indexParts(desc)
	c.add(tableObject(k), def, "create index "+plan.DisplayPart(k.Name),
		plan.Hazard{Code: plan.HazardBlockingLock, Severity: plan.SeverityWarning, Object: partObject("index", k), Message: "building the index blocks writes to the table until it is done"})
	if comment != "" {
		c.add(tableObject(k), "COMMENT ON INDEX "+pgsql.QuoteQualified(k.Schema, k.Name)+" IS "+comment, "comment on index "+plan.DisplayPart(k.Name))
	}
	c.done[k] = true
}

// newTables makes the constraints and indexes of the tables the plan
// creates what the desired state defines, where the engine creates them
// without what it does not model (their timing, validity, MATCH FULL, SET
// NULL of some columns, storage parameters, collations), or not at all (a
// check that names no column).
func (c *catalogPlan) newTables() {
	keys := make([]state.CatalogKey, 0)
	for k := range c.desired {
		if (k.Kind == state.CatalogConstraint || k.Kind == state.CatalogIndex) && !c.done[k] && exists(c.desired, k) && !exists(c.live, k) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		desc := c.desired[k]
		if k.Kind == state.CatalogConstraint {
			def, timing, notValid := constraintParts(desc)
			pkey := k.Table + "_pkey"
			switch {
			case inherited(desc):
			case strings.HasPrefix(def, "PRIMARY KEY") && k.Name != pkey && len(pkey) < 64:
				// The engine's CREATE TABLE leaves the name to PostgreSQL.
				c.add(tableObject(k), alterTable(k)+" RENAME CONSTRAINT "+pgsql.QuoteIdent(pkey)+" TO "+pgsql.QuoteIdent(k.Name), "name the primary key "+plan.DisplayPart(k.Name))
				c.doneConstraint(k, pkey)
				if notValid || timing != "" || engineMisses(def) {
					c.recreate(k, desc)
				}
			case c.cov.engine != nil && !c.cov.engine(k, desc):
				c.add(tableObject(k), alterTable(k)+" ADD CONSTRAINT "+pgsql.QuoteIdent(k.Name)+" "+desc, "add constraint "+plan.DisplayPart(k.Name))
				c.done[k] = true
			default:
				c.completeEngines(k, desc)
			}
			continue
		}
		switch def := indexDef(desc); {
		case strings.Contains(desc, " attached"):
		case c.backsConstraint(c.desired, k):
			// The engine's constraint, without its storage parameters.
			c.setIndexParams(k, desc, "")
		case c.made[k.Owner()] && !c.cov.whole[k.Owner()]:
			// A partition keel creates: the engine does not know it (it
			// creates a table that inherits, with its indexes).
			c.createIndex(k, desc)
		case engineMisses(def):
			c.add(tableObject(k), "DROP INDEX "+pgsql.QuoteQualified(k.Schema, k.Name), "drop index "+plan.DisplayPart(k.Name)+" to build it as the desired state defines it")
			c.createIndex(k, desc)
		}
	}
}

// completeEngines makes a constraint that the engine's statements create
// what the desired state defines (desc), where it has what the engine does
// not model: its timing (ALTER CONSTRAINT, for a foreign key), or its
// validity, MATCH FULL, SET NULL of some columns, storage parameters
// (re-created).
func (c *catalogPlan) completeEngines(k state.CatalogKey, desc string) {
	def, timing, notValid := constraintParts(desc)
	switch {
	case notValid || engineMisses(def):
		c.recreate(k, desc)
	case timing != "" && strings.HasPrefix(def, "FOREIGN KEY"):
		c.add(tableObject(k), alterTable(k)+" ALTER CONSTRAINT "+pgsql.QuoteIdent(k.Name)+" "+timingClause(timing), "change when constraint "+plan.DisplayPart(k.Name)+" is checked")
		c.done[k] = true
	case timing != "":
		c.recreate(k, desc)
	}
}

// engineMisses reports whether a constraint or index definition holds what
// the schema engine leaves out when it creates one.
func engineMisses(def string) bool {
	if strings.Contains(def, " MATCH FULL") || strings.Contains(def, "SET NULL (") || strings.Contains(def, "SET DEFAULT (") ||
		strings.Contains(def, " COLLATE ") {
		return true
	}
	// Of storage parameters, the engine writes pages_per_range, and
	// autosummarize when it is true.
	if _, with, ok := strings.Cut(def, " WITH ("); ok {
		with, _, _ = strings.Cut(with, ")")
		for _, p := range strings.Split(with, ", ") {
			if !strings.HasPrefix(p, "pages_per_range=") && p != "autosummarize='true'" {
				return true
			}
		}
	}
	return false
}

// setting plans one setting's difference, unless the object it belongs to
// is not in the desired state (it goes with the object).
func (c *catalogPlan) setting(d state.CatalogDifference) error {
	k := d.Key
	if !exists(c.desired, k) {
		return nil
	}
	if d.Desired == "" && k.Name != "" && k.Kind != state.CatalogStorageParameter {
		// The column or constraint must still be there to reset.
		part := state.CatalogKey{Kind: state.CatalogColumn, Schema: k.Schema, Table: k.Table, Name: k.Name}
		if k.Kind == state.CatalogConstraintComment {
			part.Kind = state.CatalogConstraint
		}
		if _, ok := c.desired[part]; !ok {
			return nil
		}
		if k.Kind == state.CatalogConstraintComment && c.done[part] {
			return nil // re-created without it
		}
	}
	sql, err := SettingSQL(k, d.Desired, d.Live)
	if err != nil {
		return fmt.Errorf("planning %s: %w", k, err)
	}
	var hazards []plan.Hazard
	if k.Kind == state.CatalogPersistence {
		hazards = append(hazards, plan.Hazard{Code: plan.HazardTableRewrite, Severity: plan.SeverityWarning, Object: tableObject(k),
			Message: "SET LOGGED and SET UNLOGGED rewrite the table under an ACCESS EXCLUSIVE lock"})
		if d.Desired != "" {
			hazards = append(hazards, plan.Hazard{Code: plan.HazardDataLoss, Severity: plan.SeverityWarning, Object: tableObject(k),
				Message: "an unlogged table is emptied after a crash and is not replicated to standbys"})
		}
	}
	c.add(tableObject(k), sql, "set "+k.Kind+" of "+strings.TrimPrefix(k.String(), k.Kind+" "), hazards...)
	c.done[k] = true
	return nil
}

// recommented puts back the comments of the constraints re-created, which
// PostgreSQL drops with them.
func (c *catalogPlan) recommented() error {
	for _, k := range c.recommentKeys {
		ck := state.CatalogKey{Kind: state.CatalogConstraintComment, Schema: k.Schema, Table: k.Table, Name: k.Name}
		if comment := c.desired[ck]; comment != "" && !c.done[ck] {
			sql, err := SettingSQL(ck, comment, "")
			if err != nil {
				return err
			}
			c.add(tableObject(k), sql, "comment on constraint "+plan.DisplayPart(k.Name))
		}
		c.done[ck] = true
	}
	return nil
}

// emptyEnum creates or drops an enum without values, which the engine does
// not see.
func (c *catalogPlan) emptyEnum(d state.CatalogDifference) {
	k := d.Key
	name := pgsql.QuoteQualified(k.Schema, k.Name)
	obj := "enum " + plan.DisplayName(k.Schema, k.Name)
	switch {
	case d.Live == "" && (d.Desired == "()" || strings.HasPrefix(d.Desired, "() comment ")):
		c.steps = append(c.steps, plan.Step{SQL: "CREATE TYPE " + name + " AS ENUM ()", Comment: "create enum " + plan.DisplayPart(k.Name) + " without values",
			Action: plan.ActionCreate, Object: obj, Transactional: true})
		if comment := strings.TrimPrefix(d.Desired, "() comment "); comment != d.Desired {
			if toks, err := pgsql.Lex(comment); err == nil && len(toks) == 1 && toks[0].Kind == pgsql.String {
				c.steps = append(c.steps, plan.Step{SQL: "COMMENT ON TYPE " + name + " IS " + comment, Comment: "comment on enum " + plan.DisplayPart(k.Name),
					Action: plan.ActionCreate, Object: obj, Transactional: true})
			} else {
				return
			}
		}
		c.done[k] = true
	case d.Desired == "" && (d.Live == "()" || strings.HasPrefix(d.Live, "() comment ")):
		c.steps = append(c.steps, plan.Step{SQL: "DROP TYPE " + name, Comment: "drop enum " + plan.DisplayPart(k.Name) + ", which has no values",
			Action: plan.ActionDrop, Object: obj, Transactional: true,
			Hazards: []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj, Message: "code that uses the type breaks"}}})
		c.done[k] = true
	}
}
