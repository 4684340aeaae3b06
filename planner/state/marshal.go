package state

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"keel/planner/plan"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MarshalHCL prints a state as HCL that LoadHCL reads back to the same
// state: the engine's schema, table and enum blocks, preceded by keel's
// extension blocks (with the installed schema and version), and with the
// column types of known extensions written by name (`type = citext`).
// When the state has a catalog, its settings (unlogged, storage_params,
// replica_identity, column storage, compression and statistics, identity
// options, deferrable, NOT VALID and MATCH FULL constraints, ON DELETE SET
// NULL (columns), comments on constraints, indexes' storage parameters)
// are written as keel's attributes; see writeSettings. Partitions, which
// the engine's printer skips, are written as table blocks with
// partition_of and bound (see writePartitions).
func MarshalHCL(st *State) ([]byte, error) {
	if objs := unreferable(st.Realm); len(objs) > 0 {
		more := ""
		if len(objs) > 5 {
			objs, more = objs[:5], fmt.Sprintf(" and %d more", len(objs)-5)
		}
		return nil, fmt.Errorf("printing the state as HCL: Atlas HCL cannot refer to %s%s: their names hold a double quote, a backslash "+
			"or a character that does not print, and other blocks refer to them. Rename them, or use the database itself "+
			"(--schema postgres://...) or its pg_dump --schema-only as the desired state",
			strings.Join(objs, ", "), more)
	}
	// A child table's block declares only what is its own: the columns
	// and checks it only inherits come with inherits (see writeInherits).
	realm, err := marshalRealm(withoutInherited(st.Realm, st.Catalog))
	if err != nil {
		return nil, fmt.Errorf("printing the state as HCL: %w", err)
	}
	inRealm := make(map[string]bool, len(st.Realm.Schemas))
	for _, s := range st.Realm.Schemas {
		inRealm[s.Name] = true
	}
	var b bytes.Buffer
	for _, e := range st.Extensions {
		fmt.Fprintf(&b, "extension %s {\n", strconv.Quote(e.Name))
		switch {
		case e.Schema == "":
		case inRealm[e.Schema]:
			fmt.Fprintf(&b, "  schema  = %s\n", schemaRefHCL(e.Schema))
		default:
			fmt.Fprintf(&b, "  # installed in schema %s, which is not among the inspected schemas\n", strconv.Quote(e.Schema))
		}
		if e.Version != "" {
			fmt.Fprintf(&b, "  version = %s\n", strconv.Quote(e.Version))
		}
		b.WriteString("}\n\n")
	}
	b.Write(nameExtensionTypes(realm, st.Extensions))
	if b.Len() > 0 && b.Bytes()[b.Len()-1] != '\n' {
		b.WriteByte('\n')
	}
	if st.Catalog == nil {
		return b.Bytes(), nil
	}
	out, err := writeSettings(b.Bytes(), st.Catalog)
	if err != nil {
		return nil, fmt.Errorf("printing the state as HCL: %w", err)
	}
	// The schemas of each table name, for partition_of to qualify a parent
	// whose name another schema has too.
	tables := make(map[string][]string)
	for _, s := range st.Realm.Schemas {
		for _, t := range s.Tables {
			tables[t.Name] = append(tables[t.Name], s.Name)
		}
	}
	for _, k := range st.Catalog.partitions() {
		tables[k.Table] = append(tables[k.Table], k.Schema)
	}
	if out, err = writeInherits(out, st.Catalog, tables); err != nil {
		return nil, fmt.Errorf("printing the state as HCL: %w", err)
	}
	return WriteRowSecurity(writePartitions(out, st.Catalog, tables), st.Catalog)
}

// schemaRefHCL returns a reference to a schema block: schema.NAME, or the
// name as a string when it is not an HCL identifier.
func schemaRefHCL(s string) string {
	if hclsyntax.ValidIdentifier(s) {
		return "schema." + s
	}
	return strconv.Quote(s)
}

