package state

import (
	"fmt"
	"sort"
	"strings"

	"keel/internal/pgsql"

	"ariga.io/atlas/sql/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Table inheritance (CREATE TABLE ... INHERITS (...)), which the engine
// does not model: keel's HCL declares it with the table block's attribute
// `inherits = [table.parent, ...]`. The child block declares only its own
// columns and checks; the parents' come with INHERITS. The attribute is
// taken out of the body before the engine evaluates it, kept as
// State.Inherits, and the throwaway database creates the child with its
// INHERITS clause after its parents; the catalog read afterwards has the
// "inherits" key, which the planner plans from.

// An Inherit is a table declared in HCL with `inherits`.
type Inherit struct {
	// Schema and Name name the child table.
	Schema, Name string
	// Parents are the tables it inherits from, in the order written:
	// {schema, name}.
	Parents [][2]string
	// Pos is where the inherits attribute is written: "schema.hcl:12:3".
	Pos string
	// Inherited are the columns the block declares with `inherited =
	// true`: the parents' columns, named in the block only so that its
	// indexes and keys can use them; they are not the child's own.
	Inherited []string
}

// Clause is the INHERITS clause that goes after CREATE TABLE's column
// list: ` INHERITS ("public"."p")`.
func (in Inherit) Clause() string {
	names := make([]string, len(in.Parents))
	for i, p := range in.Parents {
		names[i] = pgsql.QuoteQualified(p[0], p[1])
	}
	return " INHERITS (" + strings.Join(names, ", ") + ")"
}

// inheritDecl is an inherits attribute, its parents not resolved yet.
type inheritDecl struct {
	schema, name string
	// refs are the parents as written: [name] or [schema, name], with
	// where each is written.
	refs    [][]string
	refPos  []string
	pos     string
	inPart  bool // the block is a partition (partition_of)
	partKey bool // the block has a partition block
	// inherited are the columns declared with inherited = true.
	inherited []string
}

// takeInherits removes the inherits attribute of the table blocks of body
// and returns them, with the problems found (file:line:column first).
func takeInherits(body *hclsyntax.Body) (decls []inheritDecl, problems []string) {
	for _, b := range body.Blocks {
		if b.Type != "table" || len(b.Labels) < 1 || len(b.Labels) > 2 {
			continue
		}
		inherited, wrong := takeInherited(b.Body)
		problems = append(problems, wrong...)
		a, ok := b.Body.Attributes["inherits"]
		if !ok {
			if len(inherited) > 0 {
				problems = append(problems, fmt.Sprintf("%s: table %q: column %q has inherited = true, but the table has no inherits: only a table that inherits from others has inherited columns",
					inherited[0].pos, b.Labels[len(b.Labels)-1], inherited[0].name))
			}
			continue
		}
		delete(b.Body.Attributes, "inherits")
		name, schemaName := b.Labels[len(b.Labels)-1], ""
		if len(b.Labels) == 2 {
			schemaName = b.Labels[0]
		} else if s, ok := b.Body.Attributes["schema"]; ok {
			schemaName, _ = tableSchemaRef(s.Expr)
		}
		d := inheritDecl{schema: schemaName, name: name, pos: posCol(a.NameRange)}
		for _, c := range inherited {
			d.inherited = append(d.inherited, c.name)
		}
		_, d.inPart = b.Body.Attributes["partition_of"]
		for _, sub := range b.Body.Blocks {
			d.partKey = d.partKey || sub.Type == "partition"
		}
		const takes = "inherits takes a list of references to table blocks: inherits = [table.NAME, table.SCHEMA.NAME]"
		list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
		if !ok || len(list.Exprs) == 0 {
			problems = append(problems, fmt.Sprintf("%s: table %q: %s", posCol(a.Expr.Range()), name, takes))
			continue
		}
		bad := false
		for _, x := range list.Exprs {
			ref, ok := tableRef(x)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: table %q: %s", posCol(x.Range()), name, takes))
				bad = true
				continue
			}
			d.refs, d.refPos = append(d.refs, ref), append(d.refPos, posCol(x.Range()))
		}
		if !bad {
			decls = append(decls, d)
		}
	}
	return decls, problems
}

