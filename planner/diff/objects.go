package diff

import (
	"slices"
	"sort"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"
)

// Objects beside tables (views, functions, triggers, sequences, domains,
// types, collations, statistics, policies, privileges), which the engine
// does not model: keel plans them from the two catalogs, whose
// descriptions are the statements that create them as PostgreSQL prints
// them. One dependency graph (pg_depend, read with each catalog) orders
// them: what depends on an object that is dropped or re-created is
// dropped before it and created again after it, and so is what depends on
// a column or table that the engine's statements change.

// ObjectSteps are the statements for the objects beside tables.
type ObjectSteps struct {
	// Drop runs first: the objects that go or are re-created, dependents
	// first (views, triggers, policies, ...: before the tables change).
	Drop []plan.Step
	// Early runs after the schemas and extensions are created and before
	// the engine's statements: what tables use (sequences, domains, types,
	// collations, functions).
	Early []plan.Step
	// Late runs after the engine's and keel's table statements: views,
	// triggers, policies, statistics, privileges, row-level security,
	// and the drops of what tables used.
	Late []plan.Step
	// Why says, by object ("domain public.d"), why keel does not plan it.
	Why map[string]string
}

// earlyKinds are created before the tables and dropped after them.
var earlyKinds = map[string]bool{
	state.CatalogSequence: true, state.CatalogDomain: true, state.CatalogType: true,
	state.CatalogCollation: true, state.CatalogFunction: true, state.CatalogProcedure: true,
}

// objectKinds are the kinds ObjectSteps plans, with the keyword SQL names
// them by.
var objectKinds = map[string]string{
	state.CatalogView: "VIEW", state.CatalogMaterializedView: "MATERIALIZED VIEW", state.CatalogViewIndex: "INDEX",
	state.CatalogFunction: "FUNCTION", state.CatalogProcedure: "PROCEDURE", state.CatalogTrigger: "TRIGGER",
	state.CatalogPolicy: "POLICY", state.CatalogSequence: "SEQUENCE", state.CatalogDomain: "DOMAIN",
	state.CatalogType: "TYPE", state.CatalogCollation: "COLLATION", state.CatalogStatistics: "STATISTICS",
	state.CatalogPrivilege: "",
}

// IsObjectKind reports whether ObjectSteps plans objects of the kind.
func IsObjectKind(kind string) bool {
	_, ok := objectKinds[kind]
	return ok
}

// objectPlan is the planning of the objects of one plan.
type objectPlan struct {
	desired, live state.Catalog
	cov           *Coverage
	// deps are each object's dependencies in each catalog.
	desiredDeps, liveDeps map[state.CatalogKey][]state.CatalogKey
	// drop and create are the objects dropped and created (both: re-created).
	drop, create map[state.CatalogKey]bool
	// inPlace are objects changed without being dropped.
	inPlace map[state.CatalogKey]bool
	// blocked are objects keel does not plan, with why.
	blocked map[state.CatalogKey]string
	// enums are the enums created again (they lose a value or reorder).
	enums map[state.CatalogKey]bool
}

// PlanObjects plans the objects beside tables from live to desired. cov
// holds what the other statements of the plan change (the engine's and
// CatalogSteps'); the objects planned are added to it.
func PlanObjects(desired, live state.Catalog, cov *Coverage) ObjectSteps {
	p := &objectPlan{desired: desired, live: live, cov: cov,
		desiredDeps: dependencies(desired), liveDeps: dependencies(live),
		drop: map[state.CatalogKey]bool{}, create: map[state.CatalogKey]bool{}, inPlace: map[state.CatalogKey]bool{},
		blocked: map[state.CatalogKey]string{}, enums: map[state.CatalogKey]bool{}}
	var keys []state.CatalogKey
	for _, cat := range []state.Catalog{desired, live} {
		for k := range cat {
			if IsObjectKind(k.Kind) {
				keys = append(keys, k)
			}
		}
	}
	sortKeys(keys)
	for _, k := range keys {
		d, l := desired[k], live[k]
		switch {
		case d == l:
		case l == "" && isSerial(d) && !p.serialOfExistingColumn(k):
			// The engine creates it with its new serial column.
			cov.keys[k] = true
		case l == "" && isSerial(d):
			// The engine creates it for a column that becomes serial,
			// with options of its own: they are set after.
			p.inPlace[k] = true
		case l == "":
			p.create[k] = true
		case d == "":
			p.drop[k] = true
		case p.changesInPlace(k, d, l):
			p.inPlace[k] = true
		default:
			p.drop[k], p.create[k] = true, true
		}
	}
	p.findEnums()
	p.cascade()
	p.block()
	var out ObjectSteps
	p.enumSteps(&out)
	p.dropSteps(&out)
	p.createSteps(&out)
	p.rowSecurity(&out)
	p.sequenceOwners(&out)
	for k := range p.drop {
		if p.blocked[k] == "" {
			cov.keys[k] = true
		}
	}
	for k := range p.create {
		if p.blocked[k] == "" {
			cov.keys[k] = true
		}
	}
	for k := range p.inPlace {
		cov.keys[k] = true
	}
	out.Why = make(map[string]string, len(p.blocked))
	for k, why := range p.blocked {
		out.Why[k.String()] = why
	}
	return out
}

