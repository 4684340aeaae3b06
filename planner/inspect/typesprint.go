package inspect

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"keel/planner/pg"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// keel inspect prints the free-standing sequences, domains, composite types,
// collations and extended statistics of the schemas as the blocks that
// state.ParseHCL reads back into the same objects (Atlas Pro's, and keel's
// own statistics block), never those of an extension. Not printed, because
// they are a column's: identity sequences, and the sequence of a serial
// column (owned by the column, and its default's nextval, as the engine
// reads a serial column back); a sequence a column owns otherwise is
// printed with its owner.

func init() { registerObjectPrinter(printTypes) }

// printTypes prints the objects of the family (ObjectsHCL sets
// search_path to pg_catalog for it).
func printTypes(ctx context.Context, c *pg.Conn, schemas []string) (out []byte, err error) {
	p := &typesPrinter{conn: c, schemas: schemas, inSchemas: make(map[string]bool)}
	for _, s := range schemas {
		p.inSchemas[s] = true
	}
	if err := p.load(ctx); err != nil {
		return nil, fmt.Errorf("printing sequences, domains and types of %s: %w", c.DB(), err)
	}
	f := hclwrite.NewEmptyFile()
	for _, print := range []func(*hclwrite.Body) error{p.collations, p.domains, p.composites, p.sequences, p.statistics} {
		if err := print(f.Body()); err != nil {
			return nil, fmt.Errorf("printing the schemas as HCL: %w", err)
		}
	}
	return f.Bytes(), nil
}

// A printedType is a domain, enum or composite type of the printed schemas
// (not an extension's), which a type prints as a reference to.
type printedType struct {
	kind, schema, name string
}

type typesPrinter struct {
	conn      *pg.Conn
	schemas   []string
	inSchemas map[string]bool
	// types are the user types by oid; names the schemas of each kind's
	// names (for qualifying a reference), tables those of tables, and
	// partitions the partitions (whose blocks keel reads apart: they are
	// referred to qualified).
	types      map[uint32]printedType
	names      map[string]map[string][]string
	tables     map[string][]string
	partitions map[[2]string]bool
	// collationsByOID are the printed collations by oid.
	collationsByOID map[uint32]printedType
	// blocks counts the blocks printed, to separate them by a blank line.
	blocks int
	rows   typeRows
}

// typeRows are what the queries read.
type typeRows struct {
	collations []collationRow
	domains    []domainRow
	checks     map[uint32][]domainCheckRow
	composites []compositeRow
	fields     map[uint32][]compositeFieldRow
	sequences  []sequenceRow
	statistics []statisticsRow
}

type collationRow struct {
	oid                           uint32
	schema, name, provider        string
	deterministic                 bool
	collate, ctype, locale, rules *string
	comment                       *string
}

type domainRow struct {
	oid              uint32
	schema, name     string
	base             uint32
	baseType         string
	notNull          bool
	def              *string
	collSchema, coll *string
	comment          *string
}

type domainCheckRow struct {
	name, expr string
	valid      bool
	comment    *string
}

type compositeRow struct {
	oid          uint32
	schema, name string
	comment      *string
}

type compositeFieldRow struct {
	name             string
	typ              uint32
	typeText         string
	collSchema, coll *string
	comment          *string
}

type sequenceRow struct {
	schema, name, typ                 string
	start, increment, min, max, cache int64
	cycle, unlogged                   bool
	comment                           *string
	ownerSchema, ownerTable, ownerCol *string
	ownerDefault, ownerType           *string
	ownerPartition, serialShaped      bool
}

type statisticsRow struct {
	schema, name, tableSchema, table string
	partition                        bool
	columns, exprs, kinds            []string
	target                           *int
	comment                          *string
}

// typesNotExtension is the condition that the object objid of catalog classid
// does not belong to an extension.
func typesNotExtension(classid, objid string) string {
	return fmt.Sprintf("NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '%s'::regclass AND e.objid = %s AND e.deptype = 'e')", classid, objid)
}

