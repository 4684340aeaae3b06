package state

import (
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"

	"ariga.io/atlas/sql/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The open-source engine models no table persistence, storage parameters,
// replica identity, column storage, compression or statistics targets,
// identity options beyond start and increment, deferrable constraints or
// comments on constraints: its HCL evaluator would skip or choke on them.
// keel reads them itself, as attributes of its own (with Atlas Pro's names
// where Atlas Pro has them), takes them out of the body before the engine
// evaluates it, and keeps them as Settings: what to run in the throwaway
// database after the engine's statements, so that the normalized state's
// catalog has them.

// The kinds of a Setting that are no kind of the catalog, which describes
// these as part of the constraint or index (pg_get_constraintdef,
// pg_get_indexdef): PostgreSQL cannot alter most of them, so the
// throwaway database re-creates the constraint with them, all at once, in
// the order pg_get_constraintdef prints them ("FOREIGN KEY (a) REFERENCES
// t(id) MATCH FULL ON DELETE SET NULL (a) DEFERRABLE NOT VALID"), or sets
// the index's storage parameters in one statement.
const (
	// CatalogConstraintTiming makes a constraint deferrable: its Value is
	// "DEFERRABLE" or "DEFERRABLE INITIALLY DEFERRED", as
	// pg_get_constraintdef ends.
	CatalogConstraintTiming = "constraint timing"
	// CatalogConstraintValidity makes a foreign key or check NOT VALID:
	// its Value is "NOT VALID".
	CatalogConstraintValidity = "constraint validity"
	// CatalogConstraintMatch makes a foreign key MATCH FULL: its Value is
	// "MATCH FULL" (MATCH SIMPLE is the default, and no setting).
	CatalogConstraintMatch = "constraint match"
	// CatalogConstraintSetColumns limits the columns a foreign key's ON
	// DELETE SET NULL or SET DEFAULT sets: its Value is the list, quoted
	// ("a", "b"), as it goes in the parentheses after the action.
	CatalogConstraintSetColumns = "constraint set columns"
	// CatalogIndexStorage is the storage parameters of an index (or of a
	// unique constraint's index), in the order written: its Value is the
	// list as ALTER INDEX ... SET takes it ("fillfactor = '50',
	// deduplicate_items = 'false'").
	CatalogIndexStorage = "index storage parameters"
)

// IsConstraintOption reports whether kind is one of the Setting kinds that
// re-create a constraint (timing, validity, match, set columns).
func IsConstraintOption(kind string) bool {
	switch kind {
	case CatalogConstraintTiming, CatalogConstraintValidity, CatalogConstraintMatch, CatalogConstraintSetColumns:
		return true
	}
	return false
}

// A Setting is one thing a desired state says of a table, column or
// constraint that the engine does not model.
type Setting struct {
	// Key names the object; Kind is one of the catalog's setting kinds
	// (CatalogPersistence, ...), a constraint option
	// (CatalogConstraintTiming, ...) or CatalogIndexStorage.
	Key CatalogKey
	// Value is the desired value, as the catalog describes it ("unlogged",
	// "70", "full", "index NAME", "external", "lz4", "500",
	// "maxvalue 1000 cache 10 cycle", a comment's text, "DEFERRABLE",
	// "NOT VALID", "MATCH FULL", `"a", "b"`, "fillfactor = '50'").
	Value string
	// Pos is where the setting is written: "schema.hcl:12:5".
	Pos string
	// PrimaryKey says that the setting is the table's primary key's: its
	// name is the one PostgreSQL gives it (the engine ignores a
	// primary_key block's label), so Key.Name is empty and is looked up.
	PrimaryKey bool
}

// What names the setting's object for messages: "storage parameter
// public.t.fillfactor", "constraint comment on the primary key of public.t".
func (s Setting) What() string {
	if s.PrimaryKey {
		return s.Key.Kind + " of the primary key of " + plan.DisplayName(s.Key.Schema, s.Key.Table)
	}
	return s.Key.String()
}

// isSettingKind reports whether kind is one of the catalog's settings
// (see CatalogPersistence and the kinds after it).
func isSettingKind(kind string) bool {
	switch kind {
	case CatalogPersistence, CatalogStorageParameter, CatalogReplicaIdentity,
		CatalogColumnStorage, CatalogColumnCompression, CatalogColumnStatistics,
		CatalogIdentityOptions, CatalogConstraintComment:
		return true
	}
	return false
}

// beyondRealm lists, sorted, the objects of the catalog that the engine's
// realm does not hold all of and keel's HCL can say: the settings, the
// constraints (whose timing, validity, MATCH FULL and SET NULL columns it
// can say) and the indexes (whose storage parameters it can say).
func (c Catalog) beyondRealm() []CatalogKey {
	type named struct {
		key  CatalogKey
		name string
	}
	var found []named
	for k := range c {
		if isSettingKind(k.Kind) || k.Kind == CatalogConstraint || k.Kind == CatalogIndex {
			found = append(found, named{k, k.String()})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].name < found[j].name })
	keys := make([]CatalogKey, len(found))
	for i, f := range found {
		keys[i] = f.key
	}
	return keys
}