// serialOfExistingColumn reports whether a serial column's sequence of the
// desired state belongs to a column the live database has already.
func (p *objectPlan) serialOfExistingColumn(seq state.CatalogKey) bool {
	for obj, refs := range p.desiredDeps {
		if obj.Kind == state.CatalogColumn && p.live[obj] != "" && slices.Contains(refs, seq) {
			return true
		}
	}
	return false
}

// changesInPlace reports whether the object changes without being dropped
// (a comment, a trigger's state, a sequence's options, privileges, a
// function's body).
func (p *objectPlan) changesInPlace(k state.CatalogKey, d, l string) bool {
	db, _ := splitDesc(d)
	lb, _ := splitDesc(l)
	switch k.Kind {
	case state.CatalogPrivilege, state.CatalogSequence:
		return true
	case state.CatalogFunction, state.CatalogProcedure:
		// CREATE OR REPLACE keeps the object (and what depends on it)
		// when the arguments (names, defaults) and the result stay.
		return signature(db) == signature(lb)
	case state.CatalogView:
		// CREATE OR REPLACE VIEW keeps the view when its columns stay, with
		// their names and types, and others come after them, and its
		// options stay.
		want, _ := extraOf(d, state.ColumnsMarker)
		have, _ := extraOf(l, state.ColumnsMarker)
		first := func(s string) string { line, _, _ := strings.Cut(s, "\n"); return line }
		return db == lb || have != "" && first(db) == first(lb) && (want == have || strings.HasPrefix(want, have+", "))
	case state.CatalogDomain:
		// ALTER DOMAIN changes the default, NOT NULL and the checks.
		first := func(s string) string { line, _, _ := strings.Cut(s, "\n"); return line }
		return first(db) == first(lb)
	}
	return db == lb
}

// signature is a function definition's first line (its name and
// arguments) and its RETURNS line.
func signature(def string) string {
	lines := strings.Split(def, "\n")
	out := lines[0]
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, " RETURNS ") {
			out += "\n" + l
		}
	}
	return out
}

// cascade re-creates what depends, in the live database, on an object
// that is dropped, or on a column or table that the plan's other
// statements change: PostgreSQL would refuse those otherwise.
func (p *objectPlan) cascade() {
	dependents := make(map[state.CatalogKey][]state.CatalogKey)
	for obj, refs := range p.liveDeps {
		for _, r := range refs {
			dependents[r] = append(dependents[r], obj)
		}
	}
	var queue []state.CatalogKey
	for k := range p.drop {
		queue = append(queue, k)
	}
	for r, objs := range dependents {
		changed := false
		switch r.Kind {
		case state.CatalogColumn:
			changed = p.cov.keys[r] || p.cov.whole[r.Owner()]
		case state.CatalogTable:
			changed = p.cov.whole[r]
		case state.CatalogEnum:
			changed = p.enums[r]
		}
		if !changed {
			continue
		}
		for _, o := range objs {
			if IsObjectKind(o.Kind) && !p.drop[o] {
				p.redo(o)
				queue = append(queue, o)
			}
		}
	}
	sortKeys(queue)
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, o := range dependents[k] {
			if IsObjectKind(o.Kind) && !p.drop[o] {
				p.redo(o)
				queue = append(queue, o)
			}
		}
	}
}

// redo drops an object of the live database and creates it again, if the
// desired state has it.
func (p *objectPlan) redo(k state.CatalogKey) {
	p.drop[k] = true
	if p.desired[k] != "" {
		p.create[k] = true
		delete(p.inPlace, k)
	}
}

// block leaves unplanned what cannot be dropped: a domain, type,
// collation, function or sequence that a column (or a typed table), which
// stays, uses.
func (p *objectPlan) block() {
	for k := range p.drop {
		if !earlyKinds[k.Kind] {
			continue
		}
		for obj, refs := range p.liveDeps {
			if obj.Kind != state.CatalogColumn && obj.Kind != state.CatalogTable || p.desired[obj] == "" {
				continue
			}
			for _, r := range refs {
				if r == k && !p.cov.keys[obj] {
					p.blocked[k] = obj.String() + " uses it, and stays: keel cannot drop it while it is used"
				}
			}
		}
	}
}

// dependencies reads the catalog's "depends on" keys as each object's
// dependencies, plus those the catalog leaves implicit: a privilege's
// object, an index's materialized view.
func dependencies(cat state.Catalog) map[state.CatalogKey][]state.CatalogKey {
	out := make(map[state.CatalogKey][]state.CatalogKey)
	for k := range cat {
		switch k.Kind {
		case state.CatalogDepends:
			obj, ref, ok := state.DependsOn(k)
			if ok {
				out[obj] = append(out[obj], ref)
			}
		case state.CatalogPrivilege:
			if o, ok := privilegeObject(k); ok {
				out[k] = append(out[k], o)
			}
		case state.CatalogViewIndex:
			out[k] = append(out[k], state.CatalogKey{Kind: state.CatalogMaterializedView, Schema: k.Schema, Name: k.Table})
		}
	}
	for _, refs := range out {
		sortKeys(refs)
	}
	return out
}

