package state

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"

	"ariga.io/atlas/sql/schema"

	"keel/planner/plan"
)

// Fingerprint computes the state's fingerprint from keel's own encoding of
// its realm (each schema, table and schema-level object hashed apart, as
// RealmHash walks them: object ids and an identity's current value left
// out, attributes in any order), its extensions and, when it has a catalog,
// the catalog's settings and constraints (what keel's HCL says beyond the
// engine's realm). It is computed once per state: a State is not changed
// after it is read. (It used to hash the engine's HCL form of the realm,
// whose printer is quadratic in the number of tables.)
func (s *State) Fingerprint() (plan.Fingerprint, error) {
	if s.fingerprint != nil {
		return *s.fingerprint, nil
	}
	short, full := s.realmObjects()
	objects := maps.Clone(short)
	whole := sha256.New()
	writeObjects(whole, full)
	for _, e := range s.Extensions {
		line := fmt.Sprintf("extension %q schema=%q version=%q comment=%q\n", e.Name, e.Schema, e.Version, e.Comment)
		objects["extension "+e.Name] = shortHash([]byte(line))
		whole.Write([]byte(line))
	}
	// What the realm does not carry and the desired state can say (a
	// storage parameter, a constraint's timing or comment, ...): a change
	// of it is another desired state. Live states, read without their
	// catalog, fingerprint as before.
	for _, k := range s.Catalog.beyondRealm() {
		line := k.String() + "\x00" + s.Catalog[k] + "\n"
		objects[k.String()] = shortHash([]byte(line))
		whole.Write([]byte(line))
	}
	// Views, functions, triggers, ...: the engine does not see them.
	for _, k := range s.Catalog.keysWhere(func(k CatalogKey) bool { return objectKinds[k.Kind] }) {
		line := k.String() + "\x00" + s.Catalog[k] + "\n"
		objects[k.String()] = shortHash([]byte(line))
		whole.Write([]byte(line))
	}
	// Partitions, which the engine does not see: each one's parent and
	// bound, and its table's description (its own partition key, its
	// comment). A partition added, dropped or re-bounded is another state.
	for _, k := range s.Catalog.partitions() {
		table := CatalogKey{Kind: CatalogTable, Schema: k.Schema, Name: k.Table}
		line := k.String() + "\x00" + s.Catalog[k] + "\x00" + s.Catalog[table] + "\n"
		objects["table "+plan.DisplayName(k.Schema, k.Table)] = shortHash([]byte(line))
		whole.Write([]byte(line))
	}
	// Inheritance, which the engine does not see: each child's parents,
	// in order. A table that comes to inherit, or stops, is another state.
	for _, k := range s.Catalog.inheritsKeys() {
		line := k.String() + "\x00" + s.Catalog[k] + "\n"
		objects[k.String()] = shortHash([]byte(line))
		whole.Write([]byte(line))
	}
	fp := plan.Fingerprint{Hash: "sha256:" + hex.EncodeToString(whole.Sum(nil)), Objects: objects}
	s.fingerprint = &fp
	return fp, nil
}

// realmObjects is realmObjects of the state's realm, computed once (for its
// realm hash and its fingerprint).
func (s *State) realmObjects() (short, full map[string]string) {
	if s.fullObjects == nil {
		s.shortObjects, s.fullObjects = realmObjects(s.Realm)
	}
	return s.shortObjects, s.fullObjects
}

// writeObjects writes each object's hash, in the order of their names.
func writeObjects(w io.Writer, full map[string]string) {
	var b []byte
	for _, k := range slices.Sorted(maps.Keys(full)) {
		b = append(append(append(append(b[:0], k...), 0), full[k]...), '\n')
		w.Write(b)
	}
}

// SetFingerprint records the state's fingerprint, known from elsewhere (a
// cache entry made from the same state), so that it is not computed again.
func (s *State) SetFingerprint(fp plan.Fingerprint) { s.fingerprint = &fp }

// blockKey names a top-level HCL block as steps name objects: "table public.users".
func blockKey(typ string, labels []string, schema string) string {
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = plan.DisplayPart(l)
	}
	name := strings.Join(parts, ".")
	if schema != "" && typ != "schema" && len(labels) == 1 {
		name = plan.DisplayPart(schema) + "." + name
	}
	return typ + " " + name
}

func shortHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// realmObjects hashes each schema, schema-level object and table of r on its
// own, keyed as steps name objects ("table public.users"): short hashes for
// a fingerprint's Objects, and full ones for its whole hash.
func realmObjects(r *schema.Realm) (short, full map[string]string) {
	short, full = make(map[string]string), make(map[string]string)
	h := newHasher() // one for all, started again for each object
	add := func(key string, write func(h *hasher)) {
		h.h.Reset()
		write(h)
		sum := h.sum()
		// Two objects under one name (not expected) both count.
		for n, base := 2, key; full[key] != ""; n++ {
			key = fmt.Sprintf("%s #%d", base, n)
		}
		full[key] = hex.EncodeToString(sum)
		short[key] = hex.EncodeToString(sum[:8])
	}
	if r == nil {
		return short, full
	}
	if len(r.Attrs) > 0 || len(r.Objects) > 0 {
		add("realm", func(h *hasher) {
			h.attrs(r.Attrs)
			h.objects(r.Objects)
		})
	}
	for _, s := range r.Schemas {
		add(blockKey("schema", []string{s.Name}, ""), func(h *hasher) {
			h.schema(s.Name)
			h.attrs(s.Attrs)
		})
		for _, o := range s.Objects {
			add(objectKey(s.Name, o), func(h *hasher) { h.objects([]schema.Object{o}) })
		}
		for _, t := range s.Tables {
			add(blockKey("table", []string{t.Name}, s.Name), func(h *hasher) { h.table(t) })
		}
	}
	return short, full
}

// objectKey names a schema-level object of the engine's: "enum public.mood".
func objectKey(schemaName string, o schema.Object) string {
	if e, ok := o.(*schema.EnumType); ok {
		return blockKey("enum", []string{e.T}, schemaName)
	}
	v := reflect.Indirect(reflect.ValueOf(o))
	kind := strings.ToLower(v.Type().Name())
	if v.Kind() == reflect.Struct {
		for _, f := range []string{"T", "Name"} {
			if n := v.FieldByName(f); n.IsValid() && n.Kind() == reflect.String {
				return blockKey(kind, []string{n.String()}, schemaName)
			}
		}
	}
	return blockKey(kind, nil, schemaName)
}
