package state

import (
	"fmt"
	"sort"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// The engine creates a partitioned table from its `partition` block, but
// knows nothing of the partitions themselves (it skips every table that is
// one): a desired state that declared the parent alone would plan DROP
// TABLE of every partition in the database. keel's HCL declares a
// partition as a table block with keel's attributes `partition_of` (the
// partitioned table's block) and `bound` (FOR VALUES ... or DEFAULT).
// Such blocks are taken out of the body before the engine evaluates it,
// kept as State.Partitions, and created in the throwaway database after
// the engine's statements; the catalog read afterwards has them, and the
// planner plans them from the catalog as it does for SQL desired states.

// partitionAttrs are the attributes that make a table block a partition.
var partitionAttrs = []string{"partition_of", "bound"}

// A Partition is a partition declared in HCL.
type Partition struct {
	// Schema and Name name the partition.
	Schema, Name string
	// ParentSchema and Parent name the partitioned table it is a
	// partition of (a table block with a partition block, or a
	// partition with one).
	ParentSchema, Parent string
	// Bound is its bound as written: "FOR VALUES FROM (...) TO (...)",
	// "FOR VALUES IN (...)", "FOR VALUES WITH (...)" or "DEFAULT".
	Bound string
	// Key is its own partition key, for a partition partitioned itself,
	// as PARTITION BY takes it ("LIST (\"region\")"); empty otherwise.
	Key string
	// Comment is the table's comment; empty for none.
	Comment string
	// Pos is where the block is declared: "schema.hcl:12:1".
	Pos string
}

// CreateSQL is the statement that creates the partition.
func (p Partition) CreateSQL() string {
	sql := "CREATE TABLE " + pgsql.QuoteQualified(p.Schema, p.Name) + " PARTITION OF " + pgsql.QuoteQualified(p.ParentSchema, p.Parent) + " " + p.Bound
	if p.Key != "" {
		sql += " PARTITION BY " + p.Key
	}
	return sql
}

// tableDecl is a table block of the files, for resolving partition_of.
type tableDecl struct {
	schema, name string
	// partitioned says the block has a partition block.
	partitioned bool
	pos         string
}

// partitionDecl is a partition block, its parent not resolved yet.
type partitionDecl struct {
	Partition
	// ref is partition_of as written: [name] or [schema, name].
	ref    []string
	refPos string
}

// takePartitions removes the table blocks of body that declare a
// partition (partition_of or bound), and returns them, every table block
// (partitions included) and the problems found, each starting with
// file:line:column. Blocks whose labels the grammar refuses are left to its
// messages.
func takePartitions(body *hclsyntax.Body) (parts []partitionDecl, tables []tableDecl, problems []string) {
	kept := body.Blocks[:0:0]
	for _, b := range body.Blocks {
		if b.Type != "table" || len(b.Labels) < 1 || len(b.Labels) > 2 {
			kept = append(kept, b)
			continue
		}
		name, schemaName := b.Labels[len(b.Labels)-1], ""
		if len(b.Labels) == 2 {
			schemaName = b.Labels[0]
		} else if a, ok := b.Body.Attributes["schema"]; ok {
			schemaName, _ = tableSchemaRef(a.Expr)
		}
		partitioned := false
		for _, sub := range b.Body.Blocks {
			partitioned = partitioned || sub.Type == "partition"
		}
		tables = append(tables, tableDecl{schema: schemaName, name: name, partitioned: partitioned, pos: posCol(b.DefRange())})
		of, bound := b.Body.Attributes["partition_of"], b.Body.Attributes["bound"]
		if of == nil && bound == nil {
			kept = append(kept, b)
			continue
		}
		p, bad := partitionBlock(b, name, schemaName, of, bound)
		problems = append(problems, bad...)
		if len(bad) == 0 {
			parts = append(parts, p)
		}
	}
	body.Blocks = kept
	return parts, tables, problems
}

// partitionBlock reads a table block that declares a partition.
func partitionBlock(b *hclsyntax.Block, name, schemaName string, of, bound *hclsyntax.Attribute) (partitionDecl, []string) {
	var problems []string
	where := fmt.Sprintf("partition %q", name)
	bad := func(r hcl.Range, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s: %s: %s", posCol(r), where, fmt.Sprintf(format, args...)))
	}
	p := partitionDecl{Partition: Partition{Schema: schemaName, Name: name, Pos: posCol(b.DefRange())}}
	switch {
	case of == nil:
		bad(bound.NameRange, "bound needs partition_of: the partitioned table's block, partition_of = table.NAME")
	case bound == nil:
		bad(of.NameRange, `partition_of needs bound: bound = "FOR VALUES FROM (...) TO (...)", "FOR VALUES IN (...)", "FOR VALUES WITH (MODULUS m, REMAINDER r)" or "DEFAULT"`)
	}
	if schemaName == "" {
		bad(b.DefRange(), "a partition needs its schema: schema = schema.NAME")
	}
	if of != nil {
		ref, ok := tableRef(of.Expr)
		if !ok {
			bad(of.Expr.Range(), "partition_of takes a reference to a table block: table.NAME or table.SCHEMA.NAME")
		}
		p.ref, p.refPos = ref, posCol(of.Expr.Range())
	}
	if bound != nil {
		text, err := boundText(bound)
		if err != nil {
			bad(bound.Expr.Range(), "bound %s", err)
		}
		p.Bound = text
	}
	names := make([]string, 0, len(b.Body.Attributes))
	for n := range b.Body.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := b.Body.Attributes[n]
		switch n {
		case "schema", "partition_of", "bound":
		case "comment":
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() || v.IsNull() || !v.Type().Equals(cty.String) {
				bad(a.NameRange, "comment takes a string")
				continue
			}
			p.Comment = v.AsString()
		default:
			bad(a.NameRange, "%s is not supported on a partition in keel's HCL: a partition takes schema, partition_of, bound, comment and a partition block", n)
		}
	}
	for _, sub := range b.Body.Blocks {
		switch sub.Type {
		case "partition":
			key, err := partitionKeySQL(sub)
			if err != "" {
				problems = append(problems, fmt.Sprintf("%s: %s, partition block: %s", posCol(sub.TypeRange), where, err))
				continue
			}
			p.Key = key
		case "column", "index", "unique", "primary_key", "foreign_key", "check":
			bad(sub.TypeRange, "a partition gets its columns, keys and indexes from the partitioned table: declare them there")
		default:
			// The grammar names what it does not know.
		}
	}
	return p, problems
}