// privilegeObject is the object of a privilege key: its Table is "table
// t", "view v", "function f(integer)", ... or "schema".
func privilegeObject(k state.CatalogKey) (state.CatalogKey, bool) {
	if k.Table == "schema" {
		return state.CatalogKey{Kind: "schema", Schema: k.Schema, Name: k.Schema}, true
	}
	for _, kind := range []string{state.CatalogMaterializedView, state.CatalogView, state.CatalogTable, state.CatalogSequence, state.CatalogFunction, state.CatalogProcedure} {
		if name, ok := strings.CutPrefix(k.Table, kind+" "); ok {
			return state.CatalogKey{Kind: kind, Schema: k.Schema, Name: name}, true
		}
	}
	return state.CatalogKey{}, false
}

func sortKeys(keys []state.CatalogKey) {
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
}

// ordered sorts keys so that each comes after what it depends on (deps),
// among keys; ties and loops in name order.
func ordered(keys []state.CatalogKey, deps map[state.CatalogKey][]state.CatalogKey) []state.CatalogKey {
	sortKeys(keys)
	in := make(map[state.CatalogKey]bool, len(keys))
	for _, k := range keys {
		in[k] = true
	}
	done := make(map[state.CatalogKey]bool, len(keys))
	visiting := make(map[state.CatalogKey]bool)
	out := make([]state.CatalogKey, 0, len(keys))
	var visit func(k state.CatalogKey)
	visit = func(k state.CatalogKey) {
		if done[k] || visiting[k] {
			return
		}
		visiting[k] = true
		for _, r := range deps[k] {
			if in[r] {
				visit(r)
			}
		}
		visiting[k] = false
		done[k] = true
		out = append(out, k)
	}
	for _, k := range keys {
		visit(k)
	}
	return out
}

// dropSteps drops the objects that go or are re-created, dependents first.
// What tables use is dropped after the tables change.
func (p *objectPlan) dropSteps(out *ObjectSteps) {
	var keys []state.CatalogKey
	for k := range p.drop {
		if p.blocked[k] == "" {
			keys = append(keys, k)
		}
	}
	keys = ordered(keys, p.liveDeps)
	for i := len(keys) - 1; i >= 0; i-- {
		k := keys[i]
		if p.goesWithOwner(k) {
			continue
		}
		if k.Kind == state.CatalogPrivilege {
			// Back to the object's default privileges, after it is made.
			out.Late = append(out.Late, p.privilegeSteps(k, p.live[k], "")...)
			continue
		}
		st := p.dropStep(k)
		if earlyKinds[k.Kind] && !p.create[k] && !p.dependsOnTables(k) {
			// Dropped for good, after the columns that used it change.
			out.Late = append(out.Late, st)
		} else {
			out.Drop = append(out.Drop, st)
		}
	}
}

// goesWithOwner reports whether an object is dropped with another the plan
// drops: an index with its materialized view, a privilege with its object,
// a trigger or policy with its table.
func (p *objectPlan) goesWithOwner(k state.CatalogKey) bool {
	switch k.Kind {
	case state.CatalogViewIndex:
		return p.drop[state.CatalogKey{Kind: state.CatalogMaterializedView, Schema: k.Schema, Name: k.Table}]
	case state.CatalogPrivilege:
		o, ok := privilegeObject(k)
		return !ok || p.drop[o] || o.Kind == state.CatalogTable && p.live[k] != "" && p.desired[o] == ""
	case state.CatalogTrigger, state.CatalogPolicy:
		return p.cov.whole[k.Owner()] && p.desired[k.Owner()] == ""
	}
	return false
}

// dependsOnTables reports whether an object uses a table or view (a
// function returning a table's rows), or an enum created again: it is
// created after them and dropped before them.
func (p *objectPlan) dependsOnTables(k state.CatalogKey) bool {
	for _, deps := range []map[state.CatalogKey][]state.CatalogKey{p.desiredDeps, p.liveDeps} {
		for _, r := range deps[k] {
			switch r.Kind {
			case state.CatalogTable, state.CatalogColumn, state.CatalogView, state.CatalogMaterializedView:
				return true
			case state.CatalogEnum:
				if p.enums[r] {
					return true
				}
			}
		}
	}
	return false
}

// createSteps creates the objects that are new or re-created, what they
// depend on first, and changes those that change in place.
func (p *objectPlan) createSteps(out *ObjectSteps) {
	var keys []state.CatalogKey
	for k := range p.create {
		if p.blocked[k] == "" {
			keys = append(keys, k)
		}
	}
	for k := range p.inPlace {
		keys = append(keys, k)
	}
	// The privileges of an object created again are its desired ones.
	for k := range p.desired {
		if k.Kind != state.CatalogPrivilege || p.create[k] || p.inPlace[k] {
			continue
		}
		if o, ok := privilegeObject(k); ok && p.create[o] && p.blocked[o] == "" {
			keys = append(keys, k)
			p.create[k] = true
		}
	}
	bodies := false
	for _, k := range ordered(keys, p.desiredDeps) {
		if k.Kind == state.CatalogFunction || k.Kind == state.CatalogProcedure {
			if def, _ := splitDesc(p.desired[k]); !bodies && strings.Contains(def, "\n LANGUAGE sql\n") && strings.Contains(def, "\nAS ") {
				// As pg_dump does: a SQL function's body may use a view
				// created later in the plan; PostgreSQL checks it when
				// it runs.
				bodies = true
				out.Early = append(out.Early, plan.Step{SQL: "SET LOCAL check_function_bodies = off",
					Comment: "check SQL function bodies when they run, not when they are created (a body may use a view created later in this plan)",
					Action:  plan.ActionAlter, Object: objName(k), Transactional: true})
			}
		}
		var steps []plan.Step
		if p.inPlace[k] {
			steps = p.changeSteps(k)
		} else {
			steps = p.createObject(k)
		}
		for _, st := range steps {
			// A sequence the engine makes is changed after it.
			if earlyKinds[k.Kind] && !p.dependsOnTables(k) && !(p.inPlace[k] && p.live[k] == "") {
				out.Early = append(out.Early, st)
			} else {
				out.Late = append(out.Late, st)
			}
		}
	}
}

