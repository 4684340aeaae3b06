package inspect

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"keel/internal/pgsql"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// keel inspect prints the views, materialized views (with their indexes),
// functions, procedures and triggers of the schemas as Atlas Pro's blocks,
// which state.ParseHCL reads back into the same objects. What those blocks
// cannot say faithfully (an aggregate, a window or C function, a disabled
// or constraint trigger, a view option written other than as true or
// false, ...) is not printed: a comment line says what and why. Nothing
// of an extension is printed, nor the triggers PostgreSQL makes for
// foreign keys or copies onto partitions.

func init() { registerObjectPrinter(printRoutines) }

// printRoutines prints the family (ObjectsHCL sets search_path to
// pg_catalog for it).
func printRoutines(ctx context.Context, c *pg.Conn, schemas []string) (out []byte, err error) {
	p := &routinesPrinter{conn: c, schemas: schemas, types: make(map[uint32]printedType), names: make(map[string]map[string][]string)}
	if err := p.load(ctx); err != nil {
		return nil, fmt.Errorf("printing views, functions and triggers of %s: %w", c.DB(), err)
	}
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	p.functions(body)
	p.views(body)
	p.triggers(body)
	return hclwrite.Format(f.Bytes()), nil
}

type routinesPrinter struct {
	conn    *pg.Conn
	schemas []string
	// types are the enums, domains and composite types of the schemas, by
	// oid, which a type prints as a reference to.
	types map[uint32]printedType
	// names are the schemas of each name, by the root of references
	// (table, view, materialized, function, procedure, enum, domain,
	// composite): a reference is qualified when the name is in several.
	names map[string]map[string][]string
	// printed are the functions printed, by oid, for triggers.
	printed   map[uint32]printedType
	rels      []relRow
	columns   map[uint32][]relColumn
	indexes   map[uint32][]matIndexRow
	routines  []routineRow
	triggerRs []triggerRow
}

type relRow struct {
	oid                uint32
	schema, name, kind string
	def                string
	options            []string
	comment            *string
}

type relColumn struct {
	name     string
	typ      uint32
	typeText string
	comment  *string
}

type matIndexRow struct {
	name, method                 string
	unique, nullsNotDistinct     bool
	keyCount                     int
	parts, opclasses, opcSchemas []string
	isColumn                     []bool
	options                      []int
	collationDiffers, opcOptions bool
	pred                         *string
	relOptions                   []string
	comment                      *string
}

type routineRow struct {
	oid                                    uint32
	schema, name, kind, lang, src          string
	bin, retset, secdef, strict, leakproof bool
	sqlBody                                *string
	volatility, parallel, cost, rows       string
	rettype                                uint32
	rettypeText                            string
	argTypes                               []uint32
	argTypeTexts, modes, argNames          []string
	defaults                               []*string
	config                                 []string
	transforms, support                    bool
	comment                                *string
	identity                               string
}

type triggerRow struct {
	schema, table, relkind, name string
	partition                    bool
	tgtype                       int
	enabled                      string
	constraint, transition       bool
	fn                           uint32
	fnSchema, fnName             string
	args                         []byte
	nargs                        int
	updateOf                     []string
	def                          string
	comment                      *string
}

const routineTypesQuery = `
SELECT t.oid, CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'composite' END, n.nspname, t.typname
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = ANY($1) AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))
  AND ` + "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')"

const routineTablesQuery = `
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p')`

var routineRelsQuery = `
SELECT c.oid, n.nspname, c.relname, c.relkind::text, pg_get_viewdef(c.oid), coalesce(c.reloptions, '{}'), obj_description(c.oid, 'pg_class')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('v', 'm') AND ` + notExtension("pg_class", "c.oid") + `
ORDER BY n.nspname, c.relname`

const routineColumnsQuery = `
SELECT a.attrelid, a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod), col_description(a.attrelid, a.attnum)
FROM pg_attribute a WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`

