package state

import (
	"fmt"
	"sort"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"

	"ariga.io/atlas/sql/postgres"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Views, materialized views, functions, procedures and triggers, written
// in Atlas Pro's blocks (view, materialized, function, procedure,
// trigger). The engine models none of them. Each block becomes an
// ObjectDecl: the statements that create the object in the throwaway
// database, with a COMMENT ON statement for each comment, and, for the
// column blocks of a view, a DO block that fails there with a clear
// message when the view's column is not of the type the block says.
//
// The blocks refer to each other and to tables across files (a trigger's
// table and function, a view's depends_on, an argument's enum type), so
// the reader only lists them; the resolver, which sees every file, reads
// them, writes their statements and takes them out of the bodies before
// the engine evaluates the rest.

// The kinds of the objects these blocks declare (ObjectDecl.Kind).
const (
	kindView      = CatalogView
	kindMatView   = CatalogMaterializedView
	kindFunction  = CatalogFunction
	kindProcedure = CatalogProcedure
	kindTrigger   = CatalogTrigger
)

// routineKinds maps each block type read here to the kind it declares.
var routineKinds = map[string]string{
	"view":         kindView,
	"materialized": kindMatView,
	"function":     kindFunction,
	"procedure":    kindProcedure,
	"trigger":      kindTrigger,
}

// configParams are the settings a function or procedure block's
// config_params block can set (SET name = value): those that make sense
// for a routine. PostgreSQL reads their names in any case.
var configParams = []string{
	"search_path", "temp_tablespaces", "default_tablespace", "work_mem", "maintenance_work_mem", "temp_buffers",
	"hash_mem_multiplier", "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout",
	"TimeZone", "timezone", "DateStyle", "datestyle", "IntervalStyle", "intervalstyle", "extra_float_digits",
	"bytea_output", "xmloption", "lc_messages", "lc_monetary", "lc_numeric", "lc_time",
	"default_text_search_config", "client_encoding", "client_min_messages", "log_min_messages",
	"log_min_duration_statement", "log_statement", "application_name", "check_function_bodies",
	"row_security", "session_replication_role", "standard_conforming_strings", "array_nulls",
	"escape_string_warning", "backslash_quote", "transform_null_equals", "quote_all_identifiers",
	"synchronous_commit", "default_transaction_isolation", "default_transaction_read_only",
	"default_transaction_deferrable", "constraint_exclusion", "cursor_tuple_fraction",
	"default_statistics_target", "from_collapse_limit", "join_collapse_limit", "geqo", "geqo_threshold",
	"jit", "jit_above_cost", "plan_cache_mode", "random_page_cost", "seq_page_cost", "cpu_tuple_cost",
	"cpu_index_tuple_cost", "cpu_operator_cost", "effective_cache_size", "effective_io_concurrency",
	"parallel_setup_cost", "parallel_tuple_cost", "max_parallel_workers_per_gather",
	"min_parallel_table_scan_size", "min_parallel_index_scan_size", "enable_async_append",
	"enable_bitmapscan", "enable_gathermerge", "enable_hashagg", "enable_hashjoin", "enable_incremental_sort",
	"enable_indexonlyscan", "enable_indexscan", "enable_material", "enable_memoize", "enable_mergejoin",
	"enable_nestloop", "enable_parallel_append", "enable_parallel_hash", "enable_partition_pruning",
	"enable_partitionwise_aggregate", "enable_partitionwise_join", "enable_seqscan", "enable_sort",
	"enable_tidscan", "gin_fuzzy_search_limit", "vacuum_cost_delay", "vacuum_cost_limit",
}

// listSettings are the settings whose value is a list of names, each
// quoted as an identifier where it needs to be ("$user", public).
var listSettings = map[string]bool{"search_path": true, "temp_tablespaces": true}

// IsConfigParam reports whether a function or procedure block's
// config_params block can set the setting name.
func IsConfigParam(name string) bool { return contains(configParams, name) }

func init() {
	column := func(attrs ...string) *blockSpec {
		return &blockSpec{minLabels: 1, maxLabels: 1, labelHint: `column "id" { type = int }`, attrs: attrs}
	}
	arg := &blockSpec{maxLabels: 1, labelHint: `arg "a" { type = int }`, attrs: []string{"type", "mode", "default"}}
	config := &blockSpec{attrs: configParams}
	events := &blockSpec{attrs: []string{"insert", "update", "update_of", "delete", "truncate"}}
	registerBlock("view", &blockSpec{
		minLabels: 1, maxLabels: 2, labelHint: `view "active_users" { schema = schema.public, as = "SELECT ..." }`,
		attrs:  []string{"schema", "as", "check_option", "security", "security_barrier", "comment", "depends_on"},
		blocks: map[string]*blockSpec{"column": column("type", "null", "comment")},
	})
	registerBlock("materialized", &blockSpec{
		minLabels: 1, maxLabels: 2, labelHint: `materialized "totals" { schema = schema.public, as = "SELECT ..." }`,
		attrs: []string{"schema", "as", "comment", "depends_on"},
		blocks: map[string]*blockSpec{
			"column": column("type", "null", "comment"),
			"index": {minLabels: 1, maxLabels: 1, labelHint: `index "totals_idx" { columns = [column.total] }`,
				attrs: append([]string{"unique"}, indexAttrs...), blocks: map[string]*blockSpec{"on": indexPartSpec}},
		},
	})
	registerBlock("function", &blockSpec{
		minLabels: 1, maxLabels: 2, labelHint: `function "positive" { schema = schema.public, lang = SQL, return = boolean, as = "..." }`,
		attrs: []string{"schema", "lang", "return", "as", "volatility", "security", "strict", "leakproof", "parallel",
			"cost", "rows", "comment", "depends_on"},
		blocks: map[string]*blockSpec{
			"arg":           arg,
			"return_table":  {blocks: map[string]*blockSpec{"column": column("type")}},
			"config_params": config,
		},
	})
	registerBlock("procedure", &blockSpec{
		minLabels: 1, maxLabels: 2, labelHint: `procedure "archive" { schema = schema.public, lang = SQL, as = "..." }`,
		attrs:  []string{"schema", "lang", "as", "security", "comment", "depends_on"},
		blocks: map[string]*blockSpec{"arg": arg, "config_params": config},
	})
	registerBlock("trigger", &blockSpec{
		minLabels: 1, maxLabels: 1, labelHint: `trigger "orders_audit" { on = table.orders, after { insert = true }, execute { function = function.audit } }`,
		attrs: []string{"on", "for", "when", "comment", "depends_on"},
		blocks: map[string]*blockSpec{
			"before": events, "after": events, "instead_of": events,
			"execute": {attrs: []string{"function", "args"}},
		},
	})
	registerObjectReader(readRoutines, resolveRoutines)
}

// routineLabelsOK reports whether a block has the labels its grammar
// takes (the grammar reports it otherwise).
func routineLabelsOK(b *hclsyntax.Block) bool {
	spec := topLevel.blocks[b.Type]
	return spec != nil && len(b.Labels) >= spec.minLabels && len(b.Labels) <= spec.maxLabels
}

// readRoutines lists the view, materialized, function, procedure and
// trigger blocks of a file as ObjectDecls. It leaves the blocks in the
// body: resolveRoutines reads them with every file's declarations and
// takes them out.
func readRoutines(body *hclsyntax.Body) ([]ObjectDecl, []string) {
	var decls []ObjectDecl
	for _, b := range body.Blocks {
		kind, ok := routineKinds[b.Type]
		if !ok || !routineLabelsOK(b) {
			continue
		}
		d := ObjectDecl{Kind: kind, Name: b.Labels[len(b.Labels)-1], Pos: posCol(b.DefRange()),
			Early: kind == kindFunction || kind == kindProcedure}
		if kind != kindTrigger {
			d.Schema, _, _ = routineSchema(b)
		}
		decls = append(decls, d)
	}
	return decls, nil
}

// routineSchema reads the schema of a view, materialized, function or
// procedure block (its schema attribute, else the qualifier label) and
// its qualifier label ("" for none).
func routineSchema(b *hclsyntax.Block) (schemaName, qualifier string, err error) {
	if len(b.Labels) == 2 {
		qualifier = b.Labels[0]
	}
	if a, ok := b.Body.Attributes["schema"]; ok {
		s, err := tableSchemaRef(a.Expr)
		return s, qualifier, err
	}
	return qualifier, qualifier, nil
}

// declared is an object a block declares, as references find it.
type declared struct {
	schema, name, qualifier, pos string
}

func (d declared) display() string { return plan.DisplayName(d.schema, d.name) }

// routineBlock is one block read here.
type routineBlock struct {
	b    *hclsyntax.Block
	kind string
	declared
	decl *ObjectDecl
	// Of a function: how many arguments a call passes (IN, INOUT,
	// VARIADIC), and the type it returns as the engine prints it ("" when
	// unknown).
	inArgs  int
	returns string
	// Of a trigger: its table's name (declared.schema is its schema).
	table string
}

// routineEnv is what the blocks can refer to, from every file.
type routineEnv struct {
	schemas map[string]bool
	// byKind lists the declared objects by the root of the references
	// to them: table, view, materialized, function, procedure, enum,
	// domain, sequence, composite.
	byKind    map[string][]declared
	functions []*routineBlock
	vars      map[string]cty.Value
}

// refRoots maps the kinds of other families' declarations to the roots
// of references to them.
var refRoots = map[string]string{
	CatalogSequence: "sequence", CatalogDomain: "domain", CatalogType: "composite", CatalogCollation: "collation",
}

// resolveRoutines reads the blocks readRoutines listed, with the
// declarations of every file, writes their statements into their
// ObjectDecls and takes them out of the bodies.
func resolveRoutines(decls []ObjectDecl, bodies []*hclsyntax.Body) []string {
	env := &routineEnv{schemas: make(map[string]bool), byKind: make(map[string][]declared)}
	var blocks []*routineBlock
	for _, body := range bodies {
		kept := body.Blocks[:0:0]
		for _, b := range body.Blocks {
			kind, mine := routineKinds[b.Type]
			if !mine {
				env.note(b)
				kept = append(kept, b)
				continue
			}
			if routineLabelsOK(b) {
				blocks = append(blocks, &routineBlock{b: b, kind: kind})
			}
		}
		body.Blocks = kept
	}
	byPos := make(map[string]*ObjectDecl)
	for i := range decls {
		d := &decls[i]
		if _, mine := routineKinds[blockTypeOf(d.Kind)]; mine {
			byPos[d.Kind+"\x00"+d.Pos] = d
			continue
		}
		if root, ok := refRoots[d.Kind]; ok {
			env.byKind[root] = append(env.byKind[root], declared{schema: d.Schema, name: d.Name, pos: d.Pos})
		}
	}
	var problems []string
	seen := make(map[string]string)
	for _, rb := range blocks {
		rb.name = rb.b.Labels[len(rb.b.Labels)-1]
		rb.pos = posCol(rb.b.DefRange())
		rb.decl = byPos[rb.kind+"\x00"+rb.pos]
		if rb.kind == kindTrigger {
			continue
		}
		s, q, err := routineSchema(rb.b)
		rb.schema, rb.qualifier = s, q
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %s %q: schema takes a reference to a schema block: schema = schema.NAME",
				posCol(rb.b.Body.Attributes["schema"].Expr.Range()), rb.b.Type, rb.name))
		case s == "":
			problems = append(problems, fmt.Sprintf("%s: %s %q has no schema: write schema = schema.NAME", rb.pos, rb.b.Type, rb.name))
		case !env.schemas[s]:
			problems = append(problems, fmt.Sprintf("%s: %s %q is in schema %q, which no schema block declares: add schema %q {}", rb.pos, rb.b.Type, rb.name, s, s))
		case q != "" && q != s:
			problems = append(problems, fmt.Sprintf("%s: %s %q: its first label, %q, is its schema's name (Atlas's qualifier), but schema names %q: make them agree",
				rb.pos, rb.b.Type, rb.name, q, s))
		}
		if rb.kind == kindView || rb.kind == kindMatView {
			// Views, materialized views and tables share a namespace.
			key := rb.schema + "\x00" + rb.name
			if prev, ok := seen[key]; ok && rb.schema != "" {
				problems = append(problems, fmt.Sprintf("%s: %s %s is already declared at %s", rb.pos, rb.kind, rb.display(), prev))
			}
			seen[key] = rb.pos
			for _, t := range env.byKind["table"] {
				if t.schema == rb.schema && t.name == rb.name {
					problems = append(problems, fmt.Sprintf("%s: %s %s has the name of table %s (%s): rename one", rb.pos, rb.kind, rb.display(), t.display(), t.pos))
				}
			}
		}
		root := rb.b.Type
		env.byKind[root] = append(env.byKind[root], rb.declared)
		if rb.kind == kindFunction {
			env.functions = append(env.functions, rb)
		}
	}
	env.vars = env.refVars()
	// Functions first: triggers check what their function takes and
	// returns.
	sort.SliceStable(blocks, func(i, j int) bool {
		return (blocks[i].kind == kindFunction || blocks[i].kind == kindProcedure) && !(blocks[j].kind == kindFunction || blocks[j].kind == kindProcedure)
	})
	triggers := make(map[string]string)
	for _, rb := range blocks {
		r := &routineReader{env: env, rb: rb, where: fmt.Sprintf("%s %q", rb.b.Type, rb.name)}
		var sql []string
		switch rb.kind {
		case kindView, kindMatView:
			sql = r.view()
		case kindFunction, kindProcedure:
			sql = r.routine()
		case kindTrigger:
			sql = r.trigger()
			if rb.table != "" {
				key := rb.schema + "\x00" + rb.table + "\x00" + rb.name
				if prev, ok := triggers[key]; ok {
					r.bad(rb.b.DefRange(), "table %s already has a trigger %q, declared at %s", plan.DisplayName(rb.schema, rb.table), rb.name, prev)
				}
				triggers[key] = rb.pos
			}
		}
		r.dependsOn()
		problems = append(problems, r.problems...)
		if rb.decl == nil {
			continue
		}
		rb.decl.SQL = sql
		rb.decl.Schema, rb.decl.Table = rb.schema, rb.table
	}
	return problems
}