// splitDesc splits a description into the statement and keel's lines
// (see state.CommentMarker).
func splitDesc(desc string) (stmt string, extra []string) {
	lines := strings.Split(desc, "\n")
	i := len(lines)
	for i > 0 && strings.HasPrefix(lines[i-1], "-- keel: ") {
		i--
	}
	return strings.Join(lines[:i], "\n"), lines[i:]
}

// extraOf finds keel's line with the marker in a description: its rest.
func extraOf(desc, marker string) (string, bool) {
	_, extra := splitDesc(desc)
	for _, e := range extra {
		if rest, ok := strings.CutPrefix(e, marker); ok {
			return rest, true
		}
	}
	return "", false
}

// objectSQL names an object as SQL does after its keyword: "public.v",
// "public.f(integer)", "t_touch ON public.t".
func objectSQL(k state.CatalogKey) string {
	switch k.Kind {
	case state.CatalogTrigger, state.CatalogPolicy:
		return pgsql.QuoteIdent(k.Name) + " ON " + pgsql.QuoteQualified(k.Schema, k.Table)
	case state.CatalogFunction, state.CatalogProcedure:
		name, args, _ := strings.Cut(k.Name, "(")
		return pgsql.QuoteQualified(k.Schema, name) + "(" + args
	}
	return pgsql.QuoteQualified(k.Schema, k.Name)
}

// objName is how a plan names an object: "view public.v".
func objName(k state.CatalogKey) string {
	switch k.Kind {
	case state.CatalogTrigger, state.CatalogPolicy, state.CatalogViewIndex:
		return k.Kind + " " + plan.DisplayName(k.Schema, k.Table) + "." + plan.DisplayPart(k.Name)
	case state.CatalogPrivilege:
		if k.Table == "schema" {
			return "privileges of " + plan.DisplayPart(k.Name) + " on schema " + plan.DisplayPart(k.Schema)
		}
		return "privileges of " + plan.DisplayPart(k.Name) + " on " + k.Table + " in schema " + plan.DisplayPart(k.Schema)
	case state.CatalogFunction, state.CatalogProcedure:
		name, args, _ := strings.Cut(k.Name, "(")
		return k.Kind + " " + plan.DisplayName(k.Schema, name) + "(" + args
	}
	return k.Kind + " " + plan.DisplayName(k.Schema, k.Name)
}

func (p *objectPlan) dropStep(k state.CatalogKey) plan.Step {
	drop := "DROP " + objectKinds[k.Kind] + " "
	if isSerial(p.live[k]) && !p.create[k] {
		// A serial column's: gone already if the engine dropped the column.
		drop += "IF EXISTS "
	}
	st := plan.Step{SQL: drop + objectSQL(k), Comment: "drop " + objName(k), Action: plan.ActionDrop,
		Object: objName(k), Transactional: true}
	if p.create[k] {
		st.Comment = "drop " + objName(k) + " to create it again"
	} else {
		st.Hazards = dropHazards(k, objName(k))
	}
	return st
}

func dropHazards(k state.CatalogKey, obj string) []plan.Hazard {
	switch k.Kind {
	case state.CatalogSequence:
		return []plan.Hazard{{Code: plan.HazardDataLoss, Severity: plan.SeverityWarning, Object: obj, Message: "the sequence's current value is lost"}}
	case state.CatalogPolicy:
		return []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj, Message: "the rows the policy gave access to are no longer visible through it"}}
	}
	return []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj, Message: "queries and code that use it fail"}}
}

// createObject creates an object as its desired description says: the
// statement, then its comment, state, owner.
func (p *objectPlan) createObject(k state.CatalogKey) []plan.Step {
	desc := p.desired[k]
	if k.Kind == state.CatalogPrivilege {
		return p.privilegeSteps(k, "", desc)
	}
	stmt, _ := splitDesc(desc)
	obj := objName(k)
	st := plan.Step{SQL: stmt, Comment: "create " + obj, Action: plan.ActionCreate, Object: obj, Transactional: true}
	if p.drop[k] {
		st.Comment = "create " + obj + " again"
	}
	if k.Kind == state.CatalogMaterializedView {
		st.Hazards = []plan.Hazard{{Code: plan.HazardBlockingLock, Severity: plan.SeverityInfo, Object: obj, Message: "its query runs to fill it"}}
	}
	steps := []plan.Step{st}
	return append(steps, p.extraSteps(k, "", desc)...)
}

