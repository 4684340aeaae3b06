package state

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"keel/internal/pgsql"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Sequences, domains, composite types, collations and extended statistics
// are objects the engine does not model. keel reads them from Atlas Pro's
// blocks (`sequence`, `domain`, `composite`, `collation`; `statistics` is
// keel's own, in the same style) into ObjectDecls: the reader notes each
// block, and the resolver, which sees every file, turns it into SQL once
// the names it refers to (domain.x, enum.x, collation.x, table.t.column.c)
// are known, and takes the blocks out before the engine evaluates the
// files. It also rewrites a column's `type = domain.x` (or composite.x),
// which the engine's evaluator does not know, to the raw type
// sql("\"public\".\"x\""): the engine carries it as a user-defined type,
// and its inspection of the column reads a user-defined type with the name
// format_type prints, so both states agree.
//
// Types in these blocks are type expressions as in columns (int,
// varchar(255), sql("..."), enum.x, domain.x, composite.x, an extension's
// type by name); the core ones are read by the engine itself (see
// probeType), so they mean what they mean in a column.

// typeBlockKinds maps each block type to the Kind of its ObjectDecls.
var typeBlockKinds = map[string]string{
	"sequence":   "sequence",
	"domain":     "domain",
	"composite":  "type",
	"collation":  "collation",
	"statistics": "statistics",
}

func init() {
	registerBlock("sequence", &blockSpec{minLabels: 1, maxLabels: 2, labelHint: `sequence "order_no" { schema = schema.public }`,
		attrs: []string{"schema", "type", "start", "increment", "min_value", "max_value", "cache", "cycle", "unlogged", "owner", "comment"}})
	registerBlock("domain", &blockSpec{minLabels: 1, maxLabels: 2, labelHint: `domain "email" { schema = schema.public, type = text }`,
		attrs: []string{"schema", "type", "null", "default", "collate", "comment"},
		blocks: map[string]*blockSpec{
			"check": {maxLabels: 1, labelHint: `check "email_at" { expr = "VALUE ~ '@'" }`, attrs: []string{"expr", "not_valid", "comment"}},
		}})
	registerBlock("composite", &blockSpec{minLabels: 1, maxLabels: 2, labelHint: `composite "address" { schema = schema.public, field "city" { type = text } }`,
		attrs: []string{"schema", "comment"},
		blocks: map[string]*blockSpec{
			"field": {minLabels: 1, maxLabels: 1, labelHint: `field "city" { type = text }`, attrs: []string{"type", "collate", "comment"}},
		}})
	registerBlock("collation", &blockSpec{minLabels: 1, maxLabels: 2, labelHint: `collation "french" { schema = schema.public, provider = icu, locale = "fr-x-icu" }`,
		attrs: []string{"schema", "provider", "locale", "lc_collate", "lc_ctype", "deterministic", "rules", "comment"}})
	registerBlock("statistics", &blockSpec{minLabels: 1, maxLabels: 2, labelHint: `statistics "orders_stats" { schema = schema.public, on = table.orders, columns = [column.a, column.b] }`,
		attrs: []string{"schema", "on", "columns", "exprs", "kinds", "target", "comment"}})
	registerObjectReader(readTypeBlocks, resolveTypeBlocks)
}

// readTypeBlocks notes the blocks of body it owns as ObjectDecls without
// SQL (a sequence with an owner also as its OWNED BY, at the owner
// attribute); resolveTypeBlocks writes their SQL and reports their
// problems, once every file is read.
func readTypeBlocks(body *hclsyntax.Body) ([]ObjectDecl, []string) {
	var decls []ObjectDecl
	for _, b := range body.Blocks {
		kind, ok := typeBlockKinds[b.Type]
		if !ok || len(b.Labels) < 1 || len(b.Labels) > 2 {
			continue
		}
		sch, _ := typeBlockSchema(b)
		name := b.Labels[len(b.Labels)-1]
		decls = append(decls, ObjectDecl{Kind: kind, Schema: sch, Name: name, Early: b.Type != "statistics", Pos: posCol(b.DefRange())})
		if a, ok := b.Body.Attributes["owner"]; ok && b.Type == "sequence" {
			decls = append(decls, ObjectDecl{Kind: kind, Schema: sch, Name: name, Pos: posCol(a.NameRange)})
		}
	}
	return decls, nil
}

// typeBlockSchema is the schema of a block: its first label when it has two
// (Atlas's qualifier), else its schema attribute. ok is false when neither
// says it.
func typeBlockSchema(b *hclsyntax.Block) (string, bool) {
	if len(b.Labels) == 2 {
		return b.Labels[0], true
	}
	if a, found := b.Body.Attributes["schema"]; found {
		s, err := tableSchemaRef(a.Expr)
		return s, err == nil
	}
	return "", false
}

// A declaredBlock is a block of the files that declares a named object of a
// schema (a table, an enum, one of the blocks read here).
type declaredBlock struct {
	schema, name, pos string
	b                 *hclsyntax.Block
}

// typeIndex knows the objects the files declare, for resolving references.
type typeIndex struct {
	schemas map[string]bool
	// by kind ("table", "enum", "domain", "composite", "collation"), then
	// by name.
	named map[string]map[string][]declaredBlock
	// mine are the blocks read here, in the order written.
	mine []declaredBlock
}