// blockTypeOf is the block type that declares objects of kind.
func blockTypeOf(kind string) string {
	for t, k := range routineKinds {
		if k == kind {
			return t
		}
	}
	return ""
}

// note records what a block of another kind declares: a schema, a table
// or an enum.
func (env *routineEnv) note(b *hclsyntax.Block) {
	switch b.Type {
	case "schema":
		if len(b.Labels) == 1 {
			env.schemas[b.Labels[0]] = true
		}
	case "table", "enum":
		if len(b.Labels) < 1 || len(b.Labels) > 2 {
			return
		}
		d := declared{name: b.Labels[len(b.Labels)-1], pos: posCol(b.DefRange())}
		if len(b.Labels) == 2 {
			d.qualifier, d.schema = b.Labels[0], b.Labels[0]
		}
		if a, ok := b.Body.Attributes["schema"]; ok {
			d.schema, _ = tableSchemaRef(a.Expr)
		}
		env.byKind[b.Type] = append(env.byKind[b.Type], d)
	}
}

// find returns the objects a reference ROOT.NAME or ROOT.QUALIFIER.NAME
// names: by name, and by qualifier label or schema. A name alone in
// several schemas is ambiguous unless one is in schema (the referring
// object's).
func (env *routineEnv) find(root string, path []string, inSchema string) []declared {
	var out []declared
	for _, d := range env.byKind[root] {
		switch {
		case d.name != path[len(path)-1]:
		case len(path) == 1, d.qualifier == path[0] || d.schema == path[0]:
			out = append(out, d)
		}
	}
	if len(path) == 1 && len(out) > 1 {
		var same []declared
		for _, d := range out {
			if d.schema == inSchema {
				same = append(same, d)
			}
		}
		if len(same) > 0 {
			return same
		}
	}
	return out
}