// changeSteps changes an object in place.
func (p *objectPlan) changeSteps(k state.CatalogKey) []plan.Step {
	d, l := p.desired[k], p.live[k]
	obj := objName(k)
	if k.Kind == state.CatalogPrivilege {
		return p.privilegeSteps(k, l, d)
	}
	db, _ := splitDesc(d)
	lb, _ := splitDesc(l)
	var steps []plan.Step
	if db != lb {
		switch k.Kind {
		case state.CatalogSequence:
			// The options, after the name as PostgreSQL printed it.
			opts := db[strings.LastIndex(db, " AS "):]
			steps = append(steps, plan.Step{SQL: "ALTER SEQUENCE " + objectSQL(k) + opts, Comment: "change " + obj, Action: plan.ActionAlter, Object: obj, Transactional: true,
				Hazards: []plan.Hazard{{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj,
					Message: "fails if the sequence's current value is outside the new MINVALUE and MAXVALUE (its value is kept: START WITH applies to a RESTART)"}}})
		case state.CatalogFunction, state.CatalogProcedure:
			steps = append(steps, plan.Step{SQL: db, Comment: "replace the body of " + obj, Action: plan.ActionAlter, Object: obj, Transactional: true,
				Hazards: []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityInfo, Object: obj, Message: "callers get the new behaviour at once"}}})
		case state.CatalogView:
			steps = append(steps, plan.Step{SQL: "CREATE OR REPLACE VIEW" + strings.TrimPrefix(db, "CREATE VIEW"), Comment: "replace the query of " + obj,
				Action: plan.ActionAlter, Object: obj, Transactional: true,
				Hazards: []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityInfo, Object: obj, Message: "queries of the view get the new rows at once"}}})
		case state.CatalogDomain:
			steps = append(steps, domainChanges(k, db, lb)...)
		}
	}
	return append(steps, p.extraSteps(k, l, d)...)
}

// extraSteps sets what keel's lines of the description say, where live
// differs: the comment, a trigger's state, a sequence's owner, a
// statistics target.
func (p *objectPlan) extraSteps(k state.CatalogKey, live, desired string) []plan.Step {
	obj := objName(k)
	var steps []plan.Step
	alter := func(sql, comment string) {
		steps = append(steps, plan.Step{SQL: sql, Comment: comment, Action: plan.ActionAlter, Object: obj, Transactional: true})
	}
	switch k.Kind {
	case state.CatalogTrigger:
		want, have := triggerState(desired), triggerState(live)
		if live == "" {
			have = "ENABLE"
		}
		if want != have {
			alter("ALTER TABLE "+pgsql.QuoteQualified(k.Schema, k.Table)+" "+want+" TRIGGER "+pgsql.QuoteIdent(k.Name), want+" "+obj)
		}
	case state.CatalogStatistics:
		want, _ := extraOf(desired, state.StatisticsMarker)
		have, _ := extraOf(live, state.StatisticsMarker)
		if want != have {
			if want == "" {
				want = "-1"
			}
			alter("ALTER STATISTICS "+objectSQL(k)+" SET STATISTICS "+want, "the statistics target of "+obj)
		}
	}
	want, _ := extraOf(desired, state.CommentMarker)
	have, _ := extraOf(live, state.CommentMarker)
	if want != have {
		if want == "" {
			want = "NULL"
		}
		alter("COMMENT ON "+objectKinds[k.Kind]+" "+objectSQL(k)+" IS "+want, "comment on "+obj)
	}
	return steps
}

// triggerState is a trigger's state as ALTER TABLE sets it: "ENABLE",
// "DISABLE", "ENABLE REPLICA" or "ENABLE ALWAYS".
func triggerState(desc string) string {
	_, extra := splitDesc(desc)
	for _, e := range extra {
		switch st := strings.TrimPrefix(e, state.TriggerMarker); st {
		case "DISABLE", "ENABLE REPLICA", "ENABLE ALWAYS":
			return st
		}
	}
	return "ENABLE"
}

