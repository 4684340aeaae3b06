package state

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"reflect"
	"sort"
	"strings"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// RealmHash hashes everything the engine knows about a realm's schemas,
// tables, columns, indexes, keys, checks and enums, walking the structures
// themselves (printing them as HCL is several times slower). Two inspected
// realms with the same hash are the same realm, so a diff between them is
// empty. References between objects (a foreign key's table, an index part's
// column) are hashed by name; object ids (OIDs) and an identity's current
// sequence value, which differ between databases holding the same schema,
// are left out. Anything else that differs makes the hashes differ, which
// only costs the fast path.
func RealmHash(r *schema.Realm) string {
	h := &hasher{h: sha256.New()}
	h.attrs(r.Attrs)
	h.objects(r.Objects)
	for _, s := range r.Schemas {
		h.printf("schema %q\n", s.Name)
		h.attrs(s.Attrs)
		h.objects(s.Objects)
		for _, t := range s.Tables {
			h.table(t)
		}
	}
	return "sha256:" + hex.EncodeToString(h.h.Sum(nil))
}

type hasher struct{ h hash.Hash }

func (h *hasher) printf(format string, args ...any) { fmt.Fprintf(h.h, format, args...) }

func (h *hasher) table(t *schema.Table) {
	h.printf("table %q\n", t.Name)
	h.attrs(t.Attrs)
	for _, c := range t.Columns {
		h.printf("column %q\n", c.Name)
		h.value(reflect.ValueOf(c.Type))
		h.value(reflect.ValueOf(&c.Default).Elem())
		h.attrs(c.Attrs)
	}
	if t.PrimaryKey != nil {
		h.printf("primary key\n")
		h.index(t.PrimaryKey)
	}
	for _, idx := range t.Indexes {
		h.index(idx)
	}
	for _, fk := range t.ForeignKeys {
		h.printf("foreign key %q %s (", fk.Symbol, ref(fk.RefTable))
		for _, c := range fk.Columns {
			h.printf("%q ", c.Name)
		}
		h.printf(") -> (")
		for _, c := range fk.RefColumns {
			h.printf("%q ", c.Name)
		}
		h.printf(") %q %q\n", fk.OnUpdate, fk.OnDelete)
		h.attrs(fk.Attrs)
	}
}

func (h *hasher) index(idx *schema.Index) {
	h.printf("index %q unique=%t\n", idx.Name, idx.Unique)
	// The engine lists, on the index a foreign key of another table refers
	// to, that foreign key's name: it belongs to the other table (which
	// hashes it), and whether the engine finds it depends on which tables
	// were read with this one.
	attrs := make([]schema.Attr, 0, len(idx.Attrs))
	for _, a := range idx.Attrs {
		if c, ok := a.(*postgres.Constraint); !ok || c.T != "f" {
			attrs = append(attrs, a)
		}
	}
	h.attrs(attrs)
	for _, p := range idx.Parts {
		h.printf("part %d desc=%t column=%s\n", p.SeqNo, p.Desc, ref(p.C))
		h.value(reflect.ValueOf(&p.X).Elem())
		h.attrs(p.Attrs)
	}
}

// attrs hashes attributes in any order: the engine fills some from maps.
func (h *hasher) attrs(as []schema.Attr) {
	encoded := make([]string, 0, len(as))
	for _, a := range as {
		if _, ok := a.(*postgres.OID); ok {
			continue
		}
		encoded = append(encoded, encode(reflect.ValueOf(&a).Elem()))
	}
	h.sorted(encoded)
}

func (h *hasher) objects(os []schema.Object) {
	encoded := make([]string, 0, len(os))
	for _, o := range os {
		encoded = append(encoded, encode(reflect.ValueOf(&o).Elem()))
	}
	h.sorted(encoded)
}

func (h *hasher) sorted(encoded []string) {
	sort.Strings(encoded)
	for _, e := range encoded {
		h.printf("%s\n", e)
	}
	h.printf(";\n")
}

// encode is what value hashes, as text.
func encode(v reflect.Value) string {
	var b strings.Builder
	(&hasher{h: writerHash{&b}}).value(v)
	return b.String()
}

// writerHash lets a hasher write text instead of hashing it.
type writerHash struct{ *strings.Builder }

func (writerHash) Sum(b []byte) []byte { return b }

func (writerHash) Reset() {}

func (writerHash) Size() int { return 0 }

func (writerHash) BlockSize() int { return 1 }

var (
	schemaType   = reflect.TypeOf(&schema.Schema{})
	tableType    = reflect.TypeOf(&schema.Table{})
	columnType   = reflect.TypeOf(&schema.Column{})
	indexType    = reflect.TypeOf(&schema.Index{})
	fkType       = reflect.TypeOf(&schema.ForeignKey{})
	realmType    = reflect.TypeOf(&schema.Realm{})
	sequenceType = reflect.TypeOf(postgres.Sequence{})
)

// ref names an object another one refers to.
func ref(o any) string {
	switch o := o.(type) {
	case *schema.Table:
		if o == nil {
			return "-"
		}
		return fmt.Sprintf("table %q.%q", schemaName(o.Schema), o.Name)
	case *schema.Column:
		if o == nil {
			return "-"
		}
		return fmt.Sprintf("column %q", o.Name)
	}
	return "?"
}

func schemaName(s *schema.Schema) string {
	if s == nil {
		return ""
	}
	return s.Name
}

// field is the string field name of the struct v points to.
func field(v reflect.Value, name string) string { return v.Elem().FieldByName(name).String() }

// value hashes any value reachable from an attribute, a type or an
// expression; pointers to schema objects are hashed as references.
func (h *hasher) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.Invalid:
		h.printf("nil ")
	case reflect.Interface:
		if v.IsNil() {
			h.printf("nil ")
			return
		}
		h.printf("%s{", v.Elem().Type())
		h.value(v.Elem())
		h.printf("} ")
	case reflect.Pointer:
		if v.IsNil() {
			h.printf("nil ")
			return
		}
		// Fields are read by name, not through Interface, which reflect
		// refuses for values reached through unexported fields.
		switch v.Type() {
		case schemaType:
			h.printf("schema %q ", field(v, "Name"))
		case tableType:
			s := v.Elem().FieldByName("Schema")
			sn := ""
			if !s.IsNil() {
				sn = field(s, "Name")
			}
			h.printf("table %q.%q ", sn, field(v, "Name"))
		case columnType:
			h.printf("column %q ", field(v, "Name"))
		case indexType:
			h.printf("index %q ", field(v, "Name"))
		case fkType:
			h.printf("fk %q ", field(v, "Symbol"))
		case realmType:
			h.printf("realm ")
		default:
			h.value(v.Elem())
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if t == sequenceType && t.Field(i).Name == "Last" {
				continue // the sequence's current value, not its definition
			}
			h.printf("%s:", t.Field(i).Name)
			h.value(v.Field(i))
		}
	case reflect.Slice, reflect.Array:
		h.printf("[")
		for i := 0; i < v.Len(); i++ {
			h.value(v.Index(i))
		}
		h.printf("] ")
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		h.printf("{")
		for _, k := range keys {
			h.value(k)
			h.value(v.MapIndex(k))
		}
		h.printf("} ")
	case reflect.String:
		h.printf("%q ", v.String())
	case reflect.Bool:
		h.printf("%t ", v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		h.printf("%d ", v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		h.printf("%d ", v.Uint())
	case reflect.Float32, reflect.Float64:
		h.printf("%g ", v.Float())
	default:
		h.printf("%s ", v.Kind())
	}
}