// settingReader takes keel's setting attributes out of table blocks.
type settingReader struct {
	settings []Setting
	using    map[CatalogKey]Conversion
	problems []string
}

// takeSettings removes keel's setting attributes from the table blocks of
// body and returns them, and the columns' `using` conversions, with every
// problem found (each starting with file:line:column). Blocks the grammar
// refuses are left to its messages.
func takeSettings(body *hclsyntax.Body) ([]Setting, map[CatalogKey]Conversion, []string) {
	var r settingReader
	for _, b := range body.Blocks {
		if b.Type == "table" {
			r.table(b)
		}
	}
	return r.settings, r.using, r.problems
}

// settingAttrs are keel's own attributes, by the kind of block they go in.
// A column's `using` is no setting (it is the conversion of a type change,
// see State.Using) but is taken out the same way.
var settingAttrs = map[string][]string{
	"table":       {"unlogged", "storage_params", "replica_identity"},
	"column":      {"storage", "compression", "statistics", "using"},
	"identity":    {"min_value", "max_value", "cache", "cycle"},
	"primary_key": {"deferrable", "initially_deferred", "comment"},
	"unique":      {"deferrable", "initially_deferred", "storage_params"},
	"index":       {"storage_params"},
	"foreign_key": {"match", "on_delete_set_columns", "deferrable", "initially_deferred", "not_valid", "comment"},
	"check":       {"not_valid", "comment"},
}

// take removes keel's attributes of a block of kind from body and returns
// them by name.
func take(body *hclsyntax.Body, kind string) map[string]*hclsyntax.Attribute {
	out := make(map[string]*hclsyntax.Attribute)
	for _, n := range settingAttrs[kind] {
		if a, ok := body.Attributes[n]; ok {
			out[n] = a
			delete(body.Attributes, n)
		}
	}
	return out
}

func (r *settingReader) problem(a *hclsyntax.Attribute, where, format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf("%s: %s in %s %s", posCol(a.NameRange), a.Name, where, fmt.Sprintf(format, args...)))
}

func (r *settingReader) add(key CatalogKey, value string, a *hclsyntax.Attribute, pk bool) {
	r.settings = append(r.settings, Setting{Key: key, Value: value, Pos: posCol(a.NameRange), PrimaryKey: pk})
}