// The parts of a materialized view's index: a column's name, or an
// expression; the operator class where it is not the default one for the
// part's type.
const routineIndexesQuery = `
SELECT x.indrelid, i.relname, am.amname, x.indisunique, x.indnullsnotdistinct, x.indnkeyatts,
  ARRAY(SELECT CASE WHEN k.a = 0 THEN pg_get_indexdef(x.indexrelid, k.i::int, false)
               ELSE (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = x.indrelid AND a.attnum = k.a) END
        FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(a, i) ORDER BY k.i),
  ARRAY(SELECT k.a <> 0 FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(a, i) ORDER BY k.i),
  -- The default operator class of the part's type (or of one it is
  -- binary-coercible to) is left out, as pg_get_indexdef leaves it out.
  ARRAY(SELECT CASE WHEN oc.opcdefault AND EXISTS (SELECT 1 FROM pg_attribute ia WHERE ia.attrelid = x.indexrelid AND ia.attnum = o.i
                      AND (oc.opcintype = ia.atttypid OR EXISTS (SELECT 1 FROM pg_cast pc WHERE pc.castsource = ia.atttypid
                           AND pc.casttarget = oc.opcintype AND pc.castmethod = 'b'))) THEN '' ELSE oc.opcname END
        FROM unnest(x.indclass::oid[]) WITH ORDINALITY o(c, i) JOIN pg_opclass oc ON oc.oid = o.c ORDER BY o.i),
  ARRAY(SELECT ocn.nspname FROM unnest(x.indclass::oid[]) WITH ORDINALITY o(c, i) JOIN pg_opclass oc ON oc.oid = o.c
        JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace ORDER BY o.i),
  x.indoption::int2[],
  EXISTS (SELECT 1 FROM unnest(x.indcollation::oid[], x.indkey::int2[]) u(coll, a)
          LEFT JOIN pg_attribute ta ON ta.attrelid = x.indrelid AND ta.attnum = u.a
          WHERE u.coll <> 0 AND u.coll IS DISTINCT FROM ta.attcollation),
  EXISTS (SELECT 1 FROM pg_attribute ia WHERE ia.attrelid = x.indexrelid AND ia.attoptions IS NOT NULL),
  pg_get_expr(x.indpred, x.indrelid), coalesce(i.reloptions, '{}'), obj_description(i.oid, 'pg_class')
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam
WHERE x.indrelid = ANY($1)
ORDER BY x.indrelid, i.relname`

var routineFunctionsQuery = `
SELECT p.oid, n.nspname, p.proname, p.prokind::text, l.lanname, p.prosrc, p.probin IS NOT NULL,
  CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) END,
  p.provolatile::text, p.proparallel::text, p.prosecdef, p.proisstrict, p.proleakproof, p.proretset,
  p.procost::text, p.prorows::text, p.prorettype, format_type(p.prorettype, NULL),
  coalesce(p.proallargtypes, p.proargtypes::oid[]),
  ARRAY(SELECT format_type(u.t, NULL) FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, i) ORDER BY u.i),
  coalesce(p.proargmodes::text[], '{}'), coalesce(p.proargnames, '{}'),
  ARRAY(SELECT pg_get_function_arg_default(p.oid, g.i) FROM generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) g(i) ORDER BY g.i),
  coalesce(p.proconfig, '{}'), p.protrftypes IS NOT NULL, p.prosupport <> 0, obj_description(p.oid, 'pg_proc'),
  pg_get_function_identity_arguments(p.oid)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE n.nspname = ANY($1) AND ` + notExtension("pg_proc", "p.oid") + `
ORDER BY n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)`

// Triggers, but for the internal ones (of foreign keys) and the copies a
// partitioned table's trigger makes on its partitions.
var routineTriggersQuery = `
SELECT n.nspname, c.relname, c.relkind::text, c.relispartition, t.tgname, t.tgtype, t.tgenabled::text,
  t.tgconstraint <> 0, t.tgoldtable IS NOT NULL OR t.tgnewtable IS NOT NULL,
  t.tgfoid, fn.nspname, f.proname, t.tgargs, t.tgnargs,
  ARRAY(SELECT a.attname FROM unnest(t.tgattr::int2[]) WITH ORDINALITY u(k, i) JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = u.k ORDER BY u.i),
  pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger')
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc f ON f.oid = t.tgfoid JOIN pg_namespace fn ON fn.oid = f.pronamespace
WHERE n.nspname = ANY($1) AND NOT t.tgisinternal AND t.tgparentid = 0 AND ` + notExtension("pg_class", "c.oid") + `
ORDER BY n.nspname, c.relname, t.tgname`