// names lists the declared objects of a root, for messages.
func (env *routineEnv) names(root string) string {
	var names []string
	for _, d := range env.byKind[root] {
		names = append(names, d.display())
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none is declared"
	}
	if len(names) > 10 {
		names = append(names[:10], fmt.Sprintf("and %d more", len(names)-10))
	}
	return "declared: " + strings.Join(names, ", ")
}

// refNode is a node of the objects that templates refer to:
// ${table.users.name}.
type refNode struct {
	name string
	kids map[string]*refNode
}

func (n *refNode) kid(k string) *refNode {
	if n.kids == nil {
		n.kids = make(map[string]*refNode)
	}
	if n.kids[k] == nil {
		n.kids[k] = &refNode{}
	}
	return n.kids[k]
}

func (n *refNode) value() cty.Value {
	attrs := make(map[string]cty.Value)
	for k, c := range n.kids {
		attrs[k] = c.value()
	}
	if n.name != "" {
		attrs["name"] = cty.StringVal(n.name)
	}
	return cty.ObjectVal(attrs)
}

// refVars are the variables the templates of the blocks can use, as
// Atlas gives them: ${table.users.name}, ${view.v.name},
// ${table.QUALIFIER.users.name}, ${schema.public.name}.
func (env *routineEnv) refVars() map[string]cty.Value {
	roots := make(map[string]*refNode)
	for root, list := range env.byKind {
		r := &refNode{}
		roots[root] = r
		for _, d := range list {
			n := r
			if d.qualifier != "" {
				n = n.kid(d.qualifier)
			}
			n.kid(d.name).name = d.name
		}
	}
	s := &refNode{}
	for name := range env.schemas {
		s.kid(name).name = name
	}
	roots["schema"] = s
	vars := make(map[string]cty.Value, len(roots))
	for k, n := range roots {
		vars[k] = n.value()
	}
	return vars
}

// routineReader reads one block and collects its problems.
type routineReader struct {
	env      *routineEnv
	rb       *routineBlock
	where    string
	problems []string
}

func (r *routineReader) bad(rng hcl.Range, format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf("%s: %s: %s", posCol(rng), r.where, fmt.Sprintf(format, args...)))
}

// text reads an attribute's string, with the templates Atlas allows
// (${table.users.name}).
func (r *routineReader) text(a *hclsyntax.Attribute) (string, bool) {
	v, diags := a.Expr.Value(&hcl.EvalContext{Variables: r.env.vars})
	if diags.HasErrors() {
		d := diags.Errs()[0].(*hcl.Diagnostic)
		r.bad(a.Expr.Range(), "%s: %s (%s); a template can use ${table.NAME.name}, ${view.NAME.name} and the like of declared blocks",
			a.Name, strings.TrimSuffix(d.Detail, "."), d.Summary)
		return "", false
	}
	if v.IsNull() || !v.IsKnown() || !v.Type().Equals(cty.String) {
		r.bad(a.Expr.Range(), "%s takes a string", a.Name)
		return "", false
	}
	return v.AsString(), true
}

// word reads a bare word (IMMUTABLE) or a string, upper case, among
// allowed.
func (r *routineReader) word(a *hclsyntax.Attribute, allowed ...string) (string, bool) {
	w, ok := wordValue(a)
	w = strings.ToUpper(w)
	if ok && contains(allowed, w) {
		return w, true
	}
	r.bad(a.Expr.Range(), "%s takes %s", a.Name, orList(allowed))
	return "", false
}

func (r *routineReader) boolean(a *hclsyntax.Attribute) (bool, bool) {
	v, ok := boolValue(a)
	if !ok {
		r.bad(a.Expr.Range(), "%s takes true or false", a.Name)
	}
	return v, ok
}

// number reads a positive number, as it goes into SQL.
func (r *routineReader) number(a *hclsyntax.Attribute) (string, bool) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || !v.Type().Equals(cty.Number) || v.AsBigFloat().Sign() <= 0 {
		r.bad(a.Expr.Range(), "%s takes a positive number", a.Name)
		return "", false
	}
	return numberText(v.AsBigFloat()), true
}

func orList(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// reference reads a reference ROOT.NAME or ROOT.QUALIFIER.NAME (each
// part also as ["..."]) as its root and path.
func reference(x hclsyntax.Expression) (string, []string, bool) {
	t, ok := x.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(t.Traversal) < 2 || len(t.Traversal) > 3 {
		return "", nil, false
	}
	var path []string
	for _, step := range t.Traversal[1:] {
		switch s := step.(type) {
		case hcl.TraverseAttr:
			path = append(path, s.Name)
		case hcl.TraverseIndex:
			if !s.Key.Type().Equals(cty.String) || s.Key.IsNull() {
				return "", nil, false
			}
			path = append(path, s.Key.AsString())
		default:
			return "", nil, false
		}
	}
	return t.Traversal.RootName(), path, true
}

func refText(root string, path []string) string { return root + "." + strings.Join(path, ".") }

// resolve finds the one object a reference names, or reports why not.
func (r *routineReader) resolve(x hclsyntax.Expression, what string, roots ...string) (string, declared, bool) {
	root, path, ok := reference(x)
	if !ok || !contains(roots, root) {
		forms := make([]string, len(roots))
		for i, k := range roots {
			forms[i] = k + ".NAME"
		}
		r.bad(x.Range(), "%s takes a reference to a block: %s", what, orList(forms))
		return "", declared{}, false
	}
	found := r.env.find(root, path, r.rb.schema)
	switch {
	case len(found) == 0:
		r.bad(x.Range(), "%s names %s, which no %s block declares (%s)", what, refText(root, path), root, r.env.names(root))
		return "", declared{}, false
	case len(found) > 1:
		r.bad(x.Range(), "%s names %s, declared in several schemas: write %s.SCHEMA.NAME", what, refText(root, path), root)
		return "", declared{}, false
	}
	return root, found[0], true
}

// dependsOn checks that every reference of depends_on names a declared
// block. keel does not need the order it gives: the throwaway database
// creates objects in rounds until none is left waiting for another.
func (r *routineReader) dependsOn() {
	a, ok := r.rb.b.Body.Attributes["depends_on"]
	if !ok {
		return
	}
	list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		r.bad(a.Expr.Range(), "depends_on takes a list of references to blocks: depends_on = [table.NAME, view.NAME, function.NAME]")
		return
	}
	for _, x := range list.Exprs {
		r.resolve(x, "depends_on", "table", "view", "materialized", "function", "procedure", "enum", "domain", "sequence", "composite", "collation")
	}
}