// table reads the settings of a table block and of the blocks in it.
func (r *settingReader) table(b *hclsyntax.Block) {
	if len(b.Labels) < 1 || len(b.Labels) > 2 {
		return
	}
	name, schemaName, known := b.Labels[len(b.Labels)-1], "", false
	if len(b.Labels) == 2 {
		schemaName, known = b.Labels[0], true
	} else if a, ok := b.Body.Attributes["schema"]; ok {
		s, err := tableSchemaRef(a.Expr)
		schemaName, known = s, err == nil
	}
	where := fmt.Sprintf("table %q", name)
	// First take every attribute out, so that the engine never sees them.
	type part struct {
		kind, label, where string
		attrs              map[string]*hclsyntax.Attribute
		// body is the block's, for what keel's attributes are checked
		// against (a foreign key's columns and on_delete).
		body *hclsyntax.Body
	}
	parts := []part{{kind: "table", where: where, attrs: take(b.Body, "table")}}
	indexes := make(map[string]bool)
	for _, sub := range b.Body.Blocks {
		label := ""
		if len(sub.Labels) == 1 {
			label = sub.Labels[0]
		}
		switch sub.Type {
		case "index", "unique":
			indexes[label] = label != ""
		case "primary_key":
			indexes[pkeyName(name)] = true
		}
		switch sub.Type {
		case "column":
			w := fmt.Sprintf("%s, column %q", where, label)
			parts = append(parts, part{kind: sub.Type, label: label, where: w, attrs: take(sub.Body, sub.Type)})
			for _, id := range sub.Body.Blocks {
				if id.Type == "identity" {
					parts = append(parts, part{kind: id.Type, label: label, where: w + ", identity", attrs: take(id.Body, id.Type)})
				}
			}
		case "primary_key", "unique", "index", "foreign_key", "check":
			w := where + ", " + sub.Type
			if label != "" {
				w += fmt.Sprintf(" %q", label)
			}
			parts = append(parts, part{kind: sub.Type, label: label, where: w, attrs: take(sub.Body, sub.Type), body: sub.Body})
		}
	}
	if !known {
		for _, p := range parts {
			for _, a := range sortedAttrs(p.attrs) {
				r.problem(a, p.where, "needs the table's schema: give the table schema = schema.NAME")
			}
		}
		return
	}
	key := func(kind, n string) CatalogKey {
		return CatalogKey{Kind: kind, Schema: schemaName, Table: name, Name: n}
	}
	for _, p := range parts {
		switch {
		case len(p.attrs) == 0:
		case p.kind == "table":
			r.tableAttrs(p.attrs, p.where, key, indexes)
		case p.kind == "column" && p.label != "":
			r.columnAttrs(p.attrs, p.where, key, p.label)
		case p.kind == "identity" && p.label != "":
			r.identityAttrs(p.attrs, p.where, key(CatalogIdentityOptions, p.label))
		case p.kind == "index":
			r.indexStorage(p.attrs["storage_params"], p.label, p.where, key)
		case p.kind != "column" && p.kind != "identity":
			r.constraintAttrs(p.kind, p.label, p.attrs, p.body, p.where, key)
			if p.kind == "unique" {
				r.indexStorage(p.attrs["storage_params"], p.label, p.where, key)
			}
		}
	}
}

// tableAttrs reads unlogged, storage_params and replica_identity.
func (r *settingReader) tableAttrs(attrs map[string]*hclsyntax.Attribute, where string, key func(kind, name string) CatalogKey, indexes map[string]bool) {
	if a := attrs["unlogged"]; a != nil {
		if v, ok := boolValue(a); !ok {
			r.problem(a, where, "takes true or false")
		} else if v {
			r.add(key(CatalogPersistence, ""), "unlogged", a, false)
		}
	}
	if a := attrs["storage_params"]; a != nil {
		r.storageParams(a, where, key)
	}
	if a := attrs["replica_identity"]; a != nil {
		const takes = "takes FULL, NOTHING, DEFAULT or index.NAME (an index or unique block of the table)"
		if idx, ok := indexRef(a.Expr); ok {
			if !indexes[idx] {
				r.problem(a, where, "refers to index %q, which the table has no index, unique or primary_key block for; it %s", idx, takes)
				return
			}
			r.add(key(CatalogReplicaIdentity, ""), "index "+idx, a, false)
			return
		}
		switch w, _ := wordValue(a); w {
		case "full", "nothing":
			r.add(key(CatalogReplicaIdentity, ""), w, a, false)
		case "default":
		default:
			r.problem(a, where, takes)
		}
	}
}

// storageParams reads storage_params = { name = value, ... }.
func (r *settingReader) storageParams(a *hclsyntax.Attribute, where string, key func(kind, name string) CatalogKey) {
	const takes = `takes an object of storage parameters and their values (numbers, true or false, or strings): { fillfactor = 70, "toast.autovacuum_enabled" = false }`
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsWhollyKnown() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		r.problem(a, where, takes)
		return
	}
	names := make([]string, 0, v.LengthInt())
	values := make(map[string]cty.Value)
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		names = append(names, k.AsString())
		values[k.AsString()] = e
	}
	sort.Strings(names)
	for _, n := range names {
		if !validReloption(n) {
			r.problem(a, where, "names %q, which is not a storage parameter's name: write the name PostgreSQL gives it (fillfactor, autovacuum_enabled, toast.autovacuum_enabled, ...)", n)
			continue
		}
		text, ok := paramText(values[n])
		if !ok {
			r.problem(a, where, "gives %q a value that is not a number, true or false, or a string: it %s", n, takes)
			continue
		}
		r.add(key(CatalogStorageParameter, n), text, a, false)
	}
}