// load runs the queries.
func (p *routinesPrinter) load(ctx context.Context) error {
	rows, err := p.conn.Query(ctx, routineTypesQuery, p.schemas)
	if err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var (
			oid uint32
			u   printedType
		)
		if err := rows.Scan(&oid, &u.kind, &u.schema, &u.name); err != nil {
			rows.Close()
			return err
		}
		p.types[oid] = u
		p.addName(u.kind, u.schema, u.name)
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	if rows, err = p.conn.Query(ctx, routineTablesQuery, p.schemas); err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var s, n string
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return err
		}
		p.addName("table", s, n)
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	if rows, err = p.conn.Query(ctx, routineRelsQuery, p.schemas); err != nil {
		return pg.ServerError(err)
	}
	var oids []uint32
	for rows.Next() {
		var r relRow
		if err := rows.Scan(&r.oid, &r.schema, &r.name, &r.kind, &r.def, &r.options, &r.comment); err != nil {
			rows.Close()
			return err
		}
		p.rels = append(p.rels, r)
		oids = append(oids, r.oid)
		p.addName(map[string]string{"v": "view", "m": "materialized"}[r.kind], r.schema, r.name)
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	p.columns = make(map[uint32][]relColumn)
	if rows, err = p.conn.Query(ctx, routineColumnsQuery, oids); err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var (
			rel uint32
			c   relColumn
		)
		if err := rows.Scan(&rel, &c.name, &c.typ, &c.typeText, &c.comment); err != nil {
			rows.Close()
			return err
		}
		p.columns[rel] = append(p.columns[rel], c)
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	p.indexes = make(map[uint32][]matIndexRow)
	if rows, err = p.conn.Query(ctx, routineIndexesQuery, oids); err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var (
			rel uint32
			x   matIndexRow
		)
		if err := rows.Scan(&rel, &x.name, &x.method, &x.unique, &x.nullsNotDistinct, &x.keyCount, &x.parts, &x.isColumn, &x.opclasses,
			&x.opcSchemas, &x.options, &x.collationDiffers, &x.opcOptions, &x.pred, &x.relOptions, &x.comment); err != nil {
			rows.Close()
			return err
		}
		p.indexes[rel] = append(p.indexes[rel], x)
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	if rows, err = p.conn.Query(ctx, routineFunctionsQuery, p.schemas); err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var r routineRow
		if err := rows.Scan(&r.oid, &r.schema, &r.name, &r.kind, &r.lang, &r.src, &r.bin, &r.sqlBody,
			&r.volatility, &r.parallel, &r.secdef, &r.strict, &r.leakproof, &r.retset, &r.cost, &r.rows,
			&r.rettype, &r.rettypeText, &r.argTypes, &r.argTypeTexts, &r.modes, &r.argNames, &r.defaults,
			&r.config, &r.transforms, &r.support, &r.comment, &r.identity); err != nil {
			rows.Close()
			return err
		}
		p.routines = append(p.routines, r)
		if r.kind == "f" || r.kind == "p" {
			p.addName(routineRoot(r.kind), r.schema, r.name)
		}
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	if rows, err = p.conn.Query(ctx, routineTriggersQuery, p.schemas); err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var t triggerRow
		if err := rows.Scan(&t.schema, &t.table, &t.relkind, &t.partition, &t.name, &t.tgtype, &t.enabled, &t.constraint, &t.transition,
			&t.fn, &t.fnSchema, &t.fnName, &t.args, &t.nargs, &t.updateOf, &t.def, &t.comment); err != nil {
			rows.Close()
			return err
		}
		p.triggerRs = append(p.triggerRs, t)
	}
	return typesCloseRows(rows)
}

func routineRoot(prokind string) string {
	if prokind == "p" {
		return "procedure"
	}
	return "function"
}

func (p *routinesPrinter) addName(root, sch, name string) {
	if p.names[root] == nil {
		p.names[root] = make(map[string][]string)
	}
	for _, s := range p.names[root][name] {
		if s == sch {
			return
		}
	}
	p.names[root][name] = append(p.names[root][name], sch)
}

// ref writes ROOT.NAME, or ROOT.SCHEMA.NAME when the name is in several
// of the printed schemas; an error when HCL cannot refer to the names.
func (p *routinesPrinter) ref(root, sch, name string) (hclwrite.Tokens, error) {
	tr, err := p.traversal(root, sch, name, false)
	if err != nil {
		return nil, err
	}
	return hclwrite.TokensForTraversal(tr), nil
}

func (p *routinesPrinter) traversal(root, sch, name string, qualify bool) (hcl.Traversal, error) {
	if typesUnreferable(sch) || typesUnreferable(name) {
		return nil, fmt.Errorf("HCL cannot refer to %s %s, whose name holds a double quote, a backslash or a character that does not print",
			root, plan.OneLine(plan.DisplayName(sch, name)))
	}
	tr := hcl.Traversal{hcl.TraverseRoot{Name: root}}
	if qualify || len(p.names[root][name]) > 1 {
		tr = append(tr, typesStep(sch))
	}
	return append(tr, typesStep(name)), nil
}