// typ reads a type expression as it goes into SQL, as a column's type
// reads: the engine's types (int, varchar(255), sql("...")), a reference
// to an enum, domain or composite block or to a table (its row type), or
// an extension's type (citext).
func (r *routineReader) typ(x hclsyntax.Expression, what string) (string, bool) {
	if root, _, ok := reference(x); ok && (root == "enum" || root == "domain" || root == "composite" || root == "table") {
		_, d, ok := r.resolve(x, what, root)
		if !ok {
			return "", false
		}
		return pgsql.QuoteQualified(d.schema, d.name), true
	}
	var sqlType string
	if name, ok := typeExprName(x); ok {
		if _, ext := extensionOfType(name); ext {
			if args, ok := typeExprArgs(x); ok {
				sqlType = name + args
			}
		}
	}
	if sqlType == "" {
		t, err := probeType(x)
		if err == nil {
			sqlType, err = postgres.FormatType(t)
		}
		if err != nil {
			r.bad(x.Range(), "%s: %s: it takes %s", what, probeMessage(err), typeTakes)
			return "", false
		}
	}
	if p := typeTextProblem(sqlType); p != "" {
		r.bad(x.Range(), "%s %q %s: it takes %s", what, sqlType, p, typeTakes)
		return "", false
	}
	return sqlType, true
}

// checkExpr checks that an SQL expression is one expression as it goes
// between parentheses or after a keyword of a statement: it lexes, holds
// no semicolon and no comment, and opens every parenthesis and bracket it
// closes. topComma allows commas outside them.
func checkExpr(s string, topComma bool) error {
	toks, err := pgsql.Lex(s)
	if err != nil {
		return fmt.Errorf("does not read as SQL (%v)", err)
	}
	depth, seen := 0, false
	for _, t := range toks {
		switch t.Kind {
		case pgsql.Space:
			continue
		case pgsql.Semicolon:
			return fmt.Errorf("holds a semicolon: it is one expression")
		case pgsql.Comment:
			return fmt.Errorf("holds a comment: write the expression alone")
		case pgsql.Other:
			switch t.Text {
			case "(", "[":
				depth++
			case ")", "]":
				if depth--; depth < 0 {
					return fmt.Errorf("closes a %q it does not open", t.Text)
				}
			case ",":
				if depth == 0 && !topComma {
					return fmt.Errorf("holds a comma outside parentheses: it is one expression")
				}
			}
		}
		seen = true
	}
	if depth != 0 {
		return fmt.Errorf("leaves a parenthesis or bracket open")
	}
	if !seen {
		return fmt.Errorf("is empty")
	}
	return nil
}

// query reads a view's as: one query, a semicolon after it allowed.
func (r *routineReader) query(a *hclsyntax.Attribute) (string, bool) {
	q, ok := r.text(a)
	if !ok {
		return "", false
	}
	q = strings.TrimSpace(q)
	for strings.HasSuffix(q, ";") {
		q = strings.TrimSpace(strings.TrimSuffix(q, ";"))
	}
	toks, err := pgsql.Lex(q)
	if err != nil {
		r.bad(a.Expr.Range(), "as does not read as SQL: %v", err)
		return "", false
	}
	seen := false
	for _, t := range toks {
		switch t.Kind {
		case pgsql.Semicolon:
			r.bad(a.Expr.Range(), "as holds more than one statement: it is the view's query alone")
			return "", false
		case pgsql.Space, pgsql.Comment:
		default:
			seen = true
		}
	}
	if !seen {
		r.bad(a.Expr.Range(), "as is empty: write the view's query")
		return "", false
	}
	return q, true
}

// commentSQL is COMMENT ON what IS 'text', from a comment attribute.
func (r *routineReader) commentSQL(body *hclsyntax.Body, what string) []string {
	a, ok := body.Attributes["comment"]
	if !ok {
		return nil
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || !v.Type().Equals(cty.String) {
		r.bad(a.Expr.Range(), "comment takes a string")
		return nil
	}
	return []string{"COMMENT ON " + what + " IS " + pgsql.QuoteLiteral(v.AsString())}
}

// viewColumn is a column block of a view or materialized view.
type viewColumn struct {
	name, typ, pos string
}

// view reads a view or materialized block.
func (r *routineReader) view() []string {
	b, rb := r.rb.b, r.rb
	mat := rb.kind == kindMatView
	what, objWhat := "VIEW", "VIEW "
	if mat {
		what, objWhat = "MATERIALIZED VIEW", "MATERIALIZED VIEW "
	}
	name := pgsql.QuoteQualified(rb.schema, rb.name)
	var q string
	if a, ok := b.Body.Attributes["as"]; ok {
		q, _ = r.query(a)
	} else {
		r.bad(b.DefRange(), `as is missing: write the query, as = "SELECT ..." or as = <<-SQL ... SQL`)
	}
	var (
		cols     []viewColumn
		comments []string
		names    []string
	)
	for _, c := range b.Body.Blocks {
		if c.Type != "column" || len(c.Labels) != 1 {
			continue
		}
		col := viewColumn{name: c.Labels[0], pos: posCol(c.DefRange())}
		for _, n := range names {
			if n == col.name {
				r.bad(c.DefRange(), "column %q is declared twice", col.name)
			}
		}
		names = append(names, col.name)
		if a, ok := c.Body.Attributes["type"]; ok {
			col.typ, _ = r.typ(a.Expr, fmt.Sprintf("column %q: type", col.name))
		}
		if a, ok := c.Body.Attributes["null"]; ok {
			if v, ok := r.boolean(a); ok && !v {
				r.bad(a.Expr.Range(), "column %q: null = false: the columns of a view are always nullable in PostgreSQL; remove it", col.name)
			}
		}
		comments = append(comments, r.commentSQL(c.Body, "COLUMN "+name+"."+pgsql.QuoteIdent(col.name))...)
		cols = append(cols, col)
	}
	var opts []string
	if !mat {
		opts = r.viewOptions(b.Body)
	}
	var indexes []string
	if mat {
		for _, ib := range b.Body.Blocks {
			if ib.Type == "index" && len(ib.Labels) == 1 {
				indexes = append(indexes, r.matIndex(ib, name)...)
			}
		}
	}
	stmt := "CREATE " + what + " " + name
	if len(names) > 0 {
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = pgsql.QuoteIdent(n)
		}
		stmt += " (" + strings.Join(quoted, ", ") + ")"
	}
	if len(opts) > 0 {
		stmt += " WITH (" + strings.Join(opts, ", ") + ")"
	}
	stmt += " AS\n" + q
	if mat {
		// After a line break: a comment ending the query ends there.
		stmt += "\nWITH NO DATA"
	}
	sql := []string{stmt}
	if check := columnTypeCheck(strings.ToLower(what), rb.schema, rb.name, cols); check != "" {
		sql = append(sql, check)
	}
	sql = append(sql, indexes...)
	sql = append(sql, r.commentSQL(b.Body, objWhat+name)...)
	return append(sql, comments...)
}