// indexTypes reads the schema, table and enum blocks of the bodies and
// takes the blocks read here out of them.
func indexTypes(bodies []*hclsyntax.Body) *typeIndex {
	ix := &typeIndex{schemas: make(map[string]bool), named: make(map[string]map[string][]declaredBlock)}
	add := func(kind string, nb declaredBlock) {
		if ix.named[kind] == nil {
			ix.named[kind] = make(map[string][]declaredBlock)
		}
		ix.named[kind][nb.name] = append(ix.named[kind][nb.name], nb)
	}
	for _, body := range bodies {
		kept := body.Blocks[:0:0]
		for _, b := range body.Blocks {
			_, isMine := typeBlockKinds[b.Type]
			if !isMine {
				kept = append(kept, b)
			}
			if len(b.Labels) < 1 || len(b.Labels) > 2 {
				continue
			}
			sch, _ := typeBlockSchema(b)
			nb := declaredBlock{schema: sch, name: b.Labels[len(b.Labels)-1], pos: posCol(b.DefRange()), b: b}
			switch {
			case b.Type == "schema" && len(b.Labels) == 1:
				ix.schemas[b.Labels[0]] = true
			case b.Type == "table" || b.Type == "enum":
				add(b.Type, nb)
			case isMine:
				ix.mine = append(ix.mine, nb)
				if b.Type == "domain" || b.Type == "composite" || b.Type == "collation" {
					add(b.Type, nb)
				}
			}
		}
		body.Blocks = kept
	}
	return ix
}

// lookup finds the block of kind that ref ([name] or [schema, name])
// names; a bare name in several schemas is the one in schema from, if any.
func (ix *typeIndex) lookup(kind string, ref []string, from string) (declaredBlock, string) {
	written := kind + "." + strings.Join(ref, ".")
	var found []declaredBlock
	switch len(ref) {
	case 1:
		found = ix.named[kind][ref[0]]
		if len(found) > 1 {
			for _, nb := range found {
				if nb.schema == from {
					return nb, ""
				}
			}
			return declaredBlock{}, fmt.Sprintf("%s names %s blocks in several schemas: write %s.SCHEMA.%s", written, kind, kind, ref[0])
		}
	case 2:
		for _, nb := range ix.named[kind][ref[1]] {
			if nb.schema == ref[0] {
				found = append(found, nb)
			}
		}
	}
	if len(found) == 0 {
		return declaredBlock{}, fmt.Sprintf("%s: no %s block declares it", written, kind)
	}
	return found[0], ""
}

// typeKindRef reads KIND.NAME or KIND.SCHEMA.NAME (each part also ["..."]) as
// [name] or [schema, name].
func typeKindRef(x hclsyntax.Expression, kind string) ([]string, bool) {
	t, ok := x.(*hclsyntax.ScopeTraversalExpr)
	if !ok || t.Traversal.RootName() != kind || len(t.Traversal) < 2 || len(t.Traversal) > 3 {
		return nil, false
	}
	return typeRefNames(t.Traversal[1:])
}

// typeRefNames reads the steps .NAME and ["NAME"] as names.
func typeRefNames(steps hcl.Traversal) ([]string, bool) {
	out := make([]string, 0, len(steps))
	for _, step := range steps {
		switch s := step.(type) {
		case hcl.TraverseAttr:
			out = append(out, s.Name)
		case hcl.TraverseIndex:
			if !s.Key.Type().Equals(cty.String) || s.Key.IsNull() {
				return nil, false
			}
			out = append(out, s.Key.AsString())
		default:
			return nil, false
		}
	}
	return out, true
}

// ownerColumnRef reads table.T.column.C or table.S.T.column.C as the table
// ([t] or [s, t]) and the column.
func ownerColumnRef(x hclsyntax.Expression) ([]string, string, bool) {
	t, ok := x.(*hclsyntax.ScopeTraversalExpr)
	if !ok || t.Traversal.RootName() != "table" || len(t.Traversal) < 4 || len(t.Traversal) > 5 {
		return nil, "", false
	}
	names, ok := typeRefNames(t.Traversal[1:])
	if !ok || names[len(names)-2] != "column" {
		return nil, "", false
	}
	if _, ok := t.Traversal[len(t.Traversal)-2].(hcl.TraverseAttr); !ok {
		return nil, "", false
	}
	return names[:len(names)-2], names[len(names)-1], true
}

// table resolves a reference to a table block. A qualified reference that
// no table block declares is taken as written (a partition, whose block
// keel reads apart): the throwaway database tells whether it exists.
func (ix *typeIndex) table(ref []string, from string) (declaredBlock, bool, string) {
	nb, problem := ix.lookup("table", ref, from)
	if problem != "" && len(ref) == 2 && len(ix.named["table"][ref[1]]) == 0 {
		return declaredBlock{schema: ref[0], name: ref[1]}, false, ""
	}
	return nb, problem == "", problem
}

// tableHasColumn reports whether a table block has a column block named c.
func tableHasColumn(tb *hclsyntax.Block, c string) bool {
	for _, b := range tb.Body.Blocks {
		if b.Type == "column" && len(b.Labels) == 1 && b.Labels[0] == c {
			return true
		}
	}
	return false
}