// labels are a block's labels: its name, after its schema when the name
// is in several of the printed schemas (Atlas's qualifier).
func (p *routinesPrinter) labels(root, sch, name string) []string {
	if len(p.names[root][name]) > 1 {
		return []string{sch, name}
	}
	return []string{name}
}

// typeTokens writes a type: a reference to an enum, domain or composite
// type of the printed schemas, else as the engine prints a column of the
// type (or sql("...")).
func (p *routinesPrinter) typeTokens(oid uint32, text string) hclwrite.Tokens {
	if u, ok := p.types[oid]; ok && !(u.kind == "enum" && !hclsyntax.ValidIdentifier(u.name)) {
		if t, err := p.ref(u.kind, u.schema, u.name); err == nil {
			return t
		}
	}
	return printedTypeTokens(text)
}

// skip writes the comment line that says an object is not printed, and
// why.
func skip(body *hclwrite.Body, what, why string) {
	body.AppendNewline()
	body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment,
		Bytes: []byte("# keel cannot print " + plan.OneLine(what) + ": " + plan.OneLine(why) + "\n")}})
}

// block starts a top-level block with its schema attribute, or says why
// it cannot.
func (p *routinesPrinter) block(body *hclwrite.Body, blockType, root, sch, name, what string) *hclwrite.Body {
	if typesUnreferable(sch) {
		skip(body, what, "HCL cannot refer to its schema, whose name holds a double quote, a backslash or a character that does not print")
		return nil
	}
	body.AppendNewline()
	b := body.AppendNewBlock(blockType, p.labels(root, sch, name)).Body()
	b.SetAttributeTraversal("schema", hcl.Traversal{hcl.TraverseRoot{Name: "schema"}, typesStep(sch)})
	return b
}

// textTokens writes a text: as a heredoc where it has several lines and
// ends with a line break (a heredoc's text does) and reads back the same,
// else quoted.
func textTokens(s string) hclwrite.Tokens {
	quoted := hclwrite.TokensForValue(cty.StringVal(s))
	body, ok := strings.CutSuffix(s, "\n")
	if !ok || !strings.Contains(body, "\n") {
		return quoted
	}
	lines := strings.Split(body, "\n")
	delim := "SQL"
	for i := 1; ; i++ {
		clash := false
		for _, l := range lines {
			clash = clash || strings.TrimSpace(l) == delim
		}
		if !clash {
			break
		}
		delim = fmt.Sprintf("SQL%d", i)
	}
	for _, indent := range []string{"    ", ""} {
		var b strings.Builder
		b.WriteString("x = <<")
		if indent != "" {
			b.WriteString("-")
		}
		b.WriteString(delim + "\n")
		for _, l := range lines {
			if l != "" {
				b.WriteString(indent + strings.ReplaceAll(strings.ReplaceAll(l, "${", "$${"), "%{", "%%{"))
			}
			b.WriteString("\n")
		}
		b.WriteString("  " + delim + "\n")
		src := []byte(b.String())
		f, diags := hclsyntax.ParseConfig(src, "text.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			continue
		}
		v, diags := f.Body.(*hclsyntax.Body).Attributes["x"].Expr.Value(nil)
		if diags.HasErrors() || !v.Type().Equals(cty.String) || v.AsString() != s {
			continue
		}
		wf, diags := hclwrite.ParseConfig(src, "text.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			continue
		}
		return wf.Body().GetAttribute("x").Expr().BuildTokens(nil)
	}
	return quoted
}

func setComment(b *hclwrite.Body, c *string) {
	if c != nil {
		b.SetAttributeValue("comment", cty.StringVal(*c))
	}
}

// plainInteger matches a default PostgreSQL prints as an integer, which
// HCL writes as a number and the reader writes back the same.
var plainInteger = regexp.MustCompile(`^[0-9]{1,15}$`)