type inheritedColumn struct{ name, pos string }

// takeInherited removes the inherited attribute of the column blocks of a
// table block and returns the columns where it is true.
func takeInherited(body *hclsyntax.Body) (out []inheritedColumn, problems []string) {
	for _, c := range body.Blocks {
		if c.Type != "column" || len(c.Labels) != 1 {
			continue
		}
		a, ok := c.Body.Attributes["inherited"]
		if !ok {
			continue
		}
		delete(c.Body.Attributes, "inherited")
		v, ok := boolValue(a)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: column %q: inherited takes true or false", posCol(a.NameRange), c.Labels[0]))
		case v:
			out = append(out, inheritedColumn{name: c.Labels[0], pos: posCol(a.NameRange)})
		}
	}
	return out, problems
}

// resolveInherits finds each child's parents among the table blocks of all
// files and orders the children after those of their parents that are
// children too; a loop, a partition or a partitioned table on either side
// is a problem.
func resolveInherits(decls []inheritDecl, tables []tableDecl, parts []partitionDecl) ([]Inherit, []string) {
	var problems []string
	byName := make(map[string][]tableDecl)
	for _, t := range tables {
		byName[t.name] = append(byName[t.name], t)
	}
	isPart := make(map[[2]string]bool)
	for _, p := range parts {
		isPart[[2]string{p.Schema, p.Name}] = true
	}
	var out []Inherit
	for _, d := range decls {
		where := fmt.Sprintf("%s: table %q", d.pos, d.name)
		switch {
		case d.inPart:
			problems = append(problems, where+": a partition (partition_of) cannot have inherits: it gets its columns from the partitioned table")
			continue
		case d.partKey:
			problems = append(problems, where+": a partitioned table (partition block) cannot inherit from other tables in PostgreSQL")
			continue
		}
		in := Inherit{Schema: d.schema, Name: d.name, Pos: d.pos, Inherited: d.inherited}
		seen := make(map[[2]string]bool)
		for i, ref := range d.refs {
			at := fmt.Sprintf("%s: table %q", d.refPos[i], d.name)
			var found []tableDecl
			switch len(ref) {
			case 1:
				found = byName[ref[0]]
				if len(found) > 1 {
					for _, t := range found {
						if t.schema == d.schema {
							found = []tableDecl{t}
							break
						}
					}
				}
			case 2:
				for _, t := range byName[ref[1]] {
					if t.schema == ref[0] {
						found = append(found, t)
					}
				}
			}
			written := "table." + strings.Join(ref, ".")
			switch {
			case len(found) == 0:
				problems = append(problems, fmt.Sprintf("%s: inherits names %s, which no table block declares", at, written))
				continue
			case len(found) > 1:
				problems = append(problems, fmt.Sprintf("%s: inherits names %s, tables in several schemas: write table.SCHEMA.NAME", at, written))
				continue
			}
			p := [2]string{found[0].schema, found[0].name}
			switch {
			case p == [2]string{d.schema, d.name}:
				problems = append(problems, fmt.Sprintf("%s: inherits names the table itself", at))
				continue
			case isPart[p]:
				problems = append(problems, fmt.Sprintf("%s: inherits names %s, a partition: PostgreSQL cannot inherit from a partition", at, written))
				continue
			case found[0].partitioned:
				problems = append(problems, fmt.Sprintf("%s: inherits names %s, a partitioned table (%s): PostgreSQL cannot inherit from a partitioned table", at, written, found[0].pos))
				continue
			case seen[p]:
				problems = append(problems, fmt.Sprintf("%s: inherits names %s twice", at, written))
				continue
			}
			seen[p] = true
			in.Parents = append(in.Parents, p)
		}
		out = append(out, in)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return orderInherits(out)
}

// orderInherits puts each child after those of its parents that are
// children too; a loop is a problem.
func orderInherits(ins []Inherit) ([]Inherit, []string) {
	index := make(map[[2]string]int, len(ins))
	for i, in := range ins {
		index[[2]string{in.Schema, in.Name}] = i
	}
	const (
		visiting = 1
		done     = 2
	)
	state := make([]int, len(ins))
	var out []Inherit
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case done:
			return true
		case visiting:
			return false
		}
		state[i] = visiting
		for _, p := range ins[i].Parents {
			if j, ok := index[p]; ok && !visit(j) {
				return false
			}
		}
		state[i] = done
		out = append(out, ins[i])
		return true
	}
	for i := range ins {
		if !visit(i) {
			return nil, []string{fmt.Sprintf("%s: table %q: its inherits go round in a loop back to it", ins[i].Pos, ins[i].Name)}
		}
	}
	return out, nil
}