// validReloption reports whether name can be a storage parameter's name:
// a word, or toast. and a word.
func validReloption(name string) bool {
	name = strings.TrimPrefix(name, "toast.")
	if name == "" {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// paramText is a storage parameter's value as PostgreSQL keeps it: the
// number as written, true or false, or the string.
func paramText(v cty.Value) (string, bool) {
	if v.IsNull() || !v.IsKnown() {
		return "", false
	}
	switch v.Type() {
	case cty.Bool:
		return strconv.FormatBool(v.True()), true
	case cty.String:
		return v.AsString(), true
	case cty.Number:
		return numberText(v.AsBigFloat()), true
	}
	return "", false
}

// numberText writes a number as it reads: 70, 0.2.
func numberText(f *big.Float) string {
	if f.IsInt() {
		i, _ := f.Int(nil)
		return i.String()
	}
	x, _ := f.Float64()
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// columnAttrs reads storage, compression and statistics.
func (r *settingReader) columnAttrs(attrs map[string]*hclsyntax.Attribute, where string, key func(kind, name string) CatalogKey, column string) {
	if a := attrs["storage"]; a != nil {
		switch w, _ := wordValue(a); w {
		case "plain", "external", "main", "extended":
			r.add(key(CatalogColumnStorage, column), w, a, false)
		default:
			r.problem(a, where, "takes PLAIN, EXTERNAL, MAIN or EXTENDED")
		}
	}
	if a := attrs["compression"]; a != nil {
		switch w, _ := wordValue(a); w {
		case "pglz", "lz4":
			r.add(key(CatalogColumnCompression, column), w, a, false)
		default:
			r.problem(a, where, "takes pglz or lz4")
		}
	}
	if a := attrs["statistics"]; a != nil {
		n, ok := intValue(a)
		switch {
		case !ok || n < -1 || n > 10000:
			r.problem(a, where, "takes an integer from 0 to 10000 (the column's statistics target), or -1 for the server's default")
		case n >= 0:
			r.add(key(CatalogColumnStatistics, column), strconv.FormatInt(n, 10), a, false)
		}
	}
	if a := attrs["using"]; a != nil {
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
			r.problem(a, where, `takes a string, the SQL expression that converts the column's values when a plan changes its type: using = "trim(%s)::integer"`, column)
			return
		}
		if why := usingProblem(v.AsString()); why != "" {
			r.problem(a, where, "%s: it takes one SQL expression, as ALTER COLUMN ... TYPE ... USING does", why)
			return
		}
		if r.using == nil {
			r.using = make(map[CatalogKey]Conversion)
		}
		r.using[key(CatalogColumn, column)] = Conversion{Expr: strings.TrimSpace(v.AsString()), Pos: posCol(a.NameRange)}
	}
}

// usingProblem says why expr cannot follow USING in the ALTER TABLE
// statement the engine writes, where other clauses may come after it on the
// same line ("" when it can): the statement must stay one statement, and
// the expression one clause of it.
func usingProblem(expr string) string {
	toks, err := pgsql.Lex(expr)
	if err != nil {
		return fmt.Sprintf("does not read as SQL (%v)", err)
	}
	depth, seen := 0, false
	for _, t := range toks {
		switch t.Kind {
		case pgsql.Space:
		case pgsql.Comment:
			if strings.HasPrefix(t.Text, "--") {
				return "holds a -- comment, which would run on over the rest of the statement: write /* ... */"
			}
		case pgsql.Semicolon:
			return "holds a semicolon outside quotes, which would end the statement"
		case pgsql.Other:
			seen = true
			switch t.Text {
			case "(", "[":
				depth++
			case ")", "]":
				if depth--; depth < 0 {
					return fmt.Sprintf("closes a %q it never opened", t.Text)
				}
			case ",":
				if depth == 0 {
					return "holds a comma outside parentheses, which would start another clause of the statement"
				}
			}
		default:
			seen = true
		}
	}
	switch {
	case !seen:
		return "is empty"
	case depth > 0:
		return "leaves a parenthesis or bracket open"
	}
	return ""
}

// identityAttrs reads an identity's min_value, max_value, cache and cycle
// into one setting, "minvalue 5 maxvalue 100 cache 20 cycle", at the first
// of them.
func (r *settingReader) identityAttrs(attrs map[string]*hclsyntax.Attribute, where string, key CatalogKey) {
	var (
		opts  []string
		first *hclsyntax.Attribute
	)
	for _, n := range []string{"min_value", "max_value", "cache", "cycle"} {
		a := attrs[n]
		if a == nil {
			continue
		}
		if n == "cycle" {
			v, ok := boolValue(a)
			if !ok {
				r.problem(a, where, "takes true or false")
				continue
			}
			if v {
				opts = append(opts, "cycle")
			}
		} else {
			v, ok := intValue(a)
			switch {
			case !ok:
				r.problem(a, where, "takes an integer")
				continue
			case n == "cache" && v < 1:
				r.problem(a, where, "takes an integer of at least 1 (how many values the sequence hands out at a time)")
				continue
			}
			opts = append(opts, strings.ReplaceAll(n, "_", "")+" "+strconv.FormatInt(v, 10))
		}
		if first == nil || posBefore(a.NameRange, first.NameRange) {
			first = a
		}
	}
	if len(opts) > 0 {
		r.add(key, strings.Join(opts, " "), first, false)
	}
}

// constraintAttrs reads deferrable, initially_deferred, not_valid, match,
// on_delete_set_columns and comment of a primary_key, unique, foreign_key
// or check block (body).
func (r *settingReader) constraintAttrs(kind, label string, attrs map[string]*hclsyntax.Attribute, body *hclsyntax.Body, where string, key func(kind, name string) CatalogKey) {
	pk := kind == "primary_key"
	name := label
	if pk {
		name = "" // PostgreSQL names it; see Setting.PrimaryKey
	}
	deferrable, deferred := false, false
	d, id := attrs["deferrable"], attrs["initially_deferred"]
	if d != nil {
		v, ok := boolValue(d)
		if !ok {
			r.problem(d, where, "takes true or false")
		}
		deferrable = v
	}
	if id != nil {
		v, ok := boolValue(id)
		switch {
		case !ok:
			r.problem(id, where, "takes true or false")
		case v && !deferrable && (d == nil || !r.failed(d)):
			r.problem(id, where, "needs deferrable = true: a constraint that is not deferrable is checked at once, never at the end of the transaction")
		}
		deferred = v
	}
	switch {
	case deferrable && deferred:
		r.add(key(CatalogConstraintTiming, name), "DEFERRABLE INITIALLY DEFERRED", d, pk)
	case deferrable:
		r.add(key(CatalogConstraintTiming, name), "DEFERRABLE", d, pk)
	}
	if a := attrs["match"]; a != nil {
		switch w, _ := wordValue(a); w {
		case "full":
			r.add(key(CatalogConstraintMatch, name), "MATCH FULL", a, false)
		case "simple":
		default:
			r.problem(a, where, "takes FULL or SIMPLE (the default); PostgreSQL does not implement MATCH PARTIAL")
		}
	}
	if a := attrs["on_delete_set_columns"]; a != nil {
		r.setColumns(a, body, where, key(CatalogConstraintSetColumns, name))
	}
	if a := attrs["not_valid"]; a != nil {
		v, ok := boolValue(a)
		switch {
		case !ok:
			r.problem(a, where, "takes true or false")
		case v && label == "":
			r.problem(a, where, "needs the constraint's name, which PostgreSQL would choose: give the block a label, %s \"NAME\" { ... }", kind)
		case v:
			r.add(key(CatalogConstraintValidity, name), "NOT VALID", a, false)
		}
	}
	if a := attrs["comment"]; a != nil {
		v, diags := a.Expr.Value(nil)
		switch {
		case diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String:
			r.problem(a, where, "takes a string, the constraint's comment")
		case !pk && label == "":
			r.problem(a, where, "needs the constraint's name, which PostgreSQL would choose: give the block a label, %s \"NAME\" { ... }", kind)
		case v.AsString() != "":
			r.add(key(CatalogConstraintComment, name), v.AsString(), a, pk)
		}
	}
}

// setColumns reads on_delete_set_columns = [column.a, ...]: the columns,
// of the key's own, that ON DELETE SET NULL or SET DEFAULT sets.
func (r *settingReader) setColumns(a *hclsyntax.Attribute, body *hclsyntax.Body, where string, key CatalogKey) {
	const takes = "takes a list of the foreign key's own columns, [column.a, ...], that on_delete = SET_NULL or SET_DEFAULT sets (the others keep their values)"
	action := ""
	if od := body.Attributes["on_delete"]; od != nil {
		w, _ := wordValue(od)
		action = strings.ReplaceAll(w, "_", " ")
	}
	if action != "set null" && action != "set default" {
		r.problem(a, where, "needs on_delete = SET_NULL or SET_DEFAULT: only those set columns")
		return
	}
	list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok || len(list.Exprs) == 0 {
		r.problem(a, where, takes)
		return
	}
	var own []string
	if cols := body.Attributes["columns"]; cols != nil {
		if l, ok := cols.Expr.(*hclsyntax.TupleConsExpr); ok {
			for _, x := range l.Exprs {
				if n, ok := columnRef(x); ok {
					own = append(own, n)
				}
			}
		}
	}
	quoted := make([]string, 0, len(list.Exprs))
	for _, x := range list.Exprs {
		n, ok := columnRef(x)
		switch {
		case !ok:
			r.problem(a, where, takes)
			return
		case len(own) > 0 && !slices.Contains(own, n):
			r.problem(a, where, "names column %q, which is not one of the foreign key's columns: it %s", n, takes)
			return
		}
		quoted = append(quoted, pgsql.QuoteIdent(n))
	}
	r.add(key, strings.Join(quoted, ", "), a, false)
}

// columnRef reads column.NAME or column["NAME"] (and the column of a
// longer reference, table.t.column.NAME).
func columnRef(x hclsyntax.Expression) (string, bool) {
	t, ok := x.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(t.Traversal) < 2 || traversalName(t.Traversal[len(t.Traversal)-2]) != "column" {
		return "", false
	}
	switch s := t.Traversal[len(t.Traversal)-1].(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String && !s.Key.IsNull() {
			return s.Key.AsString(), true
		}
	}
	return "", false
}

// indexStorage reads storage_params = { fillfactor = 50, ... } of an index
// or unique block, in the order written: PostgreSQL keeps and prints an
// index's parameters in the order they were set, and the catalog compares
// the printed definitions.
func (r *settingReader) indexStorage(a *hclsyntax.Attribute, label, where string, key func(kind, name string) CatalogKey) {
	if a == nil {
		return
	}
	const takes = `takes an object of the index's storage parameters and their values (numbers, true or false, or strings): { fillfactor = 50, deduplicate_items = false }`
	obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		r.problem(a, where, takes)
		return
	}
	if label == "" {
		r.problem(a, where, "needs the index's name: give the block a label")
		return
	}
	var list []string
	seen := make(map[string]bool)
	for _, item := range obj.Items {
		k, kd := item.KeyExpr.Value(nil)
		v, vd := item.ValueExpr.Value(nil)
		if kd.HasErrors() || vd.HasErrors() || k.IsNull() || !k.IsKnown() || k.Type() != cty.String {
			r.problem(a, where, takes)
			return
		}
		// PostgreSQL folds the names to lower case, and prints them so.
		n := strings.ToLower(k.AsString())
		text, ok := paramText(v)
		switch {
		case n == "pages_per_range":
			r.problem(a, where, "names pages_per_range, which is the engine's: write page_per_range = %s in the block instead", strings.TrimSpace(text))
			continue
		case strings.HasPrefix(n, "toast.") || !validReloption(n):
			r.problem(a, where, "names %q, which is not an index storage parameter's name: write the name PostgreSQL gives it (fillfactor, deduplicate_items, fastupdate, gin_pending_list_limit, buffering, autosummarize)", n)
			continue
		case seen[n]:
			r.problem(a, where, "names %q twice", n)
			continue
		case !ok:
			r.problem(a, where, "gives %q a value that is not a number, true or false, or a string: it %s", n, takes)
			continue
		}
		seen[n] = true
		list = append(list, n+" = "+pgsql.QuoteLiteral(text))
	}
	if len(list) > 0 && len(list) == len(obj.Items) {
		r.add(key(CatalogIndexStorage, label), strings.Join(list, ", "), a, false)
	}
}

// failed reports whether a problem was already reported for a.
func (r *settingReader) failed(a *hclsyntax.Attribute) bool {
	prefix := posCol(a.NameRange) + ": "
	for _, p := range r.problems {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// boolValue reads a true or false.
func boolValue(a *hclsyntax.Attribute) (bool, bool) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		return false, false
	}
	return v.True(), true
}

// intValue reads an integer.
func intValue(a *hclsyntax.Attribute) (int64, bool) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.Number {
		return 0, false
	}
	f := v.AsBigFloat()
	if !f.IsInt() {
		return 0, false
	}
	i, acc := f.Int64()
	return i, acc == big.Exact
}