// functions prints the function and procedure blocks.
func (p *routinesPrinter) functions(body *hclwrite.Body) {
	p.printed = make(map[uint32]printedType)
	for _, r := range p.routines {
		what := fmt.Sprintf("%s %s(%s)", routineRoot(r.kind), plan.DisplayName(r.schema, r.name), r.identity)
		if why := p.unprintableRoutine(r); why != "" {
			skip(body, what, why)
			continue
		}
		root := routineRoot(r.kind)
		b := p.block(body, root, root, r.schema, r.name, what)
		if b == nil {
			continue
		}
		switch r.lang {
		case "sql":
			b.SetAttributeRaw("lang", hclwrite.TokensForIdentifier("SQL"))
		case "plpgsql":
			b.SetAttributeRaw("lang", hclwrite.TokensForIdentifier("PLpgSQL"))
		default:
			b.SetAttributeRaw("lang", hclwrite.TokensForIdentifier(r.lang))
		}
		var table []int
		for i := range r.argTypes {
			mode := "i"
			if i < len(r.modes) {
				mode = r.modes[i]
			}
			if mode == "t" {
				table = append(table, i)
				continue
			}
			var labels []string
			if i < len(r.argNames) && r.argNames[i] != "" {
				labels = []string{r.argNames[i]}
			}
			ab := b.AppendNewBlock("arg", labels).Body()
			ab.SetAttributeRaw("type", p.typeTokens(r.argTypes[i], r.argTypeTexts[i]))
			if m := map[string]string{"o": "OUT", "b": "INOUT", "v": "VARIADIC"}[mode]; m != "" {
				ab.SetAttributeRaw("mode", hclwrite.TokensForIdentifier(m))
			}
			if i < len(r.defaults) && r.defaults[i] != nil {
				if d := *r.defaults[i]; plainInteger.MatchString(d) {
					n, _ := strconv.ParseInt(d, 10, 64)
					ab.SetAttributeValue("default", cty.NumberIntVal(n))
				} else {
					ab.SetAttributeRaw("default", hclwrite.TokensForFunctionCall("sql", hclwrite.TokensForValue(cty.StringVal(d))))
				}
			}
		}
		if r.kind == "f" {
			switch {
			case len(table) > 0:
				tb := b.AppendNewBlock("return_table", nil).Body()
				for _, i := range table {
					tb.AppendNewBlock("column", []string{r.argNames[i]}).Body().SetAttributeRaw("type", p.typeTokens(r.argTypes[i], r.argTypeTexts[i]))
				}
			case r.retset:
				b.SetAttributeRaw("return", hclwrite.TokensForFunctionCall("sql", hclwrite.TokensForValue(cty.StringVal("SETOF "+r.rettypeText))))
			default:
				b.SetAttributeRaw("return", p.typeTokens(r.rettype, r.rettypeText))
			}
		}
		if r.sqlBody != nil {
			b.SetAttributeRaw("as", textTokens(*r.sqlBody))
		} else {
			b.SetAttributeRaw("as", textTokens(r.src))
		}
		if r.kind == "f" {
			if v := map[string]string{"i": "IMMUTABLE", "s": "STABLE"}[r.volatility]; v != "" {
				b.SetAttributeRaw("volatility", hclwrite.TokensForIdentifier(v))
			}
			if r.strict {
				b.SetAttributeValue("strict", cty.True)
			}
		}
		if r.secdef {
			b.SetAttributeRaw("security", hclwrite.TokensForIdentifier("DEFINER"))
		}
		if r.kind == "f" {
			if r.leakproof {
				b.SetAttributeValue("leakproof", cty.True)
			}
			if v := map[string]string{"s": "SAFE", "r": "RESTRICTED"}[r.parallel]; v != "" {
				b.SetAttributeRaw("parallel", hclwrite.TokensForIdentifier(v))
			}
			if def := map[bool]string{true: "1", false: "100"}[r.lang == "c" || r.lang == "internal"]; r.cost != def {
				b.SetAttributeRaw("cost", numberTokens(r.cost))
			}
			if r.retset && r.rows != "1000" {
				b.SetAttributeRaw("rows", numberTokens(r.rows))
			}
		}
		if len(r.config) > 0 {
			cb := b.AppendNewBlock("config_params", nil).Body()
			for _, c := range r.config {
				name, value, _ := strings.Cut(c, "=")
				cb.SetAttributeValue(name, cty.StringVal(value))
			}
		}
		setComment(b, r.comment)
		p.printed[r.oid] = printedType{kind: root, schema: r.schema, name: r.name}
	}
}

func numberTokens(s string) hclwrite.Tokens {
	return hclwrite.Tokens{{Type: hclsyntax.TokenNumberLit, Bytes: []byte(s)}}
}