// load runs the queries.
func (p *typesPrinter) load(ctx context.Context) error {
	p.types = make(map[uint32]printedType)
	p.names = make(map[string]map[string][]string)
	p.tables = make(map[string][]string)
	p.partitions = make(map[[2]string]bool)
	p.collationsByOID = make(map[uint32]printedType)
	p.rows.checks = make(map[uint32][]domainCheckRow)
	p.rows.fields = make(map[uint32][]compositeFieldRow)
	c, s := p.conn, p.schemas
	rows, err := c.Query(ctx, `
SELECT t.oid, CASE t.typtype WHEN 'd' THEN 'domain' WHEN 'e' THEN 'enum' ELSE 'composite' END, n.nspname, t.typname
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = ANY($1)
  AND (t.typtype IN ('d', 'e') OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c')))
  AND `+typesNotExtension("pg_type", "t.oid")+` AND `+typesNotExtension("pg_class", "t.typrelid"), s)
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
		p.addName(u)
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	rows, err = c.Query(ctx, `
SELECT n.nspname, c.relname, c.relispartition
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND `+typesNotExtension("pg_class", "c.oid"), s)
	if err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var (
			sch, name string
			part      bool
		)
		if err := rows.Scan(&sch, &name, &part); err != nil {
			rows.Close()
			return err
		}
		p.tables[name] = append(p.tables[name], sch)
		p.partitions[[2]string{sch, name}] = part
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	// The locale columns are named differently across versions
	// (colliculocale, then colllocale; collicurules from 16): read them by
	// name from the row as JSON.
	rows, err = c.Query(ctx, `
SELECT co.oid, n.nspname, co.collname, co.collprovider::text, co.collisdeterministic, co.collcollate, co.collctype,
  coalesce(to_jsonb(co) ->> 'colllocale', to_jsonb(co) ->> 'colliculocale'), to_jsonb(co) ->> 'collicurules',
  obj_description(co.oid, 'pg_collation')
FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
WHERE n.nspname = ANY($1) AND `+typesNotExtension("pg_collation", "co.oid")+`
ORDER BY 2, 3`, s)
	if err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var r collationRow
		if err := rows.Scan(&r.oid, &r.schema, &r.name, &r.provider, &r.deterministic, &r.collate, &r.ctype, &r.locale, &r.rules, &r.comment); err != nil {
			rows.Close()
			return err
		}
		p.rows.collations = append(p.rows.collations, r)
		u := printedType{kind: "collation", schema: r.schema, name: r.name}
		p.collationsByOID[r.oid] = u
		p.addName(u)
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	rows, err = c.Query(ctx, `
SELECT t.oid, n.nspname, t.typname, t.typbasetype, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
  pg_get_expr(t.typdefaultbin, 0), cn.nspname, co.collname, obj_description(t.oid, 'pg_type')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_collation co ON co.oid = t.typcollation AND t.typcollation <> bt.typcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE t.typtype = 'd' AND n.nspname = ANY($1) AND `+typesNotExtension("pg_type", "t.oid")+`
ORDER BY 2, 3`, s)
	if err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var r domainRow
		if err := rows.Scan(&r.oid, &r.schema, &r.name, &r.base, &r.baseType, &r.notNull, &r.def, &r.collSchema, &r.coll, &r.comment); err != nil {
			rows.Close()
			return err
		}
		p.rows.domains = append(p.rows.domains, r)
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	rows, err = c.Query(ctx, `
SELECT k.contypid, k.conname, pg_get_expr(k.conbin, 0), k.convalidated, obj_description(k.oid, 'pg_constraint')
FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE k.contype = 'c' AND n.nspname = ANY($1)
ORDER BY k.conname`, s)
	if err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var (
			oid uint32
			r   domainCheckRow
		)
		if err := rows.Scan(&oid, &r.name, &r.expr, &r.valid, &r.comment); err != nil {
			rows.Close()
			return err
		}
		p.rows.checks[oid] = append(p.rows.checks[oid], r)
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	rows, err = c.Query(ctx, `
SELECT t.oid, n.nspname, t.typname, obj_description(t.oid, 'pg_type')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class r ON r.oid = t.typrelid AND r.relkind = 'c'
WHERE t.typtype = 'c' AND n.nspname = ANY($1) AND `+typesNotExtension("pg_type", "t.oid")+` AND `+typesNotExtension("pg_class", "r.oid")+`
ORDER BY 2, 3`, s)
	if err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var r compositeRow
		if err := rows.Scan(&r.oid, &r.schema, &r.name, &r.comment); err != nil {
			rows.Close()
			return err
		}
		p.rows.composites = append(p.rows.composites, r)
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	rows, err = c.Query(ctx, `
SELECT t.oid, a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod), cn.nspname, co.collname, col_description(r.oid, a.attnum)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class r ON r.oid = t.typrelid AND r.relkind = 'c'
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type at ON at.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> at.typcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE t.typtype = 'c' AND n.nspname = ANY($1)
ORDER BY t.oid, a.attnum`, s)
	if err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var (
			oid uint32
			r   compositeFieldRow
		)
		if err := rows.Scan(&oid, &r.name, &r.typ, &r.typeText, &r.collSchema, &r.coll, &r.comment); err != nil {
			rows.Close()
			return err
		}
		p.rows.fields[oid] = append(p.rows.fields[oid], r)
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	// Sequences, without identity sequences; with the column that owns
	// each (OWNED BY), its default and type.
	rows, err = c.Query(ctx, `
SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
  c.relpersistence = 'u', obj_description(c.oid, 'pg_class'),
  o.nspname, o.relname, o.attname, o.def, o.typ, coalesce(o.relispartition, false),
  -- Shaped as a serial column makes it: named TABLE_COLUMN_seq, in the
  -- table's schema, the column's default its nextval.
  coalesce(c.relname = o.relname || '_' || o.attname || '_seq' AND c.relnamespace = o.relnamespace
    AND o.def = 'nextval(' || quote_literal(quote_ident(n.nspname) || '.' || quote_ident(c.relname)) || '::regclass)', false)
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
  SELECT tn.nspname, t.relname, t.relnamespace, a.attname, pg_get_expr(ad.adbin, ad.adrelid) AS def, format_type(a.atttypid, a.atttypmod) AS typ, t.relispartition
  FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = t.oid AND ad.adnum = a.attnum
  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
    AND d.refobjsubid > 0 AND d.deptype = 'a'
  LIMIT 1) o ON true
WHERE n.nspname = ANY($1) AND c.relkind = 'S' AND `+typesNotExtension("pg_class", "c.oid")+`
  AND NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = 'pg_class'::regclass AND i.objid = c.oid AND i.deptype = 'i')
ORDER BY 1, 2`, s)
	if err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var r sequenceRow
		if err := rows.Scan(&r.schema, &r.name, &r.typ, &r.start, &r.increment, &r.min, &r.max, &r.cache, &r.cycle, &r.unlogged, &r.comment,
			&r.ownerSchema, &r.ownerTable, &r.ownerCol, &r.ownerDefault, &r.ownerType, &r.ownerPartition, &r.serialShaped); err != nil {
			rows.Close()
			return err
		}
		p.rows.sequences = append(p.rows.sequences, r)
		p.addName(printedType{kind: "sequence", schema: r.schema, name: r.name})
	}
	if err := typesCloseRows(rows); err != nil {
		return err
	}
	// The statistics target is NULL for the default from PostgreSQL 17,
	// -1 before: read it from the row as JSON.
	rows, err = c.Query(ctx, `
SELECT n.nspname, s.stxname, tn.nspname, t.relname, t.relispartition,
  ARRAY(SELECT a.attname FROM unnest(s.stxkeys::int2[]) k JOIN pg_attribute a ON a.attrelid = s.stxrelid AND a.attnum = k ORDER BY k)::text[],
  coalesce(pg_get_statisticsobjdef_expressions(s.oid), '{}')::text[], s.stxkind::text[],
  nullif((to_jsonb(s) ->> 'stxstattarget')::int, -1), obj_description(s.oid, 'pg_statistic_ext')
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
JOIN pg_class t ON t.oid = s.stxrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE n.nspname = ANY($1) AND `+typesNotExtension("pg_statistic_ext", "s.oid")+`
ORDER BY 1, 2`, s)
	if err != nil {
		return pg.ServerError(err)
	}
	for rows.Next() {
		var r statisticsRow
		if err := rows.Scan(&r.schema, &r.name, &r.tableSchema, &r.table, &r.partition, &r.columns, &r.exprs, &r.kinds, &r.target, &r.comment); err != nil {
			rows.Close()
			return err
		}
		p.rows.statistics = append(p.rows.statistics, r)
		p.addName(printedType{kind: "statistics", schema: r.schema, name: r.name})
	}
	return typesCloseRows(rows)
}