// privilegeSteps revokes a grantee's privileges on an object and grants
// those of the desired description ("SELECT, INSERT WITH GRANT OPTION
// (default: none)"), or the default ones where it has none.
func (p *objectPlan) privilegeSteps(k state.CatalogKey, live, desired string) []plan.Step {
	o, ok := privilegeObject(k)
	if !ok {
		return nil
	}
	var target string
	switch o.Kind {
	case "schema":
		target = "SCHEMA " + pgsql.QuoteIdent(k.Schema)
	case state.CatalogSequence:
		target = "SEQUENCE " + pgsql.QuoteQualified(o.Schema, o.Name)
	case state.CatalogFunction, state.CatalogProcedure:
		target = objectKinds[o.Kind] + " " + objectSQL(o)
	default:
		target = "TABLE " + pgsql.QuoteQualified(o.Schema, o.Name)
	}
	grantee := "PUBLIC"
	if k.Name != "PUBLIC" {
		grantee = pgsql.QuoteIdent(k.Name)
	}
	want, def := privilegesOf(desired)
	if desired == "" {
		_, want = privilegesOf(live)
	}
	obj := objName(k)
	var steps []plan.Step
	// What the grantee has now: the live description's, or the default.
	had, _ := privilegesOf(live)
	if live == "" {
		had = def
	}
	if had != "none" && had != "" || p.drop[o] || p.create[o] {
		steps = append(steps, plan.Step{SQL: "REVOKE ALL ON " + target + " FROM " + grantee, Comment: "revoke the privileges of " + plan.DisplayPart(k.Name) + " on " + k.Table,
			Action: plan.ActionAlter, Object: obj, Transactional: true})
		if lost := missing(splitList(had), splitList(want)); len(lost) > 0 && had != "none" {
			steps[0].Hazards = []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj, Message: "loses " + strings.Join(lost, ", ") + ": what the role did with it fails"}}
		}
	}
	var plain, grantable []string
	for _, pr := range strings.Split(want, ", ") {
		switch {
		case pr == "none" || pr == "":
		case strings.HasSuffix(pr, " WITH GRANT OPTION"):
			grantable = append(grantable, strings.TrimSuffix(pr, " WITH GRANT OPTION"))
		default:
			plain = append(plain, pr)
		}
	}
	if len(plain) > 0 {
		steps = append(steps, plan.Step{SQL: "GRANT " + strings.Join(plain, ", ") + " ON " + target + " TO " + grantee, Comment: "grant " + plan.DisplayPart(k.Name) + " " + strings.Join(plain, ", ") + " on " + k.Table,
			Action: plan.ActionAlter, Object: obj, Transactional: true})
	}
	if len(grantable) > 0 {
		steps = append(steps, plan.Step{SQL: "GRANT " + strings.Join(grantable, ", ") + " ON " + target + " TO " + grantee + " WITH GRANT OPTION", Comment: "grant " + plan.DisplayPart(k.Name) + " " + strings.Join(grantable, ", ") + " on " + k.Table + " with grant option",
			Action: plan.ActionAlter, Object: obj, Transactional: true})
	}
	return steps
}

// privilegesOf reads a privilege description: the privileges and the
// default ones.
func privilegesOf(desc string) (has, def string) {
	if desc == "" {
		return "", ""
	}
	has, def, _ = strings.Cut(desc, " (default: ")
	return has, strings.TrimSuffix(def, ")")
}

// rowSecurity enables, disables, forces or stops forcing row-level
// security where the tables' descriptions differ in it.
func (p *objectPlan) rowSecurity(out *ObjectSteps) {
	var keys []state.CatalogKey
	for k, d := range p.desired {
		if k.Kind == state.CatalogTable && rls(d) != rls(p.live[k]) {
			keys = append(keys, k)
		}
	}
	for k, l := range p.live {
		if k.Kind == state.CatalogTable && p.desired[k] != "" && p.desired[k] != l && rls(p.desired[k]) != rls(l) {
			keys = append(keys, k)
		}
	}
	sortKeys(keys)
	seen := map[state.CatalogKey]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		want, have := rls(p.desired[k]), rls(p.live[k])
		obj := "table " + plan.DisplayName(k.Schema, k.Name)
		alter := func(what string, hazards ...plan.Hazard) {
			out.Late = append(out.Late, plan.Step{SQL: "ALTER TABLE " + pgsql.QuoteQualified(k.Schema, k.Name) + " " + what, Comment: strings.ToLower(what),
				Action: plan.ActionAlter, Object: obj, Transactional: true, Hazards: hazards})
		}
		if want[0] != have[0] {
			if want[0] {
				alter("ENABLE ROW LEVEL SECURITY", plan.Hazard{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj,
					Message: "roles that are not the owner see only the rows a policy lets them"})
			} else {
				alter("DISABLE ROW LEVEL SECURITY", plan.Hazard{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj,
					Message: "every role with access to the table sees all its rows"})
			}
		}
		if want[1] != have[1] {
			if want[1] {
				alter("FORCE ROW LEVEL SECURITY")
			} else {
				alter("NO FORCE ROW LEVEL SECURITY")
			}
		}
		p.cov.rls[k] = true
	}
}

// rls reads a table description's row-level security: enabled, forced.
func rls(desc string) [2]bool {
	return [2]bool{strings.Contains(desc, " row level security") && strings.Contains(strings.ReplaceAll(desc, "force row level security", ""), " row level security"),
		strings.Contains(desc, "force row level security")}
}