// unprintableRoutine says why a function or procedure cannot be printed
// faithfully ("" when it can).
func (p *routinesPrinter) unprintableRoutine(r routineRow) string {
	switch {
	case r.kind == "a":
		return "it is an aggregate, which keel does not manage yet"
	case r.kind == "w":
		return "it is a window function, which the function block cannot say"
	case r.bin:
		return "it is loaded from a library file (AS 'file', 'symbol'), which the function block cannot say"
	case r.transforms:
		return "it has TRANSFORM FOR TYPE, which the function block cannot say"
	case r.support:
		return "it has a SUPPORT function, which the function block cannot say"
	case !hclsyntax.ValidIdentifier(r.lang):
		return fmt.Sprintf("its language %q is no HCL identifier", r.lang)
	case r.lang == "sql" && r.sqlBody == nil && state.SQLStandardBody(r.src):
		return "its body is a string that reads as an SQL-standard body (BEGIN ATOMIC or RETURN), which as would make one"
	}
	for i, m := range r.modes {
		if m == "t" && (i >= len(r.argNames) || r.argNames[i] == "") {
			return "a column of its RETURNS TABLE has no name"
		}
	}
	for _, c := range r.config {
		if name, _, ok := strings.Cut(c, "="); !ok || !state.IsConfigParam(name) {
			return fmt.Sprintf("it sets %q, which a config_params block cannot say", name)
		}
	}
	return ""
}

// views prints the view and materialized blocks.
func (p *routinesPrinter) views(body *hclwrite.Body) {
	for _, r := range p.rels {
		blockType, kind := "view", "view"
		if r.kind == "m" {
			blockType, kind = "materialized", "materialized view"
		}
		what := kind + " " + plan.DisplayName(r.schema, r.name)
		opts, why := viewOptions(r)
		if why == "" {
			why = p.unprintableIndexes(r)
		}
		if why != "" {
			skip(body, what, why)
			continue
		}
		b := p.block(body, blockType, blockType, r.schema, r.name, what)
		if b == nil {
			continue
		}
		for _, c := range p.columns[r.oid] {
			cb := b.AppendNewBlock("column", []string{c.name}).Body()
			cb.SetAttributeRaw("type", p.typeTokens(c.typ, c.typeText))
			setComment(cb, c.comment)
		}
		b.SetAttributeRaw("as", textTokens(strings.TrimSuffix(strings.TrimSpace(r.def), ";")+"\n"))
		for _, o := range opts {
			b.SetAttributeRaw(o[0], hclwrite.TokensForIdentifier(o[1]))
		}
		for _, x := range p.indexes[r.oid] {
			p.matIndex(b, x)
		}
		setComment(b, r.comment)
	}
}

// viewOptions reads a view's options (check_option, security_invoker,
// security_barrier) as attributes, in their order; or says why they
// cannot be printed.
func viewOptions(r relRow) ([][2]string, string) {
	if r.kind == "m" {
		if len(r.options) > 0 {
			return nil, fmt.Sprintf("its storage parameters (%s), which the materialized block cannot say", strings.Join(r.options, ", "))
		}
		return nil, ""
	}
	var out [][2]string
	for _, o := range r.options {
		switch o {
		case "check_option=local", "check_option=cascaded":
			out = append(out, [2]string{"check_option", strings.ToUpper(strings.TrimPrefix(o, "check_option="))})
		case "security_invoker=true":
			out = append(out, [2]string{"security", "INVOKER"})
		case "security_invoker=false":
			out = append(out, [2]string{"security", "DEFINER"})
		case "security_barrier=true", "security_barrier=false":
			out = append(out, [2]string{"security_barrier", strings.TrimPrefix(o, "security_barrier=")})
		default:
			return nil, fmt.Sprintf("its option %s is written otherwise than the view block writes it (true, false, local, cascaded)", o)
		}
	}
	return out, ""
}

// unprintableIndexes says why an index of a materialized view cannot be
// printed faithfully ("" when all can).
func (p *routinesPrinter) unprintableIndexes(r relRow) string {
	for _, x := range p.indexes[r.oid] {
		why := ""
		switch {
		case x.collationDiffers:
			why = "a part has a collation of its own"
		case x.opcOptions:
			why = "an operator class has parameters"
		case x.relOptions != nil && len(x.relOptions) > 0 && !(len(x.relOptions) == 1 && strings.HasPrefix(x.relOptions[0], "pages_per_range=")):
			why = "it has storage parameters (" + strings.Join(x.relOptions, ", ") + ")"
		case !slices.Contains([]string{"btree", "hash", "gin", "gist", "spgist", "brin"}, x.method):
			why = "its access method " + x.method + " is not one an index block takes"
		}
		for _, c := range x.parts[min(x.keyCount, len(x.parts)):] {
			if typesUnreferable(c) {
				why = "HCL cannot refer to its included column " + plan.DisplayPart(c) + ", whose name holds a double quote, a backslash or a character that does not print"
			}
		}
		for i, opc := range x.opclasses {
			if opc != "" && i < len(x.opcSchemas) && x.opcSchemas[i] != "pg_catalog" {
				why = "its operator class " + x.opcSchemas[i] + "." + opc + " is not PostgreSQL's own"
			}
		}
		if why != "" {
			return fmt.Sprintf("its index %s: %s", plan.DisplayPart(x.name), why)
		}
	}
	return ""
}