type typesRowCloser interface {
	Close()
	Err() error
}

func typesCloseRows(rows typesRowCloser) error {
	rows.Close()
	return pg.ServerError(rows.Err())
}

func (p *typesPrinter) addName(u printedType) {
	if p.names[u.kind] == nil {
		p.names[u.kind] = make(map[string][]string)
	}
	p.names[u.kind][u.name] = append(p.names[u.kind][u.name], u.schema)
}

// typesUnreferable reports whether HCL cannot refer to name (keel refuses
// references holding a double quote, a backslash or a character that does
// not print; see state.checkReferences).
func typesUnreferable(name string) bool {
	return strconv.Quote(name) != `"`+name+`"`
}

// typesStep is .NAME, or ["NAME"] when NAME is not an identifier.
func typesStep(name string) hcl.Traverser {
	if hclsyntax.ValidIdentifier(name) {
		return hcl.TraverseAttr{Name: name}
	}
	return hcl.TraverseIndex{Key: cty.StringVal(name)}
}

// ref writes KIND.NAME, or KIND.SCHEMA.NAME when the name is in several of
// the printed schemas (or qualify says so).
func (p *typesPrinter) ref(kind, sch, name string, qualify bool) (hclwrite.Tokens, error) {
	if typesUnreferable(sch) || typesUnreferable(name) {
		return nil, fmt.Errorf("%s %s.%s: Atlas HCL cannot refer to a name holding a double quote, a backslash or a character that does not print: rename it",
			kind, strconv.Quote(sch), strconv.Quote(name))
	}
	tr := hcl.Traversal{hcl.TraverseRoot{Name: kind}}
	if qualify || len(p.names[kind][name]) > 1 || kind == "table" && len(p.tables[name]) > 1 {
		tr = append(tr, typesStep(sch))
	}
	return hclwrite.TokensForTraversal(append(tr, typesStep(name))), nil
}