// marshalRealm prints a realm with the engine's HCL printer, which panics on
// some realms it cannot print (an enum without values): that is an error.
func marshalRealm(r *schema.Realm) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("the engine cannot print this schema as HCL: %v", p)
		}
	}()
	// An enum without values prints (without its values attribute) only
	// when the list is empty rather than nil.
	var restore []*schema.EnumType
	for _, s := range r.Schemas {
		for _, o := range s.Objects {
			if e, ok := o.(*schema.EnumType); ok && e.Values == nil {
				e.Values = []string{}
				restore = append(restore, e)
			}
		}
	}
	defer func() {
		for _, e := range restore {
			e.Values = nil
		}
	}()
	// For each table, the engine's printer looks through every table of
	// the realm, to qualify the names of the objects the table depends on
	// (depends_on). When no table depends on any (Deps, which the engine's
	// inspection leaves empty), the look finds nothing: the schemas are
	// printed as of no realm, which skips it. The same bytes, in time that
	// grows with the tables, not with their square (0.14 s of 0.44 s at
	// 1,000 tables).
	deps := false
	for _, s := range r.Schemas {
		for _, t := range s.Tables {
			deps = deps || len(t.Deps) > 0
		}
	}
	if !deps {
		realms := make([]*schema.Realm, len(r.Schemas))
		for i, s := range r.Schemas {
			realms[i], s.Realm = s.Realm, nil
		}
		defer func() {
			for i, s := range r.Schemas {
				s.Realm = realms[i]
			}
		}()
	}
	return postgres.MarshalHCL(r)
}

// unreferable lists the objects of a realm that other blocks of its HCL
// would refer to (schema.x, table["x"], column["x"], enum.x) and whose
// names Atlas HCL cannot refer to: a schema, table or column name with a
// double quote, a backslash or a character that does not print (see
// needsGuard), an enum name that is not an HCL identifier. The engine
// prints such references, and reads them back wrong or not at all.
func unreferable(r *schema.Realm) []string {
	var out []string
	seen := make(map[string]bool)
	note := func(o string) {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	add := func(kind string, s *schema.Schema, name string) {
		if needsGuard(name) {
			note(kind + " " + DisplayName(s, name))
		}
	}
	addColumn := func(t *schema.Table, c *schema.Column) {
		if needsGuard(c.Name) {
			note("column " + DisplayName(t.Schema, t.Name) + "." + plan.DisplayPart(c.Name))
		}
	}
	for _, s := range r.Schemas {
		if needsGuard(s.Name) {
			add("schema", nil, s.Name)
		}
		for _, t := range s.Tables {
			cols := func(parts []*schema.IndexPart) {
				for _, p := range parts {
					if p.C != nil {
						addColumn(t, p.C)
					}
				}
			}
			if t.PrimaryKey != nil {
				cols(t.PrimaryKey.Parts)
			}
			for _, idx := range t.Indexes {
				cols(idx.Parts)
			}
			for _, fk := range t.ForeignKeys {
				for _, c := range fk.Columns {
					addColumn(t, c)
				}
				if fk.RefTable != nil {
					add("table", fk.RefTable.Schema, fk.RefTable.Name)
					for _, c := range fk.RefColumns {
						addColumn(fk.RefTable, c)
					}
				}
			}
			for _, c := range t.Columns {
				if c.Type == nil {
					continue
				}
				typ := c.Type.Type
				if a, ok := typ.(*postgres.ArrayType); ok {
					typ = a.Type
				}
				// The engine reads an enum back only by an HCL identifier (enum.x).
				if e, ok := typ.(*schema.EnumType); ok && !hclsyntax.ValidIdentifier(e.T) {
					note("enum " + DisplayName(e.Schema, e.T))
				}
			}
		}
	}
	return out
}

// EngineHCL prints a realm as the engine's HCL alone, for another build of
// the engine to read (the Atlas CLI): no block of keel's own. A name the
// engine's HCL cannot refer to is an error naming it.
func EngineHCL(r *schema.Realm) ([]byte, error) {
	if bad := unreferable(r); len(bad) > 0 {
		return nil, fmt.Errorf("the engine's HCL cannot refer to %s: plan these with keel's embedded engine", strings.Join(bad, ", "))
	}
	return marshalRealm(r)
}