// matIndex prints an index block of a materialized view.
func (p *routinesPrinter) matIndex(b *hclwrite.Body, x matIndexRow) {
	ib := b.AppendNewBlock("index", []string{x.name}).Body()
	if x.unique {
		ib.SetAttributeValue("unique", cty.True)
	}
	if x.method != "btree" {
		ib.SetAttributeRaw("type", hclwrite.TokensForIdentifier(strings.ToUpper(x.method)))
	}
	keys := x.parts
	if x.keyCount < len(keys) {
		keys = keys[:x.keyCount]
	}
	for i, part := range keys {
		on := ib.AppendNewBlock("on", nil).Body()
		switch {
		case x.isColumn[i] && !typesUnreferable(part):
			on.SetAttributeTraversal("column", hcl.Traversal{hcl.TraverseRoot{Name: "column"}, typesStep(part)})
		case x.isColumn[i]:
			// HCL cannot refer to the column: PostgreSQL takes a column
			// in parentheses as the column.
			on.SetAttributeValue("expr", cty.StringVal(pgsql.QuoteIdent(part)))
		default:
			on.SetAttributeValue("expr", cty.StringVal(part))
		}
		if i < len(x.opclasses) && x.opclasses[i] != "" {
			on.SetAttributeRaw("ops", hclwrite.TokensForIdentifier(x.opclasses[i]))
		}
		if i < len(x.options) {
			desc, nullsFirst := x.options[i]&1 != 0, x.options[i]&2 != 0
			if desc {
				on.SetAttributeValue("desc", cty.True)
			}
			switch {
			case desc && !nullsFirst:
				on.SetAttributeValue("nulls_last", cty.True)
			case !desc && nullsFirst:
				on.SetAttributeValue("nulls_first", cty.True)
			}
		}
	}
	if x.keyCount < len(x.parts) {
		var cols []hclwrite.Tokens
		for _, c := range x.parts[x.keyCount:] {
			cols = append(cols, hclwrite.TokensForTraversal(hcl.Traversal{hcl.TraverseRoot{Name: "column"}, typesStep(c)}))
		}
		ib.SetAttributeRaw("include", hclwrite.TokensForTuple(cols))
	}
	if x.nullsNotDistinct {
		ib.SetAttributeValue("nulls_distinct", cty.False)
	}
	for _, o := range x.relOptions {
		if n, ok := strings.CutPrefix(o, "pages_per_range="); ok {
			ib.SetAttributeRaw("page_per_range", numberTokens(n))
		}
	}
	if x.pred != nil {
		ib.SetAttributeValue("where", cty.StringVal(*x.pred))
	}
	setComment(ib, x.comment)
}

// triggers prints the trigger blocks.
func (p *routinesPrinter) triggers(body *hclwrite.Body) {
	for _, t := range p.triggerRs {
		what := fmt.Sprintf("trigger %s on %s", plan.DisplayPart(t.name), plan.DisplayName(t.schema, t.table))
		tb, why := p.trigger(t)
		if why != "" {
			skip(body, what, why)
			continue
		}
		body.AppendNewline()
		body.AppendBlock(tb)
	}
}