// labels are a block's labels: its name, after its schema when the name
// is in several of the printed schemas (Atlas's qualifier).
func (p *typesPrinter) labels(kind, sch, name string) []string {
	if len(p.names[kind][name]) > 1 {
		return []string{sch, name}
	}
	return []string{name}
}

// header starts a block with its schema attribute.
func (p *typesPrinter) header(body *hclwrite.Body, blockType, kind, sch, name string) (*hclwrite.Body, error) {
	if typesUnreferable(sch) {
		return nil, fmt.Errorf("%s %s.%s: Atlas HCL cannot refer to schema %s, whose name holds a double quote, a backslash or a character that does not print: rename it",
			blockType, strconv.Quote(sch), strconv.Quote(name), strconv.Quote(sch))
	}
	if p.blocks > 0 {
		body.AppendNewline()
	}
	p.blocks++
	b := body.AppendNewBlock(blockType, p.labels(kind, sch, name)).Body()
	b.SetAttributeTraversal("schema", hcl.Traversal{hcl.TraverseRoot{Name: "schema"}, typesStep(sch)})
	return b, nil
}

func typesComment(b *hclwrite.Body, c *string) {
	if c != nil {
		b.SetAttributeValue("comment", cty.StringVal(*c))
	}
}

// typeTokens writes a type: a reference to a domain, enum or composite
// type of the printed schemas, else the type's HCL name as the engine
// prints it when it reads back as the same type, else sql("...").
func (p *typesPrinter) typeTokens(oid uint32, text string) (hclwrite.Tokens, error) {
	if u, ok := p.types[oid]; ok && !(u.kind == "enum" && !hclsyntax.ValidIdentifier(u.name)) {
		if t, err := p.ref(u.kind, u.schema, u.name, false); err == nil {
			return t, nil
		}
	}
	return printedTypeTokens(text), nil
}