// typeBlockRead gathers the problems of one block, each at file:line:column
// and naming the block.
type typeBlockRead struct {
	where    string
	problems []string
}

func (r *typeBlockRead) at(rng hcl.Range, format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf("%s: %s: %s", posCol(rng), r.where, fmt.Sprintf(format, args...)))
}

// resolveTypeBlocks writes the SQL of the blocks read here, reports their
// problems, takes them out of the bodies, and rewrites the column types
// that refer to domains and composite types.
func resolveTypeBlocks(decls []ObjectDecl, bodies []*hclsyntax.Body) []string {
	ix := indexTypes(bodies)
	var problems []string
	seen := make(map[string]string)
	for _, nb := range ix.mine {
		b := nb.b
		r := &typeBlockRead{where: fmt.Sprintf("%s %q", b.Type, nb.name)}
		sch := ix.header(r, nb)
		if sch != "" {
			ix.declaredOnce(r, nb, sch, seen)
		}
		var create, owned []string
		switch b.Type {
		case "sequence":
			create, owned = ix.sequenceSQL(r, b, sch, nb.name)
		case "domain":
			create = ix.domainSQL(r, b, sch, nb.name)
		case "composite":
			create = ix.compositeSQL(r, b, sch, nb.name)
		case "collation":
			create = ix.collationSQL(r, b, sch, nb.name)
		case "statistics":
			create = ix.statisticsSQL(r, b, sch, nb.name)
		}
		for _, s := range append(append([]string{}, create...), owned...) {
			if err := pgsql.OneStatement(s); err != nil {
				r.at(b.DefRange(), "its SQL is not one statement (%v): %s", err, s)
			}
		}
		problems = append(problems, r.problems...)
		if len(r.problems) > 0 {
			continue
		}
		kind := typeBlockKinds[b.Type]
		ownerPos := ""
		if a, ok := b.Body.Attributes["owner"]; ok {
			ownerPos = posCol(a.NameRange)
		}
		for i := range decls {
			d := &decls[i]
			if d.Kind != kind {
				continue
			}
			switch {
			case d.Pos == nb.pos:
				d.Schema, d.Name, d.SQL = sch, nb.name, create
			case ownerPos != "" && d.Pos == ownerPos:
				d.Schema, d.Name, d.SQL = sch, nb.name, owned
			}
		}
	}
	return append(problems, ix.rewriteColumnTypes(bodies)...)
}

// declaredOnce checks that no other block declares an object of the
// block's name in its schema and namespace: types (domains, composite
// types, enums and tables' row types), relations (sequences and tables),
// collations, statistics. seen holds the blocks read before it.
func (ix *typeIndex) declaredOnce(r *typeBlockRead, nb declaredBlock, sch string, seen map[string]string) {
	b := nb.b
	ns, clash := b.Type, []string(nil)
	switch b.Type {
	case "domain", "composite":
		ns, clash = "type", []string{"enum", "table"}
	case "sequence":
		ns, clash = "relation", []string{"table"}
	}
	key := ns + " " + sch + "." + nb.name
	if prev, dup := seen[key]; dup {
		r.at(b.DefRange(), "%s %s.%s is already declared at %s", ns, sch, nb.name, prev)
	}
	seen[key] = nb.pos
	for _, kind := range clash {
		for _, o := range ix.named[kind][nb.name] {
			if o.schema == sch {
				r.at(b.DefRange(), "%s %q at %s has the same name in the same schema: rename one", kind, nb.name, o.pos)
			}
		}
	}
}

// header checks a block's name and schema and returns the schema ("" when
// it has a problem).
func (ix *typeIndex) header(r *typeBlockRead, nb declaredBlock) string {
	b := nb.b
	if nb.name == "" {
		r.at(b.DefRange(), "the name label is empty")
	}
	a, hasAttr := b.Body.Attributes["schema"]
	var attrSchema string
	if hasAttr {
		s, err := tableSchemaRef(a.Expr)
		if err != nil {
			r.at(a.Expr.Range(), "schema takes a reference to a schema block: schema = schema.NAME")
			return ""
		}
		attrSchema = s
	}
	sch := attrSchema
	switch {
	case len(b.Labels) == 2 && hasAttr && b.Labels[0] != attrSchema:
		r.at(a.Expr.Range(), "its labels put it in schema %q, its schema attribute in %q: make them agree", b.Labels[0], attrSchema)
		return ""
	case len(b.Labels) == 2:
		sch = b.Labels[0]
	case !hasAttr:
		r.at(b.DefRange(), "needs its schema: schema = schema.NAME")
		return ""
	}
	if !ix.schemas[sch] {
		rng := b.DefRange()
		if hasAttr {
			rng = a.Expr.Range()
		}
		r.at(rng, "is in schema %q, which no schema block declares: add schema %q {}", sch, sch)
		return ""
	}
	return sch
}

// typeBlockComment reads a comment attribute, "" when there is none.
func typeBlockComment(r *typeBlockRead, body *hclsyntax.Body) (string, bool) {
	a, ok := body.Attributes["comment"]
	if !ok {
		return "", false
	}
	s, ok := typeString(a)
	if !ok {
		r.at(a.Expr.Range(), `comment takes a string: comment = "..."`)
		return "", false
	}
	return s, true
}