// trigger builds a trigger block, or says why it cannot.
func (p *routinesPrinter) trigger(t triggerRow) (*hclwrite.Block, string) {
	switch {
	case t.enabled != "O":
		return nil, "it is disabled or fires only in some replication roles (ALTER TABLE ... DISABLE/ENABLE REPLICA/ENABLE ALWAYS TRIGGER), which the trigger block cannot say"
	case t.constraint:
		return nil, "it is a constraint trigger, which the trigger block cannot say"
	case t.transition:
		return nil, "it has transition tables (REFERENCING), which the trigger block cannot say"
	case t.relkind != "r" && t.relkind != "p" && t.relkind != "v":
		return nil, "its table is neither a table nor a view"
	case !utf8.Valid(t.args):
		return nil, "its arguments are not text"
	}
	fn, ok := p.printed[t.fn]
	if !ok {
		return nil, fmt.Sprintf("its function %s is not printed here (another schema's, an extension's, or one keel cannot print)", plan.DisplayName(t.fnSchema, t.fnName))
	}
	root := "table"
	if t.relkind == "v" {
		root = "view"
	}
	// A partition is referred to qualified: keel reads its block apart.
	on, err := p.traversal(root, t.schema, t.table, t.partition)
	if err != nil {
		return nil, err.Error()
	}
	fnRef, err := p.ref("function", fn.schema, fn.name)
	if err != nil {
		return nil, err.Error()
	}
	when, ok := triggerWhen(t.def)
	if !ok {
		return nil, "its definition does not read as pg_get_triggerdef prints one"
	}
	blk := hclwrite.NewBlock("trigger", []string{t.name})
	b := blk.Body()
	b.SetAttributeTraversal("on", on)
	timing := "after"
	switch {
	case t.tgtype&64 != 0:
		timing = "instead_of"
	case t.tgtype&2 != 0:
		timing = "before"
	}
	eb := b.AppendNewBlock(timing, nil).Body()
	if t.tgtype&4 != 0 {
		eb.SetAttributeValue("insert", cty.True)
	}
	if t.tgtype&16 != 0 {
		if len(t.updateOf) > 0 {
			var cols []hclwrite.Tokens
			for _, c := range t.updateOf {
				if typesUnreferable(c) {
					return nil, fmt.Sprintf("HCL cannot refer to its column %s, whose name holds a double quote, a backslash or a character that does not print", plan.DisplayPart(c))
				}
				tr := append(append(hcl.Traversal{}, on...), hcl.TraverseAttr{Name: "column"}, typesStep(c))
				cols = append(cols, hclwrite.TokensForTraversal(tr))
			}
			eb.SetAttributeRaw("update_of", hclwrite.TokensForTuple(cols))
		} else {
			eb.SetAttributeValue("update", cty.True)
		}
	}
	if t.tgtype&8 != 0 {
		eb.SetAttributeValue("delete", cty.True)
	}
	if t.tgtype&32 != 0 {
		eb.SetAttributeValue("truncate", cty.True)
	}
	if t.tgtype&1 != 0 {
		b.SetAttributeRaw("for", hclwrite.TokensForIdentifier("ROW"))
	}
	if when != "" {
		b.SetAttributeValue("when", cty.StringVal(when))
	}
	xb := b.AppendNewBlock("execute", nil).Body()
	xb.SetAttributeRaw("function", fnRef)
	if t.nargs > 0 {
		args := strings.Split(string(t.args), "\x00")
		if len(args) > t.nargs {
			args = args[:t.nargs]
		}
		vals := make([]cty.Value, len(args))
		for i, a := range args {
			vals[i] = cty.StringVal(a)
		}
		xb.SetAttributeValue("args", cty.TupleVal(vals))
	}
	setComment(b, t.comment)
	return blk, ""
}

// triggerWhen reads the condition of a trigger's WHEN clause from its
// definition as pg_get_triggerdef prints it ("" for none): what the
// parentheses after FOR EACH ROW WHEN hold.
func triggerWhen(def string) (string, bool) {
	toks, err := pgsql.Lex(def)
	if err != nil {
		return "", false
	}
	var solid []pgsql.Token
	for _, t := range toks {
		if t.Kind != pgsql.Space && t.Kind != pgsql.Comment {
			solid = append(solid, t)
		}
	}
	for i := 0; i+2 < len(solid); i++ {
		if solid[i].Kind != pgsql.Word || !strings.EqualFold(solid[i].Text, "FOR") || !strings.EqualFold(solid[i+1].Text, "EACH") {
			continue
		}
		j := i + 3
		if j >= len(solid) || !strings.EqualFold(solid[j].Text, "WHEN") || solid[j].Kind != pgsql.Word {
			return "", true
		}
		if j+1 >= len(solid) || solid[j+1].Text != "(" {
			return "", false
		}
		start, depth := solid[j+1].Offset+1, 0
		for _, t := range solid[j+1:] {
			switch t.Text {
			case "(":
				depth++
			case ")":
				if depth--; depth == 0 {
					return def[start:t.Offset], true
				}
			}
		}
		return "", false
	}
	return "", false
}