// sequenceOwners sets which column owns a sequence (OWNED BY), where the
// columns' descriptions differ in it ("owns sequence public.s"): after
// the tables and sequences are made, before a sequence is dropped.
func (p *objectPlan) sequenceOwners(out *ObjectSteps) {
	var keys []state.CatalogKey
	for _, cat := range []state.Catalog{p.desired, p.live} {
		for k := range cat {
			if k.Kind == state.CatalogColumn && ownedSequences(p.desired[k]) != ownedSequences(p.live[k]) && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	sortKeys(keys)
	var gone, owned []plan.Step
	for _, k := range keys {
		d, l := p.desired[k], p.live[k]
		if d == "" {
			continue // the column goes, and its sequences with it
		}
		col := pgsql.QuoteQualified(k.Schema, k.Table) + "." + pgsql.QuoteIdent(k.Name)
		want, have := splitList(ownedSequences(d)), splitList(ownedSequences(l))
		obj := "column " + plan.DisplayName(k.Schema, k.Table) + "." + plan.DisplayPart(k.Name)
		for _, s := range have {
			if !slices.Contains(want, s) && p.desired[sequenceKey(s)] != "" {
				gone = append(gone, plan.Step{SQL: "ALTER SEQUENCE " + s + " OWNED BY NONE", Comment: "the column no longer owns sequence " + s,
					Action: plan.ActionAlter, Object: obj, Transactional: true})
			}
		}
		for _, s := range want {
			if slices.Contains(have, s) || l == "" && isSerial(p.desired[sequenceKey(s)]) {
				continue // a new serial column's own sequence
			}
			owned = append(owned, plan.Step{SQL: "ALTER SEQUENCE " + s + " OWNED BY " + col, Comment: "the column owns sequence " + s + " (dropped with it)",
				Action: plan.ActionAlter, Object: obj, Transactional: true})
		}
		if withoutOwned(d) == withoutOwned(l) {
			p.cov.keys[k] = true
		}
	}
	// Owners set before sequences are dropped (OWNED BY NONE first).
	out.Late = append(append(gone, owned...), out.Late...)
}

// ownedSequences is the "owns sequence ..." part of a column's
// description: "public.s, public.t" or "".
func ownedSequences(desc string) string {
	_, rest, ok := strings.Cut(desc, " owns sequence ")
	if !ok {
		if rest, ok = strings.CutPrefix(desc, "owns sequence "); !ok {
			return ""
		}
	}
	list, _, _ := strings.Cut(rest, " comment '")
	return list
}

// withoutOwned is a column's description without its owned sequences.
func withoutOwned(desc string) string {
	list := ownedSequences(desc)
	if list == "" {
		return desc
	}
	return strings.Replace(desc, " owns sequence "+list, "", 1)
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ", ")
}

// sequenceKey is the catalog key of a sequence named as quote_ident
// prints it: public."my seq".
func sequenceKey(q string) state.CatalogKey {
	toks, err := pgsql.Lex(q)
	var parts []string
	if err == nil {
		for _, t := range toks {
			switch t.Kind {
			case pgsql.QuotedIdent:
				parts = append(parts, t.Value)
			case pgsql.Word:
				parts = append(parts, t.Text)
			}
		}
	}
	if len(parts) != 2 {
		return state.CatalogKey{}
	}
	return state.CatalogKey{Kind: state.CatalogSequence, Schema: parts[0], Name: parts[1]}
}

// isSerial reports whether a sequence's description is of a serial
// column's sequence.
func isSerial(desc string) bool {
	_, ok := extraOf(desc, state.SerialMarker)
	return ok
}

// missing lists the privileges of have that are not in want, with or
// without their grant option.
func missing(have, want []string) []string {
	base := func(p string) string { return strings.TrimSuffix(p, " WITH GRANT OPTION") }
	kept := make(map[string]bool, len(want))
	for _, w := range want {
		kept[base(w)] = true
	}
	var out []string
	for _, h := range have {
		if !kept[base(h)] {
			out = append(out, h)
		}
	}
	return out
}

// findEnums finds the enums that lose a value or whose values change
// order, which PostgreSQL cannot do in place: they are created again.
func (p *objectPlan) findEnums() {
	for k, d := range p.desired {
		l := p.live[k]
		if k.Kind != state.CatalogEnum || l == "" || d == l || p.cov.keys[k] {
			continue
		}
		if !keepsOrder(state.EnumLabels(l), state.EnumLabels(d)) {
			p.enums[k] = true
			// Its columns are converted: what uses them is created again.
			for obj, refs := range p.desiredDeps {
				if obj.Kind == state.CatalogColumn && slices.Contains(refs, k) {
					p.cov.keys[obj] = true
				}
			}
		}
	}
}

// enumSteps creates the enums of findEnums again, after the tables
// change: the old type is renamed, the new one created, each column that
// uses it converted through text (its default dropped and set again), and
// the old type dropped. What else uses the type (views, functions) is
// dropped before and created after, by cascade.
func (p *objectPlan) enumSteps(out *ObjectSteps) {
	var keys []state.CatalogKey
	for k := range p.enums {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		obj := "enum " + plan.DisplayName(k.Schema, k.Name)
		want, have := state.EnumLabels(p.desired[k]), state.EnumLabels(p.live[k])
		lost := missing(have, want)
		old := k.Name + "__keel_old"
		if len(old) > 63 {
			p.blocked[k] = "its name is too long to rename it while it is created again"
			continue
		}
		labels := make([]string, len(want))
		for i, w := range want {
			labels[i] = pgsql.QuoteLiteral(w)
		}
		add := func(sql, comment string, hazards ...plan.Hazard) {
			out.Late = append(out.Late, plan.Step{SQL: sql, Comment: comment, Action: plan.ActionAlter, Object: obj, Transactional: true, Hazards: hazards})
		}
		typ := pgsql.QuoteQualified(k.Schema, k.Name)
		why, risk := "with its values in the new order", "fails if a row holds a value the new enum does not have"
		if len(lost) > 0 {
			quoted := make([]string, len(lost))
			for i, l := range lost {
				quoted[i] = pgsql.QuoteLiteral(l)
			}
			why = "without " + strings.Join(quoted, ", ")
			risk = "fails if a row holds a value the enum no longer has: " + strings.Join(quoted, ", ")
		}
		add("ALTER TYPE "+typ+" RENAME TO "+pgsql.QuoteIdent(old), "rename the enum, to create it again "+why)
		add("CREATE TYPE "+typ+" AS ENUM ("+strings.Join(labels, ", ")+")", "create the enum again")
		var cols []state.CatalogKey
		for obj, refs := range p.desiredDeps {
			if obj.Kind == state.CatalogColumn && slices.Contains(refs, k) {
				cols = append(cols, obj)
			}
		}
		sortKeys(cols)
		for _, c := range cols {
			table := pgsql.QuoteQualified(c.Schema, c.Table)
			col := pgsql.QuoteIdent(c.Name)
			cobj := "column " + plan.DisplayName(c.Schema, c.Table) + "." + plan.DisplayPart(c.Name)
			def, hasDef := columnDefault(p.desired[c])
			if hasDef {
				add("ALTER TABLE "+table+" ALTER COLUMN "+col+" DROP DEFAULT", "drop the default of "+cobj+" while its type changes")
			}
			add("ALTER TABLE "+table+" ALTER COLUMN "+col+" TYPE "+typ+" USING "+col+"::text::"+typ, "convert "+cobj+" to the new enum",
				plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: cobj, Message: risk},
				plan.Hazard{Code: plan.HazardTableRewrite, Severity: plan.SeverityWarning, Object: cobj, Message: "converting the column rewrites the table under an ACCESS EXCLUSIVE lock"})
			if hasDef {
				add("ALTER TABLE "+table+" ALTER COLUMN "+col+" SET DEFAULT "+def, "set the default of "+cobj+" again")
			}
			p.cov.keys[c] = true
		}
		add("DROP TYPE "+pgsql.QuoteQualified(k.Schema, old), "drop the old enum")
		p.cov.keys[k] = true
	}
}