// inheritsKeys lists the catalog's "inherits" keys, sorted.
func (c Catalog) inheritsKeys() []CatalogKey { return c.keysOf(CatalogInherits) }

// InheritsKeys lists the catalog's "inherits" keys (Table is the child),
// sorted.
func (c Catalog) InheritsKeys() []CatalogKey { return c.inheritsKeys() }

// splitParents reads an "inherits" description, "public.a, s.\"B\"", as
// the parents' schemas and names; false when it does not read so.
func splitParents(desc string) ([][2]string, bool) {
	toks, err := pgsql.Lex(desc)
	if err != nil {
		return nil, false
	}
	var solid []pgsql.Token
	for _, t := range toks {
		if t.Kind != pgsql.Space {
			solid = append(solid, t)
		}
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
	var out [][2]string
	for i := 0; i < len(solid); i += 4 {
		if i+2 >= len(solid) || solid[i+1].Kind != pgsql.Other || solid[i+1].Text != "." {
			return nil, false
		}
		s, ok1 := part(solid[i])
		n, ok2 := part(solid[i+2])
		if !ok1 || !ok2 {
			return nil, false
		}
		if i+3 < len(solid) && (solid[i+3].Kind != pgsql.Other || solid[i+3].Text != ",") {
			return nil, false
		}
		out = append(out, [2]string{s, n})
	}
	return out, len(out) > 0
}

// onlyInherited reports whether a catalog description (of a column or a
// constraint) is of one that the table only inherits.
func onlyInherited(desc string) bool {
	return strings.HasSuffix(desc, " inherited") && !strings.HasSuffix(desc, " inherited and local")
}

// withoutInherited returns a realm for printing: the tables the catalog
// says inherit from others (and that writeInherits can write inherits for)
// without the columns and checks they only inherit. Columns that an index
// or key of the table uses stay. r itself is not changed.
func withoutInherited(r *schema.Realm, cat Catalog) *schema.Realm {
	keys := cat.inheritsKeys()
	if len(keys) == 0 {
		return r
	}
	children := make(map[[2]string]bool, len(keys))
	for _, k := range keys {
		if _, ok := splitParents(cat[k]); ok {
			children[[2]string{k.Schema, k.Table}] = true
		}
	}
	out := *r
	out.Schemas = make([]*schema.Schema, len(r.Schemas))
	for i, s := range r.Schemas {
		out.Schemas[i] = s
		changed := false
		tables := make([]*schema.Table, len(s.Tables))
		for j, t := range s.Tables {
			tables[j] = t
			if !children[[2]string{s.Name, t.Name}] {
				continue
			}
			used := make(map[string]bool)
			for _, idx := range append(append([]*schema.Index{}, t.Indexes...), t.PrimaryKey) {
				if idx == nil {
					continue
				}
				for _, p := range idx.Parts {
					if p.C != nil {
						used[p.C.Name] = true
					}
				}
			}
			for _, fk := range t.ForeignKeys {
				for _, c := range fk.Columns {
					used[c.Name] = true
				}
			}
			own := *t
			own.Columns = nil
			for _, c := range t.Columns {
				if used[c.Name] || !onlyInherited(cat[CatalogKey{Kind: CatalogColumn, Schema: s.Name, Table: t.Name, Name: c.Name}]) {
					own.Columns = append(own.Columns, c)
				}
			}
			own.Attrs = nil
			for _, a := range t.Attrs {
				if ck, ok := a.(*schema.Check); ok && onlyInherited(cat[CatalogKey{Kind: CatalogConstraint, Schema: s.Name, Table: t.Name, Name: ck.Name}]) {
					continue
				}
				own.Attrs = append(own.Attrs, a)
			}
			tables[j], changed = &own, true
		}
		if changed {
			sc := *s
			sc.Tables = tables
			out.Schemas[i] = &sc
		}
	}
	return &out
}

// writeInherits adds `inherits = [table.p, ...]` to the printed table
// blocks of the catalog's children. tables gives the schemas of each table
// name: a parent is referred to by its name alone unless another schema
// has a table of that name.
func writeInherits(text []byte, cat Catalog, tables map[string][]string) ([]byte, error) {
	keys := cat.inheritsKeys()
	if len(keys) == 0 {
		return text, nil
	}
	want := make(map[CatalogKey][][2]string)
	for _, k := range keys {
		if ps, ok := splitParents(cat[k]); ok {
			want[CatalogKey{Kind: CatalogTable, Schema: k.Schema, Name: k.Table}] = ps
		}
	}
	syn, diags := hclsyntax.ParseConfig(text, "state.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("writing the tables' inherits: %s", diags.Error())
	}
	wr, diags := hclwrite.ParseConfig(text, "state.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("writing the tables' inherits: %s", diags.Error())
	}
	sblocks, wblocks := syn.Body.(*hclsyntax.Body).Blocks, wr.Body().Blocks()
	if len(sblocks) != len(wblocks) {
		return nil, fmt.Errorf("writing the tables' inherits: the printed HCL reads as %d and %d blocks", len(sblocks), len(wblocks))
	}
	for i, sb := range sblocks {
		if sb.Type != "table" || len(sb.Labels) < 1 || len(sb.Labels) > 2 {
			continue
		}
		key, ok := printedTable(sb)
		if !ok || want[key] == nil {
			continue
		}
		var list []hclwrite.Tokens
		for _, p := range want[key] {
			ref := hcl.Traversal{hcl.TraverseRoot{Name: "table"}}
			if len(tables[p[1]]) > 1 {
				ref = append(ref, traverseName(p[0]))
			}
			list = append(list, hclwrite.TokensForTraversal(append(ref, traverseName(p[1]))))
		}
		wblocks[i].Body().SetAttributeRaw("inherits", hclwrite.TokensForTuple(list))
		// The parents' columns the block keeps for its indexes and keys.
		for _, c := range wblocks[i].Body().Blocks() {
			if l := c.Labels(); c.Type() == "column" && len(l) == 1 &&
				onlyInherited(cat[CatalogKey{Kind: CatalogColumn, Schema: key.Schema, Table: key.Name, Name: l[0]}]) {
				c.Body().SetAttributeValue("inherited", cty.True)
			}
		}
		delete(want, key)
	}
	var unplaced []string
	for k := range want {
		unplaced = append(unplaced, note(k.String()+" inherits from", cat[CatalogKey{Kind: CatalogInherits, Schema: k.Schema, Table: k.Name}]))
	}
	sort.Strings(unplaced)
	for _, n := range unplaced {
		wr.Body().AppendUnstructuredTokens(commentTokens(n))
	}
	return hclwrite.Format(wr.Bytes()), nil
}