// wordValue reads a bare word (EXTERNAL) or a string ("external"), in
// lower case.
func wordValue(a *hclsyntax.Attribute) (string, bool) {
	if t, ok := a.Expr.(*hclsyntax.ScopeTraversalExpr); ok {
		if len(t.Traversal) == 1 {
			return strings.ToLower(t.Traversal.RootName()), true
		}
		return "", false
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return "", false
	}
	return strings.ToLower(v.AsString()), true
}

// indexRef reads index.NAME or index["NAME"].
func indexRef(x hclsyntax.Expression) (string, bool) {
	t, ok := x.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(t.Traversal) != 2 || t.Traversal.RootName() != "index" {
		return "", false
	}
	switch s := t.Traversal[1].(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String && !s.Key.IsNull() {
			return s.Key.AsString(), true
		}
	}
	return "", false
}

// tableSchemaRef reads a table's schema attribute: schema.NAME,
// schema["NAME"] or a string.
func tableSchemaRef(x hclsyntax.Expression) (string, error) {
	if t, ok := x.(*hclsyntax.ScopeTraversalExpr); ok && len(t.Traversal) == 2 && t.Traversal.RootName() == "schema" {
		if s, ok := t.Traversal[1].(hcl.TraverseIndex); ok && s.Key.Type() == cty.String && !s.Key.IsNull() {
			return s.Key.AsString(), nil
		}
	}
	return schemaRef(x)
}