// viewOptions reads check_option, security and security_barrier, in the
// order written (PostgreSQL keeps a view's options in the order given).
func (r *routineReader) viewOptions(body *hclsyntax.Body) []string {
	taken := make(map[string]*hclsyntax.Attribute)
	for _, n := range []string{"check_option", "security", "security_barrier"} {
		if a, ok := body.Attributes[n]; ok {
			taken[n] = a
		}
	}
	var opts []string
	for _, a := range sortedAttrs(taken) {
		switch a.Name {
		case "check_option":
			if w, ok := r.word(a, "LOCAL", "CASCADED"); ok {
				opts = append(opts, "check_option = "+strings.ToLower(w))
			}
		case "security":
			if w, ok := r.word(a, "INVOKER", "DEFINER"); ok {
				opts = append(opts, fmt.Sprintf("security_invoker = %t", w == "INVOKER"))
			}
		case "security_barrier":
			if v, ok := r.boolean(a); ok {
				opts = append(opts, fmt.Sprintf("security_barrier = %t", v))
			}
		}
	}
	return opts
}

// columnTypeCheck is a DO block that fails when a column of the view is
// not of the type its column block says (its modifiers, such as a
// length, are not compared), or "" when no block says a type.
func columnTypeCheck(what, schemaName, name string, cols []viewColumn) string {
	var b strings.Builder
	qualified := pgsql.QuoteQualified(schemaName, name)
	for _, c := range cols {
		if c.typ == "" {
			continue
		}
		fmt.Fprintf(&b, ` SELECT pg_catalog.format_type(a.atttypid, NULL) INTO actual FROM pg_catalog.pg_attribute a`+
			` WHERE a.attrelid = %s::pg_catalog.regclass AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped;`+
			` IF actual IS DISTINCT FROM pg_catalog.format_type(%s::pg_catalog.regtype, NULL) THEN`+
			` RAISE EXCEPTION '%%', %s || coalesce(actual, 'missing (the query has fewer columns)') || %s || pg_catalog.format_type(%s::pg_catalog.regtype, NULL);`+
			` END IF;`, pgsql.QuoteLiteral(qualified), pgsql.QuoteLiteral(c.name), pgsql.QuoteLiteral(c.typ),
			pgsql.QuoteLiteral(fmt.Sprintf("%s %s: column %s is ", what, plan.DisplayName(schemaName, name), plan.DisplayPart(c.name))),
			pgsql.QuoteLiteral(fmt.Sprintf(", but its column block (%s) says ", c.pos)), pgsql.QuoteLiteral(c.typ))
	}
	if b.Len() == 0 {
		return ""
	}
	return "DO " + pgsql.QuoteLiteral("DECLARE actual text; BEGIN"+b.String()+" END")
}

