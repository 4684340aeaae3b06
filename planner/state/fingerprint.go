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
	"sync/atomic"

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
		s.shortObjects, s.fullObjects = realmObjects(s.Realm, nil)
	}
	return s.shortObjects, s.fullObjects
}

// HashTablesFrom lets s take the hashes of from's tables for its own, for
// a state whose realm is from's changed in place (or composed from it):
// every table of s but those changed names is a table of from as from's
// hashes were computed, unchanged; changed ones (replaced, added, removed)
// are hashed again, and so are the schemas and their objects. At 1,000
// tables hashing them all takes 40-90 ms; a plan after a change to one
// hashes the target's state and the desired state, both made this way. It
// does nothing when from's tables were not hashed, or s's already are.
func (s *State) HashTablesFrom(from *State, changed func(schemaName, table string) bool) {
	if from == nil || from.fullObjects == nil || s.fullObjects != nil {
		return
	}
	prev := from.fullObjects
	s.shortObjects, s.fullObjects = realmObjects(s.Realm, func(schemaName, table, key string) (string, bool) {
		if changed(schemaName, table) {
			return "", false
		}
		full, ok := prev[key]
		return full, ok
	})
	tablesHashedFrom.Add(1)
}

// SameTables names the tables ("schema\x00table") that a and b both have
// and that hash the same (as a fingerprint hashes each table: every
// column, index, foreign key and attribute the engine reads). It is nil
// unless both states' tables are hashed already: it computes nothing.
func SameTables(a, b *State) map[string]bool {
	if a == nil || b == nil || a.fullObjects == nil || b.fullObjects == nil || a.Realm == nil {
		return nil
	}
	same := make(map[string]bool)
	for _, s := range a.Realm.Schemas {
		for _, t := range s.Tables {
			key := blockKey("table", []string{t.Name}, s.Name)
			if h := a.fullObjects[key]; h != "" && h == b.fullObjects[key] {
				same[s.Name+"\x00"+t.Name] = true
			}
		}
	}
	return same
}

// tablesHashedFrom counts the states whose tables' hashes were taken from
// another's (for tests).
var tablesHashedFrom atomic.Int64

// TablesHashedFrom is how many states in this process took the hashes of
// their unchanged tables from another state's (HashTablesFrom).
func TablesHashedFrom() int64 { return tablesHashedFrom.Load() }

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
// a fingerprint's Objects, and full ones for its whole hash. reuse, when
// not nil, gives the full hash of a table known already (ok false: it is
// hashed).
func realmObjects(r *schema.Realm, reuse func(schemaName, table, key string) (full string, ok bool)) (short, full map[string]string) {
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
			key := blockKey("table", []string{t.Name}, s.Name)
			if reuse != nil && full[key] == "" {
				if known, ok := reuse(s.Name, t.Name, key); ok && len(known) == 2*sha256.Size {
					full[key], short[key] = known, known[:16]
					continue
				}
			}
			add(key, func(h *hasher) { h.table(t) })
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