// pkeyName is the name PostgreSQL gives the primary key of table: the
// table's name cut so that NAME_pkey fits in 63 bytes, on a character's
// boundary.
func pkeyName(table string) string {
	const maxLen, suffix = 63, "_pkey"
	for len(table)+len(suffix) > maxLen {
		_, size := lastRune(table)
		table = table[:len(table)-size]
	}
	return table + suffix
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0x80 || s[i] >= 0xC0 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, len(s)
}

func posBefore(a, b hcl.Range) bool {
	return a.Start.Line < b.Start.Line || a.Start.Line == b.Start.Line && a.Start.Column < b.Start.Column
}

func sortedAttrs(m map[string]*hclsyntax.Attribute) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(m))
	for _, a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return posBefore(out[i].NameRange, out[j].NameRange) })
	return out
}

// checkSettingTables makes sure that each setting's table, and each `using`
// column, is where the engine put it, so that a setting never goes to
// another table or nowhere.
func checkSettingTables(realm *schema.Realm, settings []Setting, using map[CatalogKey]Conversion) error {
	var problems []string
	for k, u := range using {
		var ok bool
		if s, found := realm.Schema(k.Schema); found {
			if t, found := s.Table(k.Table); found {
				_, ok = t.Column(k.Name)
			}
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: using of column %s: the engine has no such column: check the table's labels and its schema attribute",
				u.Pos, plan.DisplayName(k.Schema, k.Table)+"."+plan.DisplayPart(k.Name)))
		}
	}
	sort.Strings(problems)
	for _, st := range settings {
		s, ok := realm.Schema(st.Key.Schema)
		if ok {
			_, ok = s.Table(st.Key.Table)
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: %s: the engine has no table %s: check the table's labels and its schema attribute",
				st.Pos, st.What(), plan.DisplayName(st.Key.Schema, st.Key.Table)))
		}
	}
	return schemaError(problems)
}