// typeString reads a string.
func typeString(a *hclsyntax.Attribute) (string, bool) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// sqlCallText reads sql("...") as its text.
func sqlCallText(x hclsyntax.Expression) (string, bool) {
	f, ok := x.(*hclsyntax.FunctionCallExpr)
	if !ok || f.Name != "sql" || len(f.Args) != 1 {
		return "", false
	}
	v, diags := f.Args[0].Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

const typeTakes = `a type, as a column's: int, varchar(255), sql("..."), enum.NAME, domain.NAME or composite.NAME`

// typeSQL reads a type attribute as the SQL type it names, with the
// engine's type when the engine reads it (nil for references). from is
// the schema of the block it is in, for names in several schemas.
func (ix *typeIndex) typeSQL(r *typeBlockRead, a *hclsyntax.Attribute, from string) (string, schema.Type, bool) {
	x := a.Expr
	for _, kind := range []string{"enum", "domain", "composite", "table"} {
		ref, ok := typeKindRef(x, kind)
		if !ok {
			continue
		}
		nb, problem := ix.lookup(kind, ref, from)
		if problem != "" {
			r.at(x.Range(), "type %s", problem)
			return "", nil, false
		}
		return pgsql.QuoteQualified(nb.schema, nb.name), nil, true
	}
	if name, ok := typeExprName(x); ok {
		if _, ok := extensionOfType(name); ok {
			if args, ok := typeExprArgs(x); ok {
				// Resolved on the search path, where extensions usually
				// are; sql("schema.type") says where else.
				return name + args, nil, true
			}
		}
	}
	if _, ok := x.(*hclsyntax.TemplateExpr); ok {
		r.at(x.Range(), "type takes %s, not a string", typeTakes)
		return "", nil, false
	}
	t, err := probeType(x)
	if err != nil {
		r.at(x.Range(), "type: %s: it takes %s", probeMessage(err), typeTakes)
		return "", nil, false
	}
	s, err := postgres.FormatType(t)
	if err != nil {
		r.at(x.Range(), "type: %v", err)
		return "", nil, false
	}
	if p := typeTextProblem(s); p != "" {
		r.at(x.Range(), "type %q %s: it takes %s", s, p, typeTakes)
		return "", nil, false
	}
	return s, t, true
}

// typeTextProblem says what, in a type as it goes into a statement (from
// sql("...")), is more than a type: only names, numbers, parenthesized
// modifiers, [] and dots may be there ("" when nothing is).
func typeTextProblem(s string) string {
	toks, err := pgsql.Lex(s)
	if err != nil {
		return fmt.Sprintf("does not read as SQL (%v)", err)
	}
	depth := 0
	for _, t := range toks {
		switch t.Kind {
		case pgsql.Space, pgsql.Word, pgsql.QuotedIdent:
		case pgsql.Other:
			switch t.Text {
			case "(", "[":
				depth++
			case ")", "]":
				if depth--; depth < 0 {
					return fmt.Sprintf("closes a %q it never opened", t.Text)
				}
			case ".":
			case ",":
				if depth == 0 {
					return "holds a comma outside parentheses"
				}
			default:
				return fmt.Sprintf("holds %q, which is no part of a type", t.Text)
			}
		default:
			return fmt.Sprintf("holds %q, which is no part of a type", strings.TrimSpace(t.Text))
		}
	}
	if depth != 0 {
		return "leaves a parenthesis or bracket open"
	}
	return ""
}

// typeProbe is a file the engine evaluates to read one type expression:
// its column's type is replaced by the expression.
const typeProbe = `schema "keel_type_probe" {}
table "t" {
  schema = schema.keel_type_probe
  column "c" {
    null = true
    type = int
  }
}
`

// probeType reads a type expression as the engine reads a column's type.
func probeType(x hclsyntax.Expression) (schema.Type, error) {
	f, diags := hclsyntax.ParseConfig([]byte(typeProbe), "keel-type-probe.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	body := f.Body.(*hclsyntax.Body)
	body.Blocks[1].Body.Blocks[0].Body.Attributes["type"].Expr = x
	p := hclparse.NewParser()
	p.AddFile("keel-type-probe.hcl", f)
	var realm schema.Realm
	if err := postgres.EvalHCL(p, &realm, nil); err != nil {
		return nil, err
	}
	if len(realm.Schemas) != 1 || len(realm.Schemas[0].Tables) != 1 || len(realm.Schemas[0].Tables[0].Columns) != 1 {
		return nil, errors.New("the engine read no type")
	}
	c := realm.Schemas[0].Tables[0].Columns[0]
	if c.Type == nil || c.Type.Type == nil {
		return nil, errors.New("the engine read no type")
	}
	return c.Type.Type, nil
}

// probeMessage is what an error of the engine's evaluator says, without
// its position (the problem has it): `there is no type named "texx" (did
// you mean "text"?)`.
func probeMessage(err error) string {
	var diags hcl.Diagnostics
	msg := err.Error()
	if errors.As(err, &diags) && len(diags) > 0 {
		msg = diags[0].Summary
		if diags[0].Detail != "" {
			msg = diags[0].Detail
		}
	} else if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	msg = strings.TrimSuffix(msg, ".")
	if before, after, ok := strings.Cut(msg, ". Did you mean "); ok {
		msg = before + " (did you mean " + after + ")"
	}
	if msg != "" {
		msg = strings.ToLower(msg[:1]) + msg[1:]
	}
	return msg
}

// TypeSQL reads a type expression as written in HCL (`varchar(255)`,
// `timestamptz(3)`, `sql("public.x")`) as the SQL type the engine makes of
// it, for checking that a printed type reads back as the same type.
func TypeSQL(expr string) (string, error) {
	x, diags := hclsyntax.ParseExpression([]byte(expr), "type.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return "", diags
	}
	t, err := probeType(x)
	if err != nil {
		return "", err
	}
	return postgres.FormatType(t)
}

// collateSQL reads a collate attribute: a collation's name as a string
// (looked up on the search path, pg_catalog first: "C", "en-x-icu") or a
// reference to a collation block, collation.NAME or collation.SCHEMA.NAME.
func (ix *typeIndex) collateSQL(r *typeBlockRead, a *hclsyntax.Attribute, from string) (string, bool) {
	if ref, ok := typeKindRef(a.Expr, "collation"); ok {
		nb, problem := ix.lookup("collation", ref, from)
		if problem != "" {
			r.at(a.Expr.Range(), "collate %s", problem)
			return "", false
		}
		return pgsql.QuoteQualified(nb.schema, nb.name), true
	}
	s, ok := typeString(a)
	if !ok || s == "" {
		r.at(a.Expr.Range(), `collate takes a collation's name, collate = "C", or a collation block, collate = collation.NAME`)
		return "", false
	}
	return pgsql.QuoteIdent(s), true
}

// sequenceSQL makes CREATE SEQUENCE and its comment, and ALTER SEQUENCE
// ... OWNED BY for an owner.
func (ix *typeIndex) sequenceSQL(r *typeBlockRead, b *hclsyntax.Block, sch, name string) (create, owned []string) {
	q := pgsql.QuoteQualified(sch, name)
	attrs := b.Body.Attributes
	var s strings.Builder
	s.WriteString("CREATE ")
	if a, ok := attrs["unlogged"]; ok {
		v, ok := boolValue(a)
		switch {
		case !ok:
			r.at(a.Expr.Range(), "unlogged takes true or false")
		case v:
			s.WriteString("UNLOGGED ")
		}
	}
	s.WriteString("SEQUENCE " + q)
	if a, ok := attrs["type"]; ok {
		t, et, ok := ix.typeSQL(r, a, sch)
		if ok {
			if _, isInt := et.(*schema.IntegerType); !isInt || !contains([]string{"smallint", "integer", "bigint"}, t) {
				r.at(a.Expr.Range(), "a sequence's type is smallint, int or bigint, not %s", t)
			} else {
				s.WriteString(" AS " + t)
			}
		}
	}
	for _, o := range []struct{ attr, clause string }{
		{"increment", "INCREMENT BY"}, {"min_value", "MINVALUE"}, {"max_value", "MAXVALUE"}, {"start", "START WITH"}, {"cache", "CACHE"},
	} {
		a, ok := attrs[o.attr]
		if !ok {
			continue
		}
		v, ok := intValue(a)
		if !ok {
			r.at(a.Expr.Range(), "%s takes an integer", o.attr)
			continue
		}
		fmt.Fprintf(&s, " %s %d", o.clause, v)
	}
	if a, ok := attrs["cycle"]; ok {
		v, ok := boolValue(a)
		switch {
		case !ok:
			r.at(a.Expr.Range(), "cycle takes true or false")
		case v:
			s.WriteString(" CYCLE")
		}
	}
	create = []string{s.String()}
	if c, ok := typeBlockComment(r, b.Body); ok {
		create = append(create, "COMMENT ON SEQUENCE "+q+" IS "+pgsql.QuoteLiteral(c))
	}
	if a, ok := attrs["owner"]; ok {
		ref, col, ok := ownerColumnRef(a.Expr)
		if !ok {
			r.at(a.Expr.Range(), "owner takes the column that owns the sequence: owner = table.NAME.column.NAME (or table.SCHEMA.NAME.column.NAME)")
			return create, nil
		}
		tb, found, problem := ix.table(ref, sch)
		switch {
		case problem != "":
			r.at(a.Expr.Range(), "owner %s", problem)
		case found && !tableHasColumn(tb.b, col):
			r.at(a.Expr.Range(), "owner names column %q, which table %q (%s) has no column block for", col, tb.name, tb.pos)
		case sch != "" && tb.schema != sch:
			r.at(a.Expr.Range(), "owner is a column of a table in schema %q: PostgreSQL links a sequence only to a table of its own schema, %q", tb.schema, sch)
		default:
			owned = []string{"ALTER SEQUENCE " + q + " OWNED BY " + pgsql.QuoteQualified(tb.schema, tb.name) + "." + pgsql.QuoteIdent(col)}
		}
	}
	return create, owned
}

// domainSQL makes CREATE DOMAIN, its NOT VALID checks and its comments.
func (ix *typeIndex) domainSQL(r *typeBlockRead, b *hclsyntax.Block, sch, name string) []string {
	q := pgsql.QuoteQualified(sch, name)
	attrs := b.Body.Attributes
	var s strings.Builder
	s.WriteString("CREATE DOMAIN " + q + " AS ")
	var base schema.Type
	if a, ok := attrs["type"]; ok {
		t, et, ok := ix.typeSQL(r, a, sch)
		s.WriteString(t)
		if ok {
			base = et
		}
	} else {
		r.at(b.DefRange(), "needs its type: type = text (or any column type)")
	}
	if a, ok := attrs["collate"]; ok {
		if c, ok := ix.collateSQL(r, a, sch); ok {
			s.WriteString(" COLLATE " + c)
		}
	}
	if a, ok := attrs["default"]; ok {
		if d, ok := domainDefaultSQL(r, a, base); ok {
			s.WriteString(" DEFAULT " + d)
		}
	}
	// As Atlas reads a domain's null (and a column's): without null = true,
	// the domain is NOT NULL.
	notNull := true
	if a, ok := attrs["null"]; ok {
		v, ok := boolValue(a)
		if !ok {
			r.at(a.Expr.Range(), "null takes true (values may be NULL) or false (NOT NULL)")
		}
		notNull = !v
	}
	if notNull {
		s.WriteString(" NOT NULL")
	}
	var later, comments []string
	for _, cb := range b.Body.Blocks {
		if cb.Type != "check" {
			continue
		}
		label := ""
		if len(cb.Labels) == 1 {
			label = cb.Labels[0]
		}
		cr := &typeBlockRead{where: r.where + ", check"}
		if label != "" {
			cr.where += fmt.Sprintf(" %q", label)
		}
		ca := cb.Body.Attributes
		a, ok := ca["expr"]
		if !ok {
			cr.at(cb.DefRange(), `needs its expression: expr = "VALUE > 0"`)
			r.problems = append(r.problems, cr.problems...)
			continue
		}
		expr, ok := typeString(a)
		if ok {
			if p := usingProblem(expr); p != "" {
				cr.at(a.Expr.Range(), "expr %s", p)
				ok = false
			}
		} else {
			cr.at(a.Expr.Range(), `expr takes the check's expression as a string, with VALUE for the value: expr = "VALUE > 0"`)
		}
		constraint := ""
		if label != "" {
			constraint = "CONSTRAINT " + pgsql.QuoteIdent(label) + " "
		}
		check := constraint + "CHECK (" + expr + ")"
		notValid := false
		if na, has := ca["not_valid"]; has {
			v, ok := boolValue(na)
			switch {
			case !ok:
				cr.at(na.Expr.Range(), "not_valid takes true or false")
			case v && label == "":
				cr.at(na.NameRange, "not_valid needs the check's name: give the block a label")
			}
			notValid = v
		}
		if c, has := typeBlockComment(cr, cb.Body); has {
			if label == "" {
				cr.at(ca["comment"].NameRange, "a comment needs the check's name: give the block a label")
			}
			comments = append(comments, "COMMENT ON CONSTRAINT "+pgsql.QuoteIdent(label)+" ON DOMAIN "+q+" IS "+pgsql.QuoteLiteral(c))
		}
		r.problems = append(r.problems, cr.problems...)
		if notValid {
			later = append(later, "ALTER DOMAIN "+q+" ADD "+check+" NOT VALID")
		} else if ok {
			s.WriteString(" " + check)
		}
	}
	out := append([]string{s.String()}, later...)
	if c, ok := typeBlockComment(r, b.Body); ok {
		out = append(out, "COMMENT ON DOMAIN "+q+" IS "+pgsql.QuoteLiteral(c))
	}
	return append(out, comments...)
}

// domainDefaultSQL reads a domain's default as the engine reads a column's: a
// string is a literal (a number's or a boolean's as written), a number
// or a boolean as written, sql("...") an expression.
func domainDefaultSQL(r *typeBlockRead, a *hclsyntax.Attribute, base schema.Type) (string, bool) {
	const takes = `default takes a string, a number, true or false, or an expression, sql("...")`
	if x, ok := sqlCallText(a.Expr); ok {
		if p := usingProblem(x); p != "" {
			r.at(a.Expr.Range(), "default %s", p)
			return "", false
		}
		return x, true
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() {
		r.at(a.Expr.Range(), takes)
		return "", false
	}
	switch v.Type() {
	case cty.Bool:
		if v.True() {
			return "true", true
		}
		return "false", true
	case cty.Number:
		f := v.AsBigFloat()
		if f.IsInt() {
			return f.Text('f', -1), true
		}
		return f.Text('g', -1), true
	case cty.String:
		s := v.AsString()
		switch base.(type) {
		case *schema.BoolType, *schema.DecimalType, *schema.IntegerType, *schema.FloatType:
			if _, ok := new(big.Float).SetString(s); ok || s == "true" || s == "false" {
				return s, true
			}
		}
		// A string already quoted ('...') is the literal it spells, as the
		// engine takes it.
		if toks, err := pgsql.Lex(s); err == nil && len(toks) == 1 && toks[0].Kind == pgsql.String && strings.HasPrefix(s, "'") {
			return s, true
		}
		return pgsql.QuoteLiteral(s), true
	}
	r.at(a.Expr.Range(), takes)
	return "", false
}

// compositeSQL makes CREATE TYPE ... AS (...) and its comments.
func (ix *typeIndex) compositeSQL(r *typeBlockRead, b *hclsyntax.Block, sch, name string) []string {
	q := pgsql.QuoteQualified(sch, name)
	var fields, comments []string
	seen := make(map[string]string)
	for _, fb := range b.Body.Blocks {
		if fb.Type != "field" || len(fb.Labels) != 1 {
			continue
		}
		f := fb.Labels[0]
		fr := &typeBlockRead{where: fmt.Sprintf("%s, field %q", r.where, f)}
		if prev, dup := seen[f]; dup {
			fr.at(fb.DefRange(), "is already declared at %s", prev)
		}
		seen[f] = posCol(fb.DefRange())
		def := pgsql.QuoteIdent(f)
		if a, ok := fb.Body.Attributes["type"]; ok {
			t, _, _ := ix.typeSQL(fr, a, sch)
			def += " " + t
		} else {
			fr.at(fb.DefRange(), "needs its type: type = text (or any column type)")
		}
		if a, ok := fb.Body.Attributes["collate"]; ok {
			if c, ok := ix.collateSQL(fr, a, sch); ok {
				def += " COLLATE " + c
			}
		}
		if c, ok := typeBlockComment(fr, fb.Body); ok {
			comments = append(comments, "COMMENT ON COLUMN "+q+"."+pgsql.QuoteIdent(f)+" IS "+pgsql.QuoteLiteral(c))
		}
		r.problems = append(r.problems, fr.problems...)
		fields = append(fields, def)
	}
	out := []string{"CREATE TYPE " + q + " AS (" + strings.Join(fields, ", ") + ")"}
	if c, ok := typeBlockComment(r, b.Body); ok {
		out = append(out, "COMMENT ON TYPE "+q+" IS "+pgsql.QuoteLiteral(c))
	}
	return append(out, comments...)
}

// collationSQL makes CREATE COLLATION and its comment.
func (ix *typeIndex) collationSQL(r *typeBlockRead, b *hclsyntax.Block, sch, name string) []string {
	q := pgsql.QuoteQualified(sch, name)
	attrs := b.Body.Attributes
	var opts []string
	provider := "libc"
	if a, ok := attrs["provider"]; ok {
		p, ok := wordValue(a)
		if !ok || !contains([]string{"icu", "libc", "builtin"}, p) {
			r.at(a.Expr.Range(), "provider takes icu, libc or builtin")
		} else {
			provider = p
			opts = append(opts, "provider = "+p)
		}
	}
	for _, n := range []string{"locale", "lc_collate", "lc_ctype"} {
		a, ok := attrs[n]
		if !ok {
			continue
		}
		v, ok := typeString(a)
		if !ok {
			r.at(a.Expr.Range(), `%s takes a string: %s = "fr-x-icu"`, n, n)
			continue
		}
		opts = append(opts, n+" = "+pgsql.QuoteLiteral(v))
	}
	_, locale := attrs["locale"]
	_, lcCollate := attrs["lc_collate"]
	_, lcCtype := attrs["lc_ctype"]
	switch {
	case locale && (lcCollate || lcCtype):
		r.at(b.DefRange(), "takes locale, or lc_collate and lc_ctype, not both")
	case !locale && provider != "libc":
		r.at(b.DefRange(), "needs its locale: locale = \"...\"")
	case !locale && !(lcCollate && lcCtype):
		r.at(b.DefRange(), "needs its locale: locale = \"...\" (or lc_collate and lc_ctype)")
	}
	if a, ok := attrs["deterministic"]; ok {
		v, ok := boolValue(a)
		if !ok {
			r.at(a.Expr.Range(), "deterministic takes true or false")
		} else {
			opts = append(opts, fmt.Sprintf("deterministic = %t", v))
		}
	}
	if a, ok := attrs["rules"]; ok {
		v, ok := typeString(a)
		if !ok {
			r.at(a.Expr.Range(), `rules takes a string of ICU rules: rules = "&V << w <<< W"`)
		} else {
			opts = append(opts, "rules = "+pgsql.QuoteLiteral(v))
		}
	}
	out := []string{"CREATE COLLATION " + q + " (" + strings.Join(opts, ", ") + ")"}
	if c, ok := typeBlockComment(r, b.Body); ok {
		out = append(out, "COMMENT ON COLLATION "+q+" IS "+pgsql.QuoteLiteral(c))
	}
	return out
}

// statisticsKinds are the kinds CREATE STATISTICS takes, in the order
// pg_get_statisticsobjdef prints them.
var statisticsKinds = []string{"ndistinct", "dependencies", "mcv"}

// statisticsSQL makes CREATE STATISTICS, its target and its comment.
func (ix *typeIndex) statisticsSQL(r *typeBlockRead, b *hclsyntax.Block, sch, name string) []string {
	q := pgsql.QuoteQualified(sch, name)
	attrs := b.Body.Attributes
	var (
		table []string
		tb    declaredBlock
		found bool
	)
	if a, ok := attrs["on"]; ok {
		ref, ok := tableRef(a.Expr)
		if !ok {
			r.at(a.Expr.Range(), "on takes a reference to a table block: on = table.NAME (or table.SCHEMA.NAME)")
		} else {
			var problem string
			tb, found, problem = ix.table(ref, sch)
			if problem != "" {
				r.at(a.Expr.Range(), "on %s", problem)
			}
			table = ref
		}
	} else {
		r.at(b.DefRange(), "needs its table: on = table.NAME")
	}
	var keys []string
	if a, ok := attrs["columns"]; ok {
		const takes = "columns takes a list of the table's columns: columns = [column.a, column.b]"
		list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
		if !ok {
			r.at(a.Expr.Range(), takes)
		} else {
			for _, x := range list.Exprs {
				c, ok := columnRef(x)
				if tr, isTr := x.(*hclsyntax.ScopeTraversalExpr); !isTr || tr.Traversal.RootName() != "column" && tr.Traversal.RootName() != "table" {
					ok = false
				}
				if !ok {
					r.at(x.Range(), takes)
					continue
				}
				if tr, _, isTable := ownerColumnRef(x); isTable && table != nil && strings.Join(tr, ".") != strings.Join(table, ".") {
					r.at(x.Range(), "names a column of table.%s, not of its table, table.%s", strings.Join(tr, "."), strings.Join(table, "."))
					continue
				}
				if found && !tableHasColumn(tb.b, c) {
					r.at(x.Range(), "names column %q, which table %q (%s) has no column block for", c, tb.name, tb.pos)
					continue
				}
				keys = append(keys, pgsql.QuoteIdent(c))
			}
		}
	}
	if a, ok := attrs["exprs"]; ok {
		const takes = `exprs takes a list of expressions as strings: exprs = ["lower(email)"]`
		list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
		if !ok {
			r.at(a.Expr.Range(), takes)
		} else {
			for _, x := range list.Exprs {
				v, diags := x.Value(nil)
				if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
					r.at(x.Range(), takes)
					continue
				}
				if p := usingProblem(v.AsString()); p != "" {
					r.at(x.Range(), "the expression %s", p)
					continue
				}
				keys = append(keys, "("+v.AsString()+")")
			}
		}
	}
	if len(keys) == 0 && len(r.problems) == 0 {
		r.at(b.DefRange(), `needs what it is on: columns = [column.a, column.b] and/or exprs = ["lower(email)"]`)
	}
	var s strings.Builder
	s.WriteString("CREATE STATISTICS " + q)
	if a, ok := attrs["kinds"]; ok {
		const takes = "kinds takes a list of ndistinct, dependencies and mcv: kinds = [ndistinct, dependencies]"
		list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
		if !ok || len(list.Exprs) == 0 {
			r.at(a.Expr.Range(), takes)
		} else {
			var kinds []string
			for _, x := range list.Exprs {
				k, ok := wordValue(&hclsyntax.Attribute{Expr: x})
				switch {
				case !ok || !contains(statisticsKinds, k):
					r.at(x.Range(), takes)
				case contains(kinds, k):
					r.at(x.Range(), "kinds names %s twice", k)
				default:
					kinds = append(kinds, k)
				}
			}
			s.WriteString(" (" + strings.Join(kinds, ", ") + ")")
		}
	}
	s.WriteString(" ON " + strings.Join(keys, ", "))
	if table != nil {
		s.WriteString(" FROM " + pgsql.QuoteQualified(tb.schema, tb.name))
	}
	out := []string{s.String()}
	if a, ok := attrs["target"]; ok {
		v, ok := intValue(a)
		if !ok || v < -1 || v > 10000 {
			r.at(a.Expr.Range(), "target takes the statistics target, an integer from 0 to 10000 (-1: the columns' own)")
		} else {
			out = append(out, fmt.Sprintf("ALTER STATISTICS %s SET STATISTICS %d", q, v))
		}
	}
	if c, ok := typeBlockComment(r, b.Body); ok {
		out = append(out, "COMMENT ON STATISTICS "+q+" IS "+pgsql.QuoteLiteral(c))
	}
	return out
}

// rewriteColumnTypes replaces, in the table blocks, a column's type written
// as a reference to a domain or composite block (domain.x, composite.x,
// domain.SCHEMA.x), which the engine's evaluator does not know, with the
// raw type sql("\"schema\".\"x\""), which it carries as a user-defined type.
func (ix *typeIndex) rewriteColumnTypes(bodies []*hclsyntax.Body) []string {
	var problems []string
	for _, body := range bodies {
		for _, tb := range body.Blocks {
			if tb.Type != "table" || len(tb.Labels) < 1 || len(tb.Labels) > 2 {
				continue
			}
			sch, _ := typeBlockSchema(tb)
			for _, cb := range tb.Body.Blocks {
				if cb.Type != "column" || len(cb.Labels) != 1 {
					continue
				}
				a, ok := cb.Body.Attributes["type"]
				if !ok {
					continue
				}
				for _, kind := range []string{"domain", "composite"} {
					ref, ok := typeKindRef(a.Expr, kind)
					if !ok {
						continue
					}
					nb, problem := ix.lookup(kind, ref, sch)
					if problem != "" {
						problems = append(problems, fmt.Sprintf("%s: table %q, column %q: type %s", posCol(a.Expr.Range()), tb.Labels[len(tb.Labels)-1], cb.Labels[0], problem))
						break
					}
					rng := a.Expr.Range()
					a.Expr = &hclsyntax.FunctionCallExpr{
						Name:            "sql",
						Args:            []hclsyntax.Expression{&hclsyntax.LiteralValueExpr{Val: cty.StringVal(pgsql.QuoteQualified(nb.schema, nb.name)), SrcRange: rng}},
						NameRange:       rng,
						OpenParenRange:  rng,
						CloseParenRange: rng,
					}
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}
