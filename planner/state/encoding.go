package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// EncodeRealm writes r in keel's own binary encoding, which DecodeRealm reads
// back to the same structures: what a cache entry stores. Printing a realm as
// the engine's HCL and parsing it back costs seconds on a large schema (the
// engine's printer is quadratic in the number of tables) and loses what HCL
// does not print; this walks the structures once, linearly.
//
// Every pointer is written once and referred to by number after that, so
// that the objects the realm shares (a foreign key's table, an index part's
// column, an enum both in its schema and in a column's type) are shared
// again when read, and back references (a table's schema) close. The values
// behind interfaces (attributes, types, expressions, objects) are written
// with their type's name; a type keel does not know, or a structure with a
// field it cannot set (unexported, a function), is an error: the caller
// does not cache then, it never stores a lossy entry.
func EncodeRealm(r *schema.Realm) (b []byte, err error) {
	// Never a Guard's placeholder (it may be encoded in the background).
	guardedTrees.RLock()
	defer guardedTrees.RUnlock()
	e := &encoder{ptrs: make(map[ptrKey]uint64), types: make(map[reflect.Type]uint64)}
	defer func() {
		if p := recover(); p != nil {
			ee, ok := p.(encodingError)
			if !ok {
				panic(p)
			}
			b, err = nil, ee
		}
	}()
	e.buf = append(e.buf, encodingMagic...)
	e.value(reflect.ValueOf(&r).Elem())
	return e.buf, nil
}

// DecodeRealm reads what EncodeRealm wrote.
func DecodeRealm(b []byte) (r *schema.Realm, err error) {
	if len(b) < len(encodingMagic) || string(b[:len(encodingMagic)]) != encodingMagic {
		return nil, errors.New("decoding a realm: not keel's encoding of a realm")
	}
	d := &decoder{b: b, off: len(encodingMagic)}
	defer func() {
		if p := recover(); p != nil {
			de, ok := p.(encodingError)
			if !ok {
				panic(p)
			}
			r, err = nil, de
		}
	}()
	d.value(reflect.ValueOf(&r).Elem())
	if d.off != len(d.b) {
		return nil, encodingError{"decoding a realm: trailing bytes"}
	}
	if r == nil {
		return nil, encodingError{"decoding a realm: no realm"}
	}
	return r, nil
}

// encodingMagic starts an encoded realm; its number changes with the form.
const encodingMagic = "keel-realm/1\n"

type encodingError struct{ msg string }

func (e encodingError) Error() string { return e.msg }

// encodingTypes are the types a value behind an interface may have, by
// name: the engine's schema and PostgreSQL types, as pointers (how the
// engine uses them) and as values.
var encodingTypes = func() map[string]reflect.Type {
	samples := []any{
		// schema
		schema.Realm{}, schema.Schema{}, schema.Table{}, schema.View{}, schema.Column{}, schema.ColumnType{},
		schema.Index{}, schema.IndexPart{}, schema.ForeignKey{}, schema.NamedDefault{},
		schema.EnumType{}, schema.BinaryType{}, schema.StringType{}, schema.BoolType{}, schema.IntegerType{},
		schema.DecimalType{}, schema.FloatType{}, schema.TimeType{}, schema.JSONType{}, schema.SpatialType{},
		schema.UUIDType{}, schema.UnsupportedType{}, schema.Literal{}, schema.RawExpr{}, schema.Comment{},
		schema.Charset{}, schema.Collation{}, schema.Check{}, schema.GeneratedExpr{}, schema.Pos{},
		// postgres
		postgres.ArrayType{}, postgres.BitType{}, postgres.CheckColumns{}, postgres.CompositeType{},
		postgres.Constraint{}, postgres.ConvertUsing{}, postgres.CurrencyType{}, postgres.DomainType{},
		postgres.Identity{}, postgres.IndexColumnProperty{}, postgres.IndexInclude{}, postgres.IndexNullsDistinct{},
		postgres.IndexOpClass{}, postgres.IndexPredicate{}, postgres.IndexStorageParams{}, postgres.IndexType{},
		postgres.IntervalType{}, postgres.NetworkType{}, postgres.NoInherit{}, postgres.NotValid{}, postgres.OID{},
		postgres.OIDType{}, postgres.Operator{}, postgres.Partition{}, postgres.PartitionPart{}, postgres.PseudoType{},
		postgres.RangeType{}, postgres.RowType{}, postgres.Sequence{}, postgres.SerialType{},
		postgres.TextSearchType{}, postgres.UserDefinedType{}, postgres.XMLType{},
	}
	m := make(map[string]reflect.Type, 2*len(samples))
	for _, s := range samples {
		t := reflect.TypeOf(s)
		m[t.String()] = t
		m[reflect.PointerTo(t).String()] = reflect.PointerTo(t)
	}
	return m
}()

type ptrKey struct {
	p uintptr
	t reflect.Type
}

type encoder struct {
	buf   []byte
	ptrs  map[ptrKey]uint64
	types map[reflect.Type]uint64
}