// printedTypeTokens writes a type (as format_type prints it) as the engine
// prints a column of that type, when the engine reads that back as the
// same type; else as sql("...").
func printedTypeTokens(text string) hclwrite.Tokens {
	raw := hclwrite.TokensForFunctionCall("sql", hclwrite.TokensForValue(cty.StringVal(text)))
	t, err := postgres.ParseType(text)
	if err != nil {
		return raw
	}
	want, err := postgres.FormatType(t)
	if err != nil {
		return raw
	}
	realm := schema.NewRealm(schema.New("keel_type_probe").AddTables(schema.NewTable("t").AddColumns(schema.NewColumn("c").SetType(t))))
	src, err := postgres.MarshalHCL(realm)
	if err != nil {
		return raw
	}
	f, diags := hclsyntax.ParseConfig(src, "type.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return raw
	}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "table" || len(b.Body.Blocks) != 1 {
			continue
		}
		a, ok := b.Body.Blocks[0].Body.Attributes["type"]
		if !ok {
			continue
		}
		r := a.Expr.Range()
		expr := string(src[r.Start.Byte:r.End.Byte])
		if got, err := state.TypeSQL(expr); err != nil || got != want {
			return raw
		}
		wf, diags := hclwrite.ParseConfig([]byte("type = "+expr+"\n"), "type.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			return raw
		}
		return wf.Body().GetAttribute("type").Expr().BuildTokens(nil)
	}
	return raw
}

// collateTokens writes a collation: its name when it is PostgreSQL's own
// (pg_catalog), a reference when it is printed here.
func (p *typesPrinter) collateTokens(what string, sch, name *string) (hclwrite.Tokens, error) {
	if *sch == "pg_catalog" {
		return hclwrite.TokensForValue(cty.StringVal(*name)), nil
	}
	for _, c := range p.collationsByOID {
		if c.schema == *sch && c.name == *name {
			return p.ref("collation", c.schema, c.name, false)
		}
	}
	return nil, fmt.Errorf("%s uses collation %s.%s, which is not in the inspected schemas (or is an extension's): inspect its schema too",
		what, strconv.Quote(*sch), strconv.Quote(*name))
}

func (p *typesPrinter) collations(body *hclwrite.Body) error {
	for _, r := range p.rows.collations {
		if r.provider == "d" {
			continue
		}
		b, err := p.header(body, "collation", "collation", r.schema, r.name)
		if err != nil {
			return err
		}
		provider := map[string]string{"i": "icu", "c": "libc", "b": "builtin"}[r.provider]
		if provider == "" {
			return fmt.Errorf("collation %s.%s has provider %q, which keel does not know", strconv.Quote(r.schema), strconv.Quote(r.name), r.provider)
		}
		b.SetAttributeTraversal("provider", hcl.Traversal{hcl.TraverseRoot{Name: provider}})
		switch {
		case r.locale != nil:
			b.SetAttributeValue("locale", cty.StringVal(*r.locale))
		case r.collate != nil && r.ctype != nil && *r.collate == *r.ctype:
			b.SetAttributeValue("locale", cty.StringVal(*r.collate))
		case r.collate != nil && r.ctype != nil:
			b.SetAttributeValue("lc_collate", cty.StringVal(*r.collate))
			b.SetAttributeValue("lc_ctype", cty.StringVal(*r.ctype))
		}
		if !r.deterministic {
			b.SetAttributeValue("deterministic", cty.False)
		}
		if r.rules != nil {
			b.SetAttributeValue("rules", cty.StringVal(*r.rules))
		}
		typesComment(b, r.comment)
	}
	return nil
}

// typesInteger matches a default that HCL writes as a number and the
// reader writes back as it is (an integer: a decimal's scale would be
// lost).
var typesInteger = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

func (p *typesPrinter) domains(body *hclwrite.Body) error {
	for _, r := range p.rows.domains {
		what := fmt.Sprintf("domain %s.%s", strconv.Quote(r.schema), strconv.Quote(r.name))
		b, err := p.header(body, "domain", "domain", r.schema, r.name)
		if err != nil {
			return err
		}
		t, err := p.typeTokens(r.base, r.baseType)
		if err != nil {
			return err
		}
		b.SetAttributeRaw("type", t)
		// Always written: Atlas reads a domain without null as NOT NULL,
		// as it reads a column.
		b.SetAttributeValue("null", cty.BoolVal(!r.notNull))
		if r.def != nil {
			switch d := *r.def; {
			case typesInteger.MatchString(d):
				b.SetAttributeRaw("default", hclwrite.Tokens{{Type: hclsyntax.TokenNumberLit, Bytes: []byte(d)}})
			case d == "true" || d == "false":
				b.SetAttributeValue("default", cty.BoolVal(d == "true"))
			default:
				b.SetAttributeRaw("default", hclwrite.TokensForFunctionCall("sql", hclwrite.TokensForValue(cty.StringVal(d))))
			}
		}
		if r.coll != nil {
			t, err := p.collateTokens(what, r.collSchema, r.coll)
			if err != nil {
				return err
			}
			b.SetAttributeRaw("collate", t)
		}
		for _, k := range p.rows.checks[r.oid] {
			cb := b.AppendNewBlock("check", []string{k.name}).Body()
			cb.SetAttributeValue("expr", cty.StringVal(k.expr))
			if !k.valid {
				cb.SetAttributeValue("not_valid", cty.True)
			}
			typesComment(cb, k.comment)
		}
		typesComment(b, r.comment)
	}
	return nil
}

