package state

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"reflect"
	"sort"
	"strconv"

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
// only costs the fast path. It hashes the hash of each schema, table and
// schema-level object, by name, as a fingerprint does first: a state that
// needs both walks its realm once.
func RealmHash(r *schema.Realm) string {
	_, full := realmObjects(r, nil)
	return realmHashOf(full)
}

// realmHashOf is the realm hash of a realm's objects' hashes (realmObjects):
// the same part of the realm its fingerprint hashes first.
func realmHashOf(full map[string]string) string {
	h := sha256.New()
	writeObjects(h, full)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// hasher writes the text of what it hashes into buf, and from there into h
// (nil: the text is all that is wanted, see encode). It appends with
// strconv, not fmt: the bytes are what "%q", "%d", "%t" and "%g" print.
type hasher struct {
	h   hash.Hash
	buf []byte
}

func newHasher() *hasher { return &hasher{h: sha256.New(), buf: make([]byte, 0, 1<<16)} }

// sum is the hash of all that was written.
func (h *hasher) sum() []byte {
	h.h.Write(h.buf)
	h.buf = h.buf[:0]
	return h.h.Sum(nil)
}

// flush hands the text to the hash once there is enough of it.
func (h *hasher) flush() {
	if h.h != nil && len(h.buf) >= 1<<15 {
		h.h.Write(h.buf)
		h.buf = h.buf[:0]
	}
}

func (h *hasher) str(s string) { h.buf = append(h.buf, s...) }

func (h *hasher) quote(s string) { h.buf = strconv.AppendQuote(h.buf, s) }

// quoted writes prefix, s quoted, and suffix.
func (h *hasher) quoted(prefix, s, suffix string) {
	h.str(prefix)
	h.quote(s)
	h.str(suffix)
}

func (h *hasher) schema(name string) { h.quoted("schema ", name, "\n") }

func (h *hasher) table(t *schema.Table) {
	h.quoted("table ", t.Name, "\n")
	h.attrs(t.Attrs)
	for _, c := range t.Columns {
		h.quoted("column ", c.Name, "\n")
		h.value(reflect.ValueOf(c.Type))
		h.value(reflect.ValueOf(&c.Default).Elem())
		h.attrs(c.Attrs)
		h.flush()
	}
	if t.PrimaryKey != nil {
		h.str("primary key\n")
		h.index(t.PrimaryKey)
	}
	for _, idx := range t.Indexes {
		h.index(idx)
	}
	for _, fk := range t.ForeignKeys {
		h.quoted("foreign key ", fk.Symbol, " ")
		h.ref(fk.RefTable)
		h.str(" (")
		for _, c := range fk.Columns {
			h.quote(c.Name)
			h.str(" ")
		}
		h.str(") -> (")
		for _, c := range fk.RefColumns {
			h.quote(c.Name)
			h.str(" ")
		}
		h.str(") ")
		h.quote(string(fk.OnUpdate))
		h.str(" ")
		h.quote(string(fk.OnDelete))
		h.str("\n")
		h.attrs(fk.Attrs)
	}
	h.flush()
}

func (h *hasher) index(idx *schema.Index) {
	h.quoted("index ", idx.Name, " unique=")
	h.buf = strconv.AppendBool(h.buf, idx.Unique)
	h.str("\n")
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
		h.str("part ")
		h.buf = strconv.AppendInt(h.buf, int64(p.SeqNo), 10)
		h.str(" desc=")
		h.buf = strconv.AppendBool(h.buf, p.Desc)
		h.str(" column=")
		h.ref(p.C)
		h.str("\n")
		h.value(reflect.ValueOf(&p.X).Elem())
		h.attrs(p.Attrs)
	}
}

// attrs hashes attributes in any order: the engine fills some from maps.
func (h *hasher) attrs(as []schema.Attr) {
	switch len(as) {
	case 0:
		h.str(";\n")
		return
	case 1:
		if _, ok := as[0].(*postgres.OID); ok {
			h.str(";\n")
			return
		}
		h.value(reflect.ValueOf(&as[0]).Elem())
		h.str("\n;\n")
		return
	}
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
		h.str(e)
		h.str("\n")
	}
	h.str(";\n")
}

// encode is what value hashes, as text.
func encode(v reflect.Value) string {
	e := hasher{buf: make([]byte, 0, 64)}
	e.value(v)
	return string(e.buf)
}

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
func (h *hasher) ref(o any) {
	switch o := o.(type) {
	case *schema.Table:
		if o == nil {
			h.str("-")
			return
		}
		h.quoted("table ", schemaName(o.Schema), ".")
		h.quote(o.Name)
		return
	case *schema.Column:
		if o == nil {
			h.str("-")
			return
		}
		h.quoted("column ", o.Name, "")
		return
	}
	h.str("?")
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
		h.str("nil ")
	case reflect.Interface:
		if v.IsNil() {
			h.str("nil ")
			return
		}
		h.str(v.Elem().Type().String())
		h.str("{")
		h.value(v.Elem())
		h.str("} ")
	case reflect.Pointer:
		if v.IsNil() {
			h.str("nil ")
			return
		}
		// Fields are read by name, not through Interface, which reflect
		// refuses for values reached through unexported fields.
		switch v.Type() {
		case schemaType:
			h.quoted("schema ", field(v, "Name"), " ")
		case tableType:
			s := v.Elem().FieldByName("Schema")
			sn := ""
			if !s.IsNil() {
				sn = field(s, "Name")
			}
			h.quoted("table ", sn, ".")
			h.quoted("", field(v, "Name"), " ")
		case columnType:
			h.quoted("column ", field(v, "Name"), " ")
		case indexType:
			h.quoted("index ", field(v, "Name"), " ")
		case fkType:
			h.quoted("fk ", field(v, "Symbol"), " ")
		case realmType:
			h.str("realm ")
		default:
			h.value(v.Elem())
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			f := t.Field(i)
			if t == sequenceType && f.Name == "Last" {
				continue // the sequence's current value, not its definition
			}
			h.str(f.Name)
			h.str(":")
			h.value(v.Field(i))
		}
	case reflect.Slice, reflect.Array:
		h.str("[")
		for i := 0; i < v.Len(); i++ {
			h.value(v.Index(i))
		}
		h.str("] ")
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		h.str("{")
		for _, k := range keys {
			h.value(k)
			h.value(v.MapIndex(k))
		}
		h.str("} ")
	case reflect.String:
		h.quoted("", v.String(), " ")
	case reflect.Bool:
		h.buf = strconv.AppendBool(h.buf, v.Bool())
		h.str(" ")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		h.buf = strconv.AppendInt(h.buf, v.Int(), 10)
		h.str(" ")
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		h.buf = strconv.AppendUint(h.buf, v.Uint(), 10)
		h.str(" ")
	case reflect.Float32, reflect.Float64:
		h.buf = strconv.AppendFloat(h.buf, v.Float(), 'g', -1, 64)
		h.str(" ")
	default:
		h.str(v.Kind().String())
		h.str(" ")
	}
}