func (e *encoder) uvarint(n uint64) { e.buf = binary.AppendUvarint(e.buf, n) }

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			e.uvarint(0)
			return
		}
		k := ptrKey{v.Pointer(), v.Type()}
		if id, ok := e.ptrs[k]; ok {
			e.uvarint(id + 2)
			return
		}
		e.ptrs[k] = uint64(len(e.ptrs))
		e.uvarint(1)
		e.value(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			e.uvarint(0)
			return
		}
		dyn := v.Elem().Type()
		if id, ok := e.types[dyn]; ok {
			e.uvarint(id + 2)
		} else {
			if encodingTypes[dyn.String()] != dyn {
				panic(encodingError{fmt.Sprintf("encoding a realm: type %s is not one keel encodes", dyn)})
			}
			e.types[dyn] = uint64(len(e.types))
			e.uvarint(1)
			e.str(dyn.String())
		}
		e.value(v.Elem())
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if !t.Field(i).IsExported() {
				if !v.Field(i).IsZero() {
					panic(encodingError{fmt.Sprintf("encoding a realm: %s.%s is not exported", t, t.Field(i).Name)})
				}
				continue
			}
			e.value(v.Field(i))
		}
	case reflect.Slice:
		if v.IsNil() {
			e.uvarint(0)
			return
		}
		e.uvarint(uint64(v.Len()) + 1)
		for i := 0; i < v.Len(); i++ {
			e.value(v.Index(i))
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			e.value(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			e.uvarint(0)
			return
		}
		if v.Type().Key().Kind() != reflect.String {
			panic(encodingError{fmt.Sprintf("encoding a realm: map %s", v.Type())})
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		e.uvarint(uint64(len(keys)) + 1)
		for _, k := range keys {
			e.value(k)
			e.value(v.MapIndex(k))
		}
	case reflect.String:
		e.str(v.String())
	case reflect.Bool:
		if v.Bool() {
			e.buf = append(e.buf, 1)
		} else {
			e.buf = append(e.buf, 0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = binary.AppendVarint(e.buf, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.uvarint(v.Uint())
	case reflect.Float32, reflect.Float64:
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(v.Float()))
	default:
		panic(encodingError{fmt.Sprintf("encoding a realm: a value of kind %s (%s)", v.Kind(), v.Type())})
	}
}

type decoder struct {
	b     []byte
	off   int
	ptrs  []reflect.Value
	types []reflect.Type
}

func (d *decoder) fail(what string) {
	panic(encodingError{"decoding a realm: " + what + " (a damaged entry?)"})
}

func (d *decoder) uvarint() uint64 {
	n, k := binary.Uvarint(d.b[d.off:])
	if k <= 0 {
		d.fail("a bad number")
	}
	d.off += k
	return n
}

func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("a length past the end")
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.count()
	if d.off+n > len(d.b) {
		d.fail("a string past the end")
	}
	s := string(d.b[d.off : d.off+n])
	d.off += n
	return s
}

func (d *decoder) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		switch n := d.uvarint(); n {
		case 0:
		case 1:
			p := reflect.New(v.Type().Elem())
			d.ptrs = append(d.ptrs, p)
			d.value(p.Elem())
			v.Set(p)
		default:
			if n-2 >= uint64(len(d.ptrs)) || d.ptrs[n-2].Type() != v.Type() {
				d.fail("a reference to nothing")
			}
			v.Set(d.ptrs[n-2])
		}
	case reflect.Interface:
		var t reflect.Type
		switch n := d.uvarint(); n {
		case 0:
			return
		case 1:
			name := d.str()
			if t = encodingTypes[name]; t == nil {
				d.fail("type " + name)
			}
			d.types = append(d.types, t)
		default:
			if n-2 >= uint64(len(d.types)) {
				d.fail("a reference to no type")
			}
			t = d.types[n-2]
		}
		if !t.Implements(v.Type()) {
			d.fail(t.String() + " where " + v.Type().String() + " goes")
		}
		x := reflect.New(t).Elem()
		d.value(x)
		v.Set(x)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				d.value(v.Field(i))
			}
		}
	case reflect.Slice:
		n := d.count()
		if n == 0 {
			return
		}
		s := reflect.MakeSlice(v.Type(), n-1, n-1)
		for i := 0; i < n-1; i++ {
			d.value(s.Index(i))
		}
		v.Set(s)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			d.value(v.Index(i))
		}
	case reflect.Map:
		n := d.count()
		if n == 0 {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), n-1)
		for i := 0; i < n-1; i++ {
			k := reflect.New(v.Type().Key()).Elem()
			d.value(k)
			x := reflect.New(v.Type().Elem()).Elem()
			d.value(x)
			m.SetMapIndex(k, x)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(d.str())
	case reflect.Bool:
		if d.off >= len(d.b) || d.b[d.off] > 1 {
			d.fail("a bad boolean")
		}
		v.SetBool(d.b[d.off] == 1)
		d.off++
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, k := binary.Varint(d.b[d.off:])
		if k <= 0 {
			d.fail("a bad number")
		}
		d.off += k
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(d.uvarint())
	case reflect.Float32, reflect.Float64:
		if d.off+8 > len(d.b) {
			d.fail("a number past the end")
		}
		v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.off:])))
		d.off += 8
	default:
		d.fail("a value of kind " + v.Kind().String())
	}
}