func (p *typesPrinter) composites(body *hclwrite.Body) error {
	for _, r := range p.rows.composites {
		what := fmt.Sprintf("composite type %s.%s", strconv.Quote(r.schema), strconv.Quote(r.name))
		b, err := p.header(body, "composite", "composite", r.schema, r.name)
		if err != nil {
			return err
		}
		for _, f := range p.rows.fields[r.oid] {
			fb := b.AppendNewBlock("field", []string{f.name}).Body()
			t, err := p.typeTokens(f.typ, f.typeText)
			if err != nil {
				return err
			}
			fb.SetAttributeRaw("type", t)
			if f.coll != nil {
				t, err := p.collateTokens(what+", field "+strconv.Quote(f.name), f.collSchema, f.coll)
				if err != nil {
					return err
				}
				fb.SetAttributeRaw("collate", t)
			}
			typesComment(fb, f.comment)
		}
		typesComment(b, r.comment)
	}
	return nil
}

// serialDefault is the engine's reading of a serial column's default
// (sql/postgres inspect.go): it reads a column whose default matches it
// as serial, and makes it back as serial, which makes its sequence.
var serialDefault = regexp.MustCompile(`(?i) *nextval\('(?:"?[\w$]+"?\.)?"?([\w$]+_[\w$]+_seq)"?'(?:::regclass)*\) *$`)

// serialOf reports whether the sequence is a serial column's: shaped as a
// serial column makes it (owned by the column, named TABLE_COLUMN_seq, the
// column's default its nextval; the catalog comparison leaves those to
// their column too) and read back by the engine as serial, which makes it
// again. Such a sequence is the column's (`type = serial`), not a block.
// Any other sequence a column owns is printed, with owner.
func (r sequenceRow) serialOf() bool {
	if !r.serialShaped || r.ownerDefault == nil || r.ownerType == nil {
		return false
	}
	switch *r.ownerType {
	case "smallint", "integer", "bigint":
	default:
		return false
	}
	m := serialDefault.FindStringSubmatch(*r.ownerDefault)
	return len(m) == 2 && m[1] == r.name
}

// sequenceBounds are the least and greatest values of a sequence's types.
var sequenceBounds = map[string][2]int64{
	"smallint": {-32768, 32767},
	"integer":  {-2147483648, 2147483647},
	"bigint":   {-9223372036854775808, 9223372036854775807},
}