// matIndex reads an index block of a materialized view: CREATE INDEX and
// its comment.
func (r *routineReader) matIndex(b *hclsyntax.Block, view string) []string {
	name := b.Labels[0]
	where := fmt.Sprintf("index %q", name)
	attrs := b.Body.Attributes
	stmt := "CREATE "
	if a, ok := attrs["unique"]; ok {
		if v, ok := r.boolean(a); ok && v {
			stmt += "UNIQUE "
		}
	}
	stmt += "INDEX " + pgsql.QuoteIdent(name) + " ON " + view
	if a, ok := attrs["type"]; ok {
		if w, ok := r.word(a, "BTREE", "HASH", "GIN", "GIST", "SPGIST", "BRIN"); ok {
			stmt += " USING " + strings.ToLower(w)
		}
	}
	var parts []string
	if a, ok := attrs["columns"]; ok {
		cols, ok := r.columnList(a, where)
		if ok {
			for _, c := range cols {
				parts = append(parts, pgsql.QuoteIdent(c))
			}
		}
	}
	for _, on := range b.Body.Blocks {
		if on.Type != "on" {
			continue
		}
		if _, ok := attrs["columns"]; ok {
			r.bad(on.DefRange(), "%s: columns and on blocks together: write the parts one way", where)
			break
		}
		if p, ok := r.indexPart(on, where); ok {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		if !hasParts(b) {
			r.bad(b.DefRange(), "%s has no columns: write columns = [column.NAME] or on { column = column.NAME } / on { expr = \"...\" } blocks", where)
		}
		return nil
	}
	stmt += " (" + strings.Join(parts, ", ") + ")"
	if a, ok := attrs["include"]; ok {
		if cols, ok := r.columnList(a, where); ok {
			quoted := make([]string, len(cols))
			for i, c := range cols {
				quoted[i] = pgsql.QuoteIdent(c)
			}
			stmt += " INCLUDE (" + strings.Join(quoted, ", ") + ")"
		}
	}
	if a, ok := attrs["nulls_distinct"]; ok {
		if v, ok := r.boolean(a); ok && !v {
			stmt += " NULLS NOT DISTINCT"
		}
	}
	if a, ok := attrs["page_per_range"]; ok {
		if n, ok := intValue(a); ok && n > 0 {
			stmt += fmt.Sprintf(" WITH (pages_per_range = %d)", n)
		} else {
			r.bad(a.Expr.Range(), "%s: page_per_range takes a positive integer", where)
		}
	}
	if a, ok := attrs["where"]; ok {
		if p, ok := r.text(a); ok {
			if err := checkExpr(p, true); err != nil {
				r.bad(a.Expr.Range(), "%s: where %v", where, err)
			} else {
				stmt += " WHERE " + p
			}
		}
	}
	return append([]string{stmt}, r.commentSQL(b.Body, "INDEX "+pgsql.QuoteQualified(r.rb.schema, name))...)
}

// hasParts reports whether an index block says its columns, rightly or
// not.
func hasParts(b *hclsyntax.Block) bool {
	if _, ok := b.Body.Attributes["columns"]; ok {
		return true
	}
	for _, on := range b.Body.Blocks {
		if on.Type == "on" {
			return true
		}
	}
	return false
}

// columnList reads [column.a, column.b].
func (r *routineReader) columnList(a *hclsyntax.Attribute, where string) ([]string, bool) {
	list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok || len(list.Exprs) == 0 {
		r.bad(a.Expr.Range(), "%s: %s takes a list of column.NAME", where, a.Name)
		return nil, false
	}
	var out []string
	for _, x := range list.Exprs {
		c, ok := columnRef(x)
		if !ok {
			r.bad(x.Range(), "%s: %s takes a list of column.NAME", where, a.Name)
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}

// indexPart reads an on block: a column or an expression, its operator
// class, order and nulls.
func (r *routineReader) indexPart(b *hclsyntax.Block, where string) (string, bool) {
	attrs := b.Body.Attributes
	col, hasCol := attrs["column"]
	expr, hasExpr := attrs["expr"]
	var part string
	switch {
	case hasCol == hasExpr:
		r.bad(b.DefRange(), "%s: an on block takes column = column.NAME or expr = \"...\", one of them", where)
		return "", false
	case hasCol:
		c, ok := columnRef(col.Expr)
		if !ok {
			r.bad(col.Expr.Range(), "%s: on's column takes column.NAME", where)
			return "", false
		}
		part = pgsql.QuoteIdent(c)
	default:
		e, ok := r.text(expr)
		if !ok {
			return "", false
		}
		if err := checkExpr(e, true); err != nil {
			r.bad(expr.Expr.Range(), "%s: on's expr %v", where, err)
			return "", false
		}
		part = "(" + e + ")"
	}
	if a, ok := attrs["ops"]; ok {
		w, ok := wordValue(a)
		names := strings.Split(w, ".")
		valid := ok && len(names) <= 2
		for _, n := range names {
			valid = valid && n != "" && validReloption(n)
		}
		if !valid {
			r.bad(a.Expr.Range(), "%s: ops takes an operator class: ops = jsonb_path_ops, or ops = \"schema.name\"", where)
			return "", false
		}
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = pgsql.QuoteIdent(n)
		}
		part += " " + strings.Join(quoted, ".")
	}
	desc := false
	if a, ok := attrs["desc"]; ok {
		if v, ok := r.boolean(a); ok && v {
			desc = true
			part += " DESC"
		}
	}
	first, last := attrs["nulls_first"], attrs["nulls_last"]
	switch {
	case first != nil && last != nil:
		r.bad(last.NameRange, "%s: nulls_first and nulls_last together: write one", where)
	case first != nil:
		if v, ok := r.boolean(first); ok && v {
			part += " NULLS FIRST"
		}
	case last != nil:
		if v, ok := r.boolean(last); ok && v && desc {
			part += " NULLS LAST"
		}
	}
	return part, true
}

// routineArg is an arg block.
type routineArg struct {
	mode, name, typ, def string
}

// signature writes the argument as it goes in a function's signature,
// with its default when it has one.
func (a routineArg) signature(withDefault bool) string {
	var parts []string
	if a.mode != "" && a.mode != "IN" {
		parts = append(parts, a.mode)
	}
	if a.name != "" {
		parts = append(parts, pgsql.QuoteIdent(a.name))
	}
	parts = append(parts, a.typ)
	if withDefault && a.def != "" {
		parts = append(parts, "DEFAULT "+a.def)
	}
	return strings.Join(parts, " ")
}

// routine reads a function or procedure block.
func (r *routineReader) routine() []string {
	b, rb := r.rb.b, r.rb
	proc := rb.kind == kindProcedure
	attrs := b.Body.Attributes
	name := pgsql.QuoteQualified(rb.schema, rb.name)
	var (
		lang   string
		args   []routineArg
		hasOut bool
	)
	if a, ok := attrs["lang"]; ok {
		w, ok := wordValue(a)
		if ok && validReloption(w) {
			lang = w
		} else {
			r.bad(a.Expr.Range(), "lang takes a language: SQL, PLpgSQL, or another installed language's name")
		}
	} else {
		r.bad(b.DefRange(), "lang is missing: write lang = SQL or lang = PLpgSQL")
	}
	for _, ab := range b.Body.Blocks {
		if ab.Type != "arg" || len(ab.Labels) > 1 {
			continue
		}
		arg := routineArg{mode: "IN"}
		label := "an unnamed arg"
		if len(ab.Labels) == 1 {
			arg.name = ab.Labels[0]
			label = fmt.Sprintf("arg %q", arg.name)
		}
		if a, ok := ab.Body.Attributes["mode"]; ok {
			arg.mode, _ = r.word(a, "IN", "OUT", "INOUT", "VARIADIC")
		}
		if a, ok := ab.Body.Attributes["type"]; ok {
			arg.typ, _ = r.typ(a.Expr, label+": type")
		} else {
			r.bad(ab.DefRange(), "%s has no type: write type = TYPE (int, text, ...)", label)
		}
		if a, ok := ab.Body.Attributes["default"]; ok {
			arg.def, _ = r.argDefault(a, label)
		}
		switch arg.mode {
		case "OUT":
			hasOut = true
		case "INOUT":
			hasOut = true
			rb.inArgs++
		default:
			rb.inArgs++
		}
		args = append(args, arg)
	}
	sig := make([]string, len(args))
	withDefaults := make([]string, len(args))
	for i, a := range args {
		sig[i], withDefaults[i] = a.signature(false), a.signature(true)
	}
	kw := "FUNCTION"
	if proc {
		kw = "PROCEDURE"
	}
	stmt := "CREATE " + kw + " " + name + "(" + strings.Join(withDefaults, ", ") + ")"
	if !proc {
		stmt += r.returns(b, hasOut)
	}
	if lang != "" {
		stmt += " LANGUAGE " + pgsql.QuoteIdent(lang)
	}
	stmt += r.routineOptions(attrs)
	stmt += r.configParams(b)
	body := ""
	if a, ok := attrs["as"]; ok {
		body, _ = r.text(a)
	} else {
		r.bad(b.DefRange(), `as is missing: write the body, as = "SELECT ..." or as = <<-SQL ... SQL`)
	}
	if lang == "sql" && standardBody(body) {
		// BEGIN ATOMIC ... END or RETURN expr: SQL, not a string.
		stmts, err := pgsql.Split(stmt + "\n" + body)
		if err != nil || len(stmts) != 1 {
			r.bad(attrs["as"].Expr.Range(), "as is a BEGIN ATOMIC ... END or RETURN body that does not read as one: it is the body alone")
		} else {
			stmt = stmts[0].Text
		}
	} else {
		stmt += " AS " + dollarQuote(body)
	}
	return append([]string{stmt}, r.commentSQL(b.Body, kw+" "+name+"("+strings.Join(sig, ", ")+")")...)
}

// returns reads a function's return or return_table: its RETURNS clause.
func (r *routineReader) returns(b *hclsyntax.Block, hasOut bool) string {
	ret, hasRet := b.Body.Attributes["return"]
	var table *hclsyntax.Block
	for _, sub := range b.Body.Blocks {
		if sub.Type == "return_table" {
			table = sub
		}
	}
	switch {
	case hasRet && table != nil:
		r.bad(table.DefRange(), "return and return_table together: write one")
	case hasRet:
		t, ok := r.typ(ret.Expr, "return")
		if !ok {
			return ""
		}
		r.rb.returns = strings.ToLower(t)
		return " RETURNS " + t
	case table != nil:
		var cols []string
		for _, c := range table.Body.Blocks {
			if c.Type != "column" || len(c.Labels) != 1 {
				continue
			}
			a, ok := c.Body.Attributes["type"]
			if !ok {
				r.bad(c.DefRange(), "return_table: column %q has no type: write type = TYPE", c.Labels[0])
				continue
			}
			if t, ok := r.typ(a.Expr, fmt.Sprintf("return_table: column %q: type", c.Labels[0])); ok {
				cols = append(cols, pgsql.QuoteIdent(c.Labels[0])+" "+t)
			}
		}
		if len(cols) == 0 {
			r.bad(table.DefRange(), "return_table has no columns: write column \"NAME\" { type = TYPE } blocks")
			return ""
		}
		r.rb.returns = "table"
		return " RETURNS TABLE(" + strings.Join(cols, ", ") + ")"
	case !hasOut:
		r.bad(b.DefRange(), "return is missing: write return = TYPE (void when it returns nothing, trigger for a trigger's function)")
	}
	return ""
}

// routineOptions reads volatility, strict, security, leakproof, parallel,
// cost and rows (a procedure has security alone).
func (r *routineReader) routineOptions(attrs hclsyntax.Attributes) string {
	var out string
	if a, ok := attrs["volatility"]; ok {
		if w, ok := r.word(a, "IMMUTABLE", "STABLE", "VOLATILE"); ok {
			out += " " + w
		}
	}
	if a, ok := attrs["strict"]; ok {
		if v, ok := r.boolean(a); ok && v {
			out += " STRICT"
		}
	}
	if a, ok := attrs["security"]; ok {
		if w, ok := r.word(a, "INVOKER", "DEFINER"); ok {
			out += " SECURITY " + w
		}
	}
	if a, ok := attrs["leakproof"]; ok {
		if v, ok := r.boolean(a); ok && v {
			out += " LEAKPROOF"
		}
	}
	if a, ok := attrs["parallel"]; ok {
		if w, ok := r.word(a, "SAFE", "RESTRICTED", "UNSAFE"); ok {
			out += " PARALLEL " + w
		}
	}
	if a, ok := attrs["cost"]; ok {
		if n, ok := r.number(a); ok {
			out += " COST " + n
		}
	}
	if a, ok := attrs["rows"]; ok {
		if n, ok := r.number(a); ok {
			out += " ROWS " + n
		}
	}
	return out
}

// configParams reads the config_params block: SET name = value for each
// setting, in the order written.
func (r *routineReader) configParams(b *hclsyntax.Block) string {
	var out string
	for _, c := range b.Body.Blocks {
		if c.Type != "config_params" {
			continue
		}
		taken := make(map[string]*hclsyntax.Attribute, len(c.Body.Attributes))
		for n, a := range c.Body.Attributes {
			taken[n] = a
		}
		for _, a := range sortedAttrs(taken) {
			v, diags := a.Expr.Value(nil)
			text, ok := "", !diags.HasErrors()
			if ok {
				text, ok = paramText(v)
			}
			if !ok {
				r.bad(a.Expr.Range(), "config_params: %s takes a string: the setting's value as PostgreSQL shows it (search_path = \"public, pg_temp\")", a.Name)
				continue
			}
			values := []string{pgsql.QuoteLiteral(text)}
			if listSettings[strings.ToLower(a.Name)] {
				elems, err := splitNameList(text)
				if err != nil {
					r.bad(a.Expr.Range(), "config_params: %s %v", a.Name, err)
					continue
				}
				values = values[:0]
				for _, e := range elems {
					values = append(values, pgsql.QuoteLiteral(e))
				}
			}
			out += " SET " + pgsql.QuoteIdent(a.Name) + " = " + strings.Join(values, ", ")
		}
	}
	return out
}

// splitNameList splits a list setting's value as PostgreSQL shows it
// ("$user", public) into its names: a quoted name unquoted, another folded
// to lower case as SQL folds it.
func splitNameList(s string) ([]string, error) {
	var (
		out  []string
		cur  strings.Builder
		quot bool
		was  bool // cur holds a quoted name
	)
	flush := func() {
		name := cur.String()
		if !was {
			name = strings.ToLower(strings.TrimSpace(name))
		}
		out = append(out, name)
		cur.Reset()
		was = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quot && c == '"' && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case quot && c == '"':
			quot = false
		case quot:
			cur.WriteByte(c)
		case c == '"':
			if strings.TrimSpace(cur.String()) != "" || was {
				return nil, fmt.Errorf("has a quote in the middle of a name: quote whole names (\"$user\", public)")
			}
			cur.Reset()
			quot, was = true, true
		case c == ',':
			flush()
		case was && c != ' ':
			return nil, fmt.Errorf("has text after a quoted name: separate names with commas")
		case was:
		default:
			cur.WriteByte(c)
		}
	}
	if quot {
		return nil, fmt.Errorf("leaves a quote open")
	}
	if strings.TrimSpace(s) == "" {
		return []string{""}, nil
	}
	flush()
	return out, nil
}

// argDefault reads an arg's default: a number, true or false, a string
// (a literal), or sql("expr").
func (r *routineReader) argDefault(a *hclsyntax.Attribute, label string) (string, bool) {
	if call, ok := a.Expr.(*hclsyntax.FunctionCallExpr); ok && call.Name == "sql" && len(call.Args) == 1 {
		v, diags := call.Args[0].Value(nil)
		if diags.HasErrors() || v.IsNull() || !v.Type().Equals(cty.String) {
			r.bad(a.Expr.Range(), "%s: default = sql(\"...\") takes a string: an SQL expression", label)
			return "", false
		}
		if err := checkExpr(v.AsString(), false); err != nil {
			r.bad(a.Expr.Range(), "%s: default %v", label, err)
			return "", false
		}
		return strings.TrimSpace(v.AsString()), true
	}
	v, diags := a.Expr.Value(nil)
	switch {
	case diags.HasErrors() || !v.IsKnown():
	case v.IsNull():
		return "NULL", true
	case v.Type().Equals(cty.String):
		return pgsql.QuoteLiteral(v.AsString()), true
	case v.Type().Equals(cty.Number):
		return numberText(v.AsBigFloat()), true
	case v.Type().Equals(cty.Bool):
		return fmt.Sprint(v.True()), true
	}
	r.bad(a.Expr.Range(), "%s: default takes a number, true or false, a string, or sql(\"expression\")", label)
	return "", false
}

// SQLStandardBody reports whether a body of a function or procedure in
// SQL reads as an SQL-standard body (BEGIN ATOMIC ... END, RETURN expr),
// as the blocks' as does, rather than as a string.
func SQLStandardBody(body string) bool { return standardBody(body) }

// standardBody reports whether a SQL function's body is written in SQL
// (BEGIN ATOMIC ... END, RETURN expr) rather than as a string.
func standardBody(body string) bool {
	toks, err := pgsql.Lex(body)
	if err != nil {
		return false
	}
	var words []string
	for _, t := range toks {
		switch {
		case t.Kind == pgsql.Space || t.Kind == pgsql.Comment:
			continue
		case t.Kind == pgsql.Word:
			words = append(words, strings.ToUpper(t.Text))
		}
		if len(words) == 2 || t.Kind != pgsql.Word {
			break
		}
	}
	return len(words) > 0 && words[0] == "RETURN" || len(words) == 2 && words[0] == "BEGIN" && words[1] == "ATOMIC"
}

// dollarQuote quotes a body as $body$...$body$, with a tag the body does
// not hold.
func dollarQuote(body string) string {
	tag := "$body$"
	for i := 1; strings.Contains(body, tag); i++ {
		tag = fmt.Sprintf("$body%d$", i)
	}
	return tag + body + tag
}

// trigger reads a trigger block.
func (r *routineReader) trigger() []string {
	b, rb := r.rb.b, r.rb
	attrs := b.Body.Attributes
	var table string
	if a, ok := attrs["on"]; ok {
		root, path, isRef := reference(a.Expr)
		if isRef && root == "table" && len(path) == 2 && r.env.schemas[path[0]] && len(r.env.find(root, path, "")) == 0 {
			// A partition, whose block keel reads apart: the throwaway
			// database tells whether it exists.
			rb.schema, rb.table = path[0], path[1]
		} else if _, d, ok := r.resolve(a.Expr, "on", "table", "view"); ok {
			rb.schema, rb.table = d.schema, d.name
		}
		// A trigger is in its table's schema.
		if rb.table != "" {
			table = pgsql.QuoteQualified(rb.schema, rb.table)
		}
	} else {
		r.bad(b.DefRange(), "on is missing: write on = table.NAME (or view.NAME)")
	}
	var (
		timing string
		events []string
		tb     *hclsyntax.Block
	)
	for _, sub := range b.Body.Blocks {
		var t string
		switch sub.Type {
		case "before":
			t = "BEFORE"
		case "after":
			t = "AFTER"
		case "instead_of":
			t = "INSTEAD OF"
		default:
			continue
		}
		if tb != nil {
			r.bad(sub.DefRange(), "%s and %s blocks together: a trigger fires at one time; write two triggers", tb.Type, sub.Type)
			continue
		}
		tb, timing = sub, t
		events = r.events(sub)
	}
	if tb == nil {
		r.bad(b.DefRange(), "when it fires is missing: write a before, after or instead_of block, e.g. after { insert = true }")
	}
	stmt := "CREATE TRIGGER " + pgsql.QuoteIdent(rb.name) + " " + timing + " " + strings.Join(events, " OR ") + " ON " + table
	if a, ok := attrs["for"]; ok {
		if w, ok := r.word(a, "ROW", "STATEMENT"); ok {
			stmt += " FOR EACH " + w
		}
	}
	if a, ok := attrs["when"]; ok {
		if w, ok := r.text(a); ok {
			if err := checkExpr(w, true); err != nil {
				r.bad(a.Expr.Range(), "when %v", err)
			} else {
				stmt += " WHEN (" + w + ")"
			}
		}
	}
	stmt += r.execute(b)
	return append([]string{stmt}, r.commentSQL(b.Body, "TRIGGER "+pgsql.QuoteIdent(rb.name)+" ON "+table)...)
}

// events reads a before, after or instead_of block.
func (r *routineReader) events(b *hclsyntax.Block) []string {
	attrs := b.Body.Attributes
	var out []string
	for _, e := range []string{"insert", "update", "delete", "truncate"} {
		a, ok := attrs[e]
		if !ok {
			continue
		}
		if v, ok := r.boolean(a); ok && v {
			if e == "update" && attrs["update_of"] != nil {
				r.bad(a.NameRange, "update and update_of together: update_of = [...] fires on updates of those columns, update = true on any")
				continue
			}
			out = append(out, strings.ToUpper(e))
		}
	}
	if a, ok := attrs["update_of"]; ok {
		if cols, ok := r.columnList(a, b.Type); ok {
			quoted := make([]string, len(cols))
			for i, c := range cols {
				quoted[i] = pgsql.QuoteIdent(c)
			}
			out = append(out, "UPDATE OF "+strings.Join(quoted, ", "))
		}
	}
	if len(out) == 0 {
		r.bad(b.DefRange(), "%s has no event: write insert, update, delete or truncate = true, or update_of = [table.NAME.column.NAME]", b.Type)
	}
	return out
}

// execute reads the execute block: the trigger's function and its
// arguments.
func (r *routineReader) execute(b *hclsyntax.Block) string {
	var ex *hclsyntax.Block
	for _, sub := range b.Body.Blocks {
		if sub.Type == "execute" {
			if ex != nil {
				r.bad(sub.DefRange(), "two execute blocks: a trigger executes one function")
			}
			ex = sub
		}
	}
	if ex == nil {
		r.bad(b.DefRange(), "execute is missing: write execute { function = function.NAME }")
		return ""
	}
	fa, ok := ex.Body.Attributes["function"]
	if !ok {
		r.bad(ex.DefRange(), "execute has no function: write function = function.NAME")
		return ""
	}
	fn, ok := r.triggerFunction(fa.Expr)
	if !ok {
		return ""
	}
	var args []string
	if a, ok := ex.Body.Attributes["args"]; ok {
		const takes = `execute's args takes a list of strings: args = ["a", "b"]`
		list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
		if !ok {
			r.bad(a.Expr.Range(), takes)
		} else {
			for _, x := range list.Exprs {
				v, diags := x.Value(nil)
				text, ok := "", !diags.HasErrors()
				if ok {
					text, ok = paramText(v)
				}
				if !ok || v.Type().Equals(cty.Bool) {
					r.bad(x.Range(), takes)
					continue
				}
				args = append(args, pgsql.QuoteLiteral(text))
			}
		}
	}
	return " EXECUTE FUNCTION " + fn + "(" + strings.Join(args, ", ") + ")"
}

// triggerFunction finds a trigger's function among the function blocks:
// one that takes no arguments (overloads aside) and returns trigger.
func (r *routineReader) triggerFunction(x hclsyntax.Expression) (string, bool) {
	root, path, ok := reference(x)
	if !ok || root != "function" {
		r.bad(x.Range(), "execute's function takes a reference to a function block: function = function.NAME")
		return "", false
	}
	var found []*routineBlock
	for _, f := range r.env.functions {
		if f.name == path[len(path)-1] && (len(path) == 1 || f.qualifier == path[0] || f.schema == path[0]) && f.inArgs == 0 {
			found = append(found, f)
		}
	}
	if len(found) > 1 && len(path) == 1 {
		var same []*routineBlock
		for _, f := range found {
			if f.schema == r.rb.schema {
				same = append(same, f)
			}
		}
		if len(same) > 0 {
			found = same
		}
	}
	switch {
	case len(found) == 0:
		r.bad(x.Range(), "execute's function names %s, which no function block without arguments declares (%s)", refText(root, path), r.env.names("function"))
		return "", false
	case len(found) > 1:
		r.bad(x.Range(), "execute's function names %s, declared in several schemas: write function.SCHEMA.NAME", refText(root, path))
		return "", false
	case found[0].returns != "" && found[0].returns != "trigger":
		r.bad(x.Range(), "execute's function %s returns %s (%s): a trigger's function has return = trigger", found[0].display(), found[0].returns, found[0].pos)
		return "", false
	}
	return pgsql.QuoteQualified(found[0].schema, found[0].name), true
}