// columnDefault reads the default expression of a column's description
// (see the catalog's column query: type, not null, default, then the
// generation, identity, collation, inheritance, owned sequences and
// comment).
func columnDefault(desc string) (string, bool) {
	_, rest, ok := strings.Cut(desc, " default ")
	if !ok {
		return "", false
	}
	end := len(rest)
	for _, next := range []string{" collate ", " inherited", " owns sequence ", " comment '"} {
		if i := strings.Index(rest, next); i >= 0 && i < end {
			end = i
		}
	}
	return rest[:end], true
}

// domainChanges changes a domain's default, NOT NULL and checks, as the
// lines of the two descriptions after the first say them.
func domainChanges(k state.CatalogKey, want, have string) []plan.Step {
	obj := objName(k)
	name := objectSQL(k)
	lines := func(s string) (def string, notNull bool, checks map[string]string) {
		checks = map[string]string{}
		for _, l := range strings.Split(s, "\n")[1:] {
			l = strings.TrimPrefix(l, " ")
			switch {
			case strings.HasPrefix(l, "DEFAULT "):
				def = strings.TrimPrefix(l, "DEFAULT ")
			case l == "NOT NULL":
				notNull = true
			case strings.HasPrefix(l, "CONSTRAINT "):
				checks[l] = l
			}
		}
		return def, notNull, checks
	}
	wd, wn, wc := lines(want)
	hd, hn, hc := lines(have)
	var steps []plan.Step
	alter := func(what, comment string, hazards ...plan.Hazard) {
		steps = append(steps, plan.Step{SQL: "ALTER DOMAIN " + name + " " + what, Comment: comment, Action: plan.ActionAlter, Object: obj, Transactional: true, Hazards: hazards})
	}
	var drop, add []string
	for l := range hc {
		if wc[l] == "" {
			drop = append(drop, l)
		}
	}
	for l := range wc {
		if hc[l] == "" {
			add = append(add, l)
		}
	}
	sort.Strings(drop)
	sort.Strings(add)
	for _, l := range drop {
		// "CONSTRAINT name CHECK (...)": the name as quote_ident printed it.
		rest := strings.TrimPrefix(l, "CONSTRAINT ")
		cname := rest[:strings.Index(rest, " CHECK ")]
		alter("DROP CONSTRAINT "+cname, "drop the check "+cname+" of "+obj)
	}
	if wd != hd {
		if wd == "" {
			alter("DROP DEFAULT", "drop the default of "+obj)
		} else {
			alter("SET DEFAULT "+wd, "the default of "+obj)
		}
	}
	if wn != hn {
		if wn {
			alter("SET NOT NULL", "values of "+obj+" are not null", plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj,
				Message: "fails if a column of the domain holds NULL; checks every such column"})
		} else {
			alter("DROP NOT NULL", "values of "+obj+" may be null")
		}
	}
	for _, l := range add {
		alter("ADD "+l, "add a check to "+obj, plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj,
			Message: "fails if a value of a column of the domain breaks the check; checks every such column"})
	}
	return steps
}