func (p *typesPrinter) sequences(body *hclwrite.Body) error {
	for _, r := range p.rows.sequences {
		if r.serialOf() {
			continue
		}
		b, err := p.header(body, "sequence", "sequence", r.schema, r.name)
		if err != nil {
			return err
		}
		bounds, ok := sequenceBounds[r.typ]
		if !ok {
			return fmt.Errorf("sequence %s.%s has type %s, which keel does not know", strconv.Quote(r.schema), strconv.Quote(r.name), r.typ)
		}
		if r.typ != "bigint" {
			b.SetAttributeTraversal("type", hcl.Traversal{hcl.TraverseRoot{Name: r.typ}})
		}
		// What PostgreSQL takes when an option is left out.
		minDefault, maxDefault := int64(1), bounds[1]
		if r.increment < 0 {
			minDefault, maxDefault = bounds[0], -1
		}
		startDefault := r.min
		if r.increment < 0 {
			startDefault = r.max
		}
		if r.start != startDefault {
			b.SetAttributeValue("start", cty.NumberIntVal(r.start))
		}
		if r.increment != 1 {
			b.SetAttributeValue("increment", cty.NumberIntVal(r.increment))
		}
		if r.min != minDefault {
			b.SetAttributeValue("min_value", cty.NumberIntVal(r.min))
		}
		if r.max != maxDefault {
			b.SetAttributeValue("max_value", cty.NumberIntVal(r.max))
		}
		if r.cache != 1 {
			b.SetAttributeValue("cache", cty.NumberIntVal(r.cache))
		}
		if r.cycle {
			b.SetAttributeValue("cycle", cty.True)
		}
		if r.unlogged {
			b.SetAttributeValue("unlogged", cty.True)
		}
		if r.ownerCol != nil {
			what := fmt.Sprintf("sequence %s.%s: owner", strconv.Quote(r.schema), strconv.Quote(r.name))
			if !p.inSchemas[*r.ownerSchema] {
				return fmt.Errorf("%s is a column of %s.%s, which is not in the inspected schemas: inspect its schema too", what, strconv.Quote(*r.ownerSchema), strconv.Quote(*r.ownerTable))
			}
			t, err := p.ref("table", *r.ownerSchema, *r.ownerTable, r.ownerPartition)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if typesUnreferable(*r.ownerCol) {
				return fmt.Errorf("%s: Atlas HCL cannot refer to column %s, whose name holds a double quote, a backslash or a character that does not print: rename it", what, strconv.Quote(*r.ownerCol))
			}
			col := hclwrite.TokensForTraversal(hcl.Traversal{hcl.TraverseRoot{Name: "column"}, typesStep(*r.ownerCol)})
			b.SetAttributeRaw("owner", append(append(t, &hclwrite.Token{Type: hclsyntax.TokenDot, Bytes: []byte(".")}), col...))
		}
		typesComment(b, r.comment)
	}
	return nil
}

// statisticsKindNames are the statistics kinds, by their code in stxkind.
var statisticsKindNames = map[string]string{"d": "ndistinct", "f": "dependencies", "m": "mcv"}

func (p *typesPrinter) statistics(body *hclwrite.Body) error {
	for _, r := range p.rows.statistics {
		what := fmt.Sprintf("statistics %s.%s", strconv.Quote(r.schema), strconv.Quote(r.name))
		b, err := p.header(body, "statistics", "statistics", r.schema, r.name)
		if err != nil {
			return err
		}
		if !p.inSchemas[r.tableSchema] {
			return fmt.Errorf("%s is on %s.%s, which is not in the inspected schemas: inspect its schema too", what, strconv.Quote(r.tableSchema), strconv.Quote(r.table))
		}
		t, err := p.ref("table", r.tableSchema, r.table, r.partition)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		b.SetAttributeRaw("on", t)
		if len(r.columns) > 0 {
			cols := make([]hclwrite.Tokens, 0, len(r.columns))
			for _, c := range r.columns {
				if typesUnreferable(c) {
					return fmt.Errorf("%s: Atlas HCL cannot refer to column %s, whose name holds a double quote, a backslash or a character that does not print: rename it", what, strconv.Quote(c))
				}
				cols = append(cols, hclwrite.TokensForTraversal(hcl.Traversal{hcl.TraverseRoot{Name: "column"}, typesStep(c)}))
			}
			b.SetAttributeRaw("columns", hclwrite.TokensForTuple(cols))
		}
		if len(r.exprs) > 0 {
			exprs := make([]cty.Value, len(r.exprs))
			for i, x := range r.exprs {
				exprs[i] = cty.StringVal(x)
			}
			b.SetAttributeValue("exprs", cty.TupleVal(exprs))
		}
		var kinds []string
		for _, k := range r.kinds {
			if n, ok := statisticsKindNames[k]; ok {
				kinds = append(kinds, n)
			}
		}
		// All of them is what CREATE STATISTICS takes without a list.
		if len(kinds) > 0 && len(kinds) < len(statisticsKindNames) {
			sort.Slice(kinds, func(i, j int) bool { return statisticsKindOrder(kinds[i]) < statisticsKindOrder(kinds[j]) })
			list := make([]hclwrite.Tokens, len(kinds))
			for i, k := range kinds {
				list[i] = hclwrite.TokensForIdentifier(k)
			}
			b.SetAttributeRaw("kinds", hclwrite.TokensForTuple(list))
		}
		if r.target != nil {
			b.SetAttributeValue("target", cty.NumberIntVal(int64(*r.target)))
		}
		typesComment(b, r.comment)
	}
	return nil
}

func statisticsKindOrder(k string) int {
	return strings.Index("ndistinct dependencies mcv", k)
}