// tableRef reads table.NAME, table.SCHEMA.NAME (each part also as
// ["..."]) as the table's name, or its schema and name.
func tableRef(x hclsyntax.Expression) ([]string, bool) {
	t, ok := x.(*hclsyntax.ScopeTraversalExpr)
	if !ok || t.Traversal.RootName() != "table" || len(t.Traversal) < 2 || len(t.Traversal) > 3 {
		return nil, false
	}
	var out []string
	for _, step := range t.Traversal[1:] {
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

// boundText reads a bound: one FOR VALUES clause or DEFAULT, nothing more
// (no semicolon, no comment), as it goes after PARTITION OF parent.
func boundText(a *hclsyntax.Attribute) (string, error) {
	const takes = `takes a string: "FOR VALUES FROM (...) TO (...)", "FOR VALUES IN (...)", "FOR VALUES WITH (MODULUS m, REMAINDER r)" or "DEFAULT"`
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.Type().Equals(cty.String) {
		return "", fmt.Errorf("%s", takes)
	}
	text := strings.TrimSpace(v.AsString())
	toks, err := pgsql.Lex(text)
	if err != nil {
		return "", fmt.Errorf("does not read as SQL (%v): it %s", err, takes)
	}
	var words []string
	for _, t := range toks {
		switch t.Kind {
		case pgsql.Semicolon:
			return "", fmt.Errorf("holds a semicolon: it is one clause, and %s", takes)
		case pgsql.Comment:
			return "", fmt.Errorf("holds a comment: it %s", takes)
		case pgsql.Word:
			if len(words) < 2 {
				words = append(words, strings.ToUpper(t.Text))
			}
		}
	}
	switch {
	case len(words) == 1 && strings.EqualFold(text, "DEFAULT"):
	case len(words) == 2 && words[0] == "FOR" && words[1] == "VALUES" && len(toks) > 3:
	default:
		return "", fmt.Errorf("%s", takes)
	}
	return text, nil
}

// partitionKeySQL turns a partition block (type, and columns or by
// blocks) into the key PARTITION BY takes: `RANGE ("at")`. It returns what
// is wrong instead, when something is.
func partitionKeySQL(b *hclsyntax.Block) (string, string) {
	const takes = "write type = RANGE, LIST or HASH and columns = [column.NAME, ...], or by { column = column.NAME } / by { expr = \"...\" } blocks"
	var typ string
	if a, ok := b.Body.Attributes["type"]; ok {
		if t, ok := a.Expr.(*hclsyntax.ScopeTraversalExpr); ok && len(t.Traversal) == 1 {
			typ = t.Traversal.RootName()
		} else if v, diags := a.Expr.Value(nil); !diags.HasErrors() && !v.IsNull() && v.Type().Equals(cty.String) {
			typ = v.AsString()
		}
	}
	switch typ = strings.ToUpper(typ); typ {
	case "RANGE", "LIST", "HASH":
	default:
		return "", "type is missing or not RANGE, LIST or HASH: " + takes
	}
	var parts []string
	if a, ok := b.Body.Attributes["columns"]; ok {
		list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
		if !ok || len(list.Exprs) == 0 {
			return "", "columns takes a list of column.NAME: " + takes
		}
		for _, x := range list.Exprs {
			c, ok := columnRef(x)
			if !ok {
				return "", "columns takes a list of column.NAME: " + takes
			}
			parts = append(parts, pgsql.QuoteIdent(c))
		}
	}
	for _, by := range b.Body.Blocks {
		if by.Type != "by" {
			continue
		}
		col, hasCol := by.Body.Attributes["column"]
		expr, hasExpr := by.Body.Attributes["expr"]
		switch {
		case hasCol == hasExpr:
			return "", "a by block takes column = column.NAME or expr = \"...\", one of them"
		case hasCol:
			c, ok := columnRef(col.Expr)
			if !ok {
				return "", "by's column takes column.NAME"
			}
			parts = append(parts, pgsql.QuoteIdent(c))
		default:
			v, diags := expr.Expr.Value(nil)
			if diags.HasErrors() || v.IsNull() || !v.Type().Equals(cty.String) || strings.TrimSpace(v.AsString()) == "" {
				return "", "by's expr takes a string: an SQL expression"
			}
			if err := pgsql.OneStatement(v.AsString()); err != nil || strings.Contains(v.AsString(), ";") {
				return "", "by's expr is one SQL expression, without a semicolon"
			}
			parts = append(parts, "("+v.AsString()+")")
		}
	}
	if len(parts) == 0 {
		return "", "no columns and no by blocks: " + takes
	}
	if _, ok := b.Body.Attributes["columns"]; ok && len(parts) != len(b.Body.Attributes["columns"].Expr.(*hclsyntax.TupleConsExpr).Exprs) {
		return "", `columns and by blocks together: use "columns" or "by"`
	}
	return typ + " (" + strings.Join(parts, ", ") + ")", ""
}

// resolvePartitions finds each partition's parent among the table blocks
// of all files, refuses a partition declared twice or named as another
// table, and orders the partitions parents first.
func resolvePartitions(parts []partitionDecl, tables []tableDecl) ([]Partition, []string) {
	var problems []string
	byName := make(map[string][]tableDecl)
	seen := make(map[[2]string]string)
	for _, t := range tables {
		byName[t.name] = append(byName[t.name], t)
		k := [2]string{t.schema, t.name}
		if prev, ok := seen[k]; ok && t.schema != "" {
			problems = append(problems, fmt.Sprintf("%s: table %s is already declared at %s", t.pos, plan.DisplayName(t.schema, t.name), prev))
			continue
		}
		seen[k] = t.pos
	}
	var out []Partition
	for _, p := range parts {
		var found []tableDecl
		switch len(p.ref) {
		case 1:
			found = byName[p.ref[0]]
			if len(found) > 1 {
				// The partition's own schema first, as a reader would take it.
				for _, t := range found {
					if t.schema == p.Schema {
						found = []tableDecl{t}
						break
					}
				}
			}
		case 2:
			for _, t := range byName[p.ref[1]] {
				if t.schema == p.ref[0] {
					found = append(found, t)
				}
			}
		}
		ref := "table." + strings.Join(p.ref, ".")
		switch {
		case len(found) == 0:
			problems = append(problems, fmt.Sprintf("%s: partition %q: partition_of = %s names no table block: declare the partitioned table, with a partition block", p.refPos, p.Name, ref))
			continue
		case len(found) > 1:
			problems = append(problems, fmt.Sprintf("%s: partition %q: partition_of = %s names tables in several schemas: write table.SCHEMA.NAME", p.refPos, p.Name, ref))
			continue
		case !found[0].partitioned:
			problems = append(problems, fmt.Sprintf("%s: partition %q: partition_of = %s names a table that is not partitioned: give table %s (%s) a partition block (partition { type = RANGE, columns = [column.NAME] })",
				p.refPos, p.Name, ref, plan.DisplayName(found[0].schema, found[0].name), found[0].pos))
			continue
		case found[0].schema == p.Schema && found[0].name == p.Name:
			problems = append(problems, fmt.Sprintf("%s: partition %q: partition_of names the partition itself", p.refPos, p.Name))
			continue
		}
		p.ParentSchema, p.Parent = found[0].schema, found[0].name
		out = append(out, p.Partition)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return orderPartitions(out)
}

// orderPartitions puts each partition after its parent, when the parent is
// a partition too; a cycle is a problem.
func orderPartitions(parts []Partition) ([]Partition, []string) {
	index := make(map[[2]string]int, len(parts))
	for i, p := range parts {
		index[[2]string{p.Schema, p.Name}] = i
	}
	depth := make([]int, len(parts))
	for i, p := range parts {
		for n, at := 0, p; ; n++ {
			j, ok := index[[2]string{at.ParentSchema, at.Parent}]
			if !ok {
				depth[i] = n
				break
			}
			if n > len(parts) {
				return nil, []string{fmt.Sprintf("%s: partition %q: its partition_of goes round in a circle back to it", p.Pos, p.Name)}
			}
			at = parts[j]
		}
	}
	order := make([]int, len(parts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return depth[order[a]] < depth[order[b]] })
	out := make([]Partition, len(parts))
	for i, j := range order {
		out[i] = parts[j]
	}
	return out, nil
}

// partitions lists the catalog's partitions (Kind CatalogPartition), sorted.
func (c Catalog) partitions() []CatalogKey { return c.keysOf(CatalogPartition) }

// keysOf lists the catalog's keys of one kind of table-level object,
// sorted by schema and table.
func (c Catalog) keysOf(kind string) []CatalogKey {
	var keys []CatalogKey
	for k := range c {
		if k.Kind == kind {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Schema != keys[j].Schema {
			return keys[i].Schema < keys[j].Schema
		}
		return keys[i].Table < keys[j].Table
	})
	return keys
}

// writePartitions adds a table block for each partition of the catalog to
// text, the HCL of the same state (the engine's printer skips partitions):
// partition_of, bound, comment and, for a partition partitioned itself,
// its partition block. tables gives the schemas of each table name:
// partition_of refers to a parent by its name alone unless another schema
// has a table of that name.
func writePartitions(text []byte, cat Catalog, tables map[string][]string) []byte {
	keys := cat.partitions()
	if len(keys) == 0 {
		return text
	}
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	for _, k := range keys {
		parentSchema, parent, bound, ok := splitPartitionDesc(cat[k])
		if !ok {
			body.AppendUnstructuredTokens(commentTokens(note(CatalogKey{Kind: CatalogTable, Schema: k.Schema, Name: k.Table}.String(), "partition of "+cat[k])))
			continue
		}
		body.AppendNewline()
		b := body.AppendNewBlock("table", []string{k.Table})
		tb := b.Body()
		tb.SetAttributeRaw("schema", schemaRefTokens(k.Schema))
		ref := hcl.Traversal{hcl.TraverseRoot{Name: "table"}}
		if len(tables[parent]) > 1 {
			ref = append(ref, traverseName(parentSchema))
		}
		tb.SetAttributeRaw("partition_of", hclwrite.TokensForTraversal(append(ref, traverseName(parent))))
		tb.SetAttributeValue("bound", cty.StringVal(bound))
		desc := cat[CatalogKey{Kind: CatalogTable, Schema: k.Schema, Name: k.Table}]
		key, comment := tableDescParts(desc)
		if comment != "" {
			if c, ok := unquoteLiteral(comment); ok {
				tb.SetAttributeValue("comment", cty.StringVal(c))
			} else {
				tb.AppendUnstructuredTokens(commentTokens(note("the comment of "+CatalogKey{Kind: CatalogTable, Schema: k.Schema, Name: k.Table}.String(), comment)))
			}
		}
		if key != "" {
			writePartitionKey(tb, key)
		}
	}
	out := append([]byte{}, text...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, hclwrite.Format(f.Bytes())...)
}

// splitPartitionDesc reads a partition's catalog description, `public.t
// FOR VALUES ...`: the parent's schema and name, and the bound.
func splitPartitionDesc(desc string) (schemaName, name, bound string, ok bool) {
	toks, err := pgsql.Lex(desc)
	if err != nil || len(toks) < 5 || toks[1].Kind != pgsql.Other || toks[1].Text != "." || toks[3].Kind != pgsql.Space {
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
	s, ok1 := part(toks[0])
	n, ok2 := part(toks[2])
	return s, n, desc[toks[4].Offset:], ok1 && ok2
}

// tableDescParts reads a table's catalog description for what follows
// "partition by " (the key, as pg_get_partkeydef prints it) and "comment "
// (the comment, quoted).
func tableDescParts(desc string) (key, comment string) {
	rest := desc
	if i := strings.Index(rest, " comment '"); i >= 0 {
		comment, rest = rest[i+len(" comment "):], rest[:i]
	} else if i := strings.Index(rest, " comment E'"); i >= 0 {
		comment, rest = rest[i+len(" comment "):], rest[:i]
	}
	if _, by, ok := strings.Cut(rest, "partition by "); ok {
		key = by
	}
	return key, comment
}

// unquoteLiteral reads a plain '...' literal as quote_literal prints it.
func unquoteLiteral(s string) (string, bool) {
	toks, err := pgsql.Lex(s)
	if err != nil || len(toks) != 1 || toks[0].Kind != pgsql.String || !strings.HasPrefix(toks[0].Text, "'") {
		return "", false
	}
	return toks[0].Value, true
}

// writePartitionKey writes a partition key as pg_get_partkeydef prints it
// ("LIST (region)", "RANGE (lower(name), id)") as a partition block:
// columns = [...] when every part is a column, else a by block per part.
func writePartitionKey(body *hclwrite.Body, key string) {
	typ, inner, ok := strings.Cut(key, " (")
	if !ok || !strings.HasSuffix(inner, ")") {
		body.AppendUnstructuredTokens(commentTokens(note("the partition key", key)))
		return
	}
	inner = strings.TrimSuffix(inner, ")")
	toks, err := pgsql.Lex(inner)
	if err != nil {
		body.AppendUnstructuredTokens(commentTokens(note("the partition key", key)))
		return
	}
	// Split the parts at the commas outside parentheses.
	var (
		parts [][]pgsql.Token
		cur   []pgsql.Token
		depth int
	)
	for _, t := range toks {
		switch {
		case t.Kind == pgsql.Other && t.Text == "(":
			depth++
		case t.Kind == pgsql.Other && t.Text == ")":
			depth--
		case t.Kind == pgsql.Other && t.Text == "," && depth == 0:
			parts, cur = append(parts, cur), nil
			continue
		}
		cur = append(cur, t)
	}
	parts = append(parts, cur)
	type keyPart struct {
		column, expr string
	}
	var read []keyPart
	allColumns := true
	for _, p := range parts {
		var solid []pgsql.Token
		for _, t := range p {
			if t.Kind != pgsql.Space {
				solid = append(solid, t)
			}
		}
		switch {
		case len(solid) == 1 && solid[0].Kind == pgsql.QuotedIdent:
			read = append(read, keyPart{column: solid[0].Value})
		case len(solid) == 1 && solid[0].Kind == pgsql.Word && pgsql.IsPlainIdent(solid[0].Text):
			read = append(read, keyPart{column: solid[0].Text})
		default:
			text := ""
			for _, t := range p {
				text += t.Text
			}
			read = append(read, keyPart{expr: strings.TrimSpace(text)})
			allColumns = false
		}
	}
	pb := body.AppendNewBlock("partition", nil).Body()
	pb.SetAttributeRaw("type", hclwrite.TokensForIdentifier(strings.ToUpper(typ)))
	if allColumns {
		var list []hclwrite.Tokens
		for _, p := range read {
			list = append(list, hclwrite.TokensForTraversal(hcl.Traversal{hcl.TraverseRoot{Name: "column"}, traverseName(p.column)}))
		}
		pb.SetAttributeRaw("columns", hclwrite.TokensForTuple(list))
		return
	}
	for _, p := range read {
		by := pb.AppendNewBlock("by", nil).Body()
		if p.column != "" {
			by.SetAttributeRaw("column", hclwrite.TokensForTraversal(hcl.Traversal{hcl.TraverseRoot{Name: "column"}, traverseName(p.column)}))
		} else {
			by.SetAttributeValue("expr", cty.StringVal(p.expr))
		}
	}
}

// traverseName is .NAME, or ["NAME"] when NAME is not an HCL identifier.
func traverseName(name string) hcl.Traverser {
	if hclsyntax.ValidIdentifier(name) {
		return hcl.TraverseAttr{Name: name}
	}
	return hcl.TraverseIndex{Key: cty.StringVal(name)}
}

// schemaRefTokens writes schema.NAME, or schema["NAME"].
func schemaRefTokens(name string) hclwrite.Tokens {
	return hclwrite.TokensForTraversal(hcl.Traversal{hcl.TraverseRoot{Name: "schema"}, traverseName(name)})
}
