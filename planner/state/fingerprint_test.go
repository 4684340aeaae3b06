package state

import (
	"os"
	"slices"
	"strings"
	"testing"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

func parsedState(t *testing.T, path string) *State {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseHCL([]string{path}, [][]byte{src})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A realm read back from keel's encoding is the same realm: the same hash
// and fingerprint, and the objects it shares are shared again.
func TestEncodeRealmReadsBack(t *testing.T) {
	for _, path := range []string{"../../schema.hcl", "testdata/blocks.hcl"} {
		st := parsedState(t, path)
		b, err := EncodeRealm(st.Realm)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r, err := DecodeRealm(b)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if got, want := RealmHash(r), st.RealmHash(); got != want {
			t.Fatalf("%s: read back, the realm hashes %s, not %s", path, got, want)
		}
		fp, _ := (&State{Realm: st.Realm}).Fingerprint()
		back, _ := (&State{Realm: r}).Fingerprint()
		if fp.Hash != back.Hash {
			t.Fatalf("%s: read back, the fingerprint changed: %v", path, fp.Changes(back))
		}
		for _, s := range r.Schemas {
			if s.Realm != r {
				t.Fatalf("%s: schema %s does not point at its realm", path, s.Name)
			}
			for _, tb := range s.Tables {
				if tb.Schema != s {
					t.Fatalf("%s: table %s does not point at its schema", path, tb.Name)
				}
				for _, fk := range tb.ForeignKeys {
					if fk.Table != tb || fk.RefTable.Schema == nil || !has(fk.RefTable.Schema.Tables, fk.RefTable) {
						t.Fatalf("%s: foreign key %s does not point at the realm's tables", path, fk.Symbol)
					}
					for _, c := range fk.RefColumns {
						if !has(fk.RefTable.Columns, c) {
							t.Fatalf("%s: foreign key %s refers to a column its table does not have", path, fk.Symbol)
						}
					}
				}
				for _, c := range tb.Columns {
					if e, ok := c.Type.Type.(*schema.EnumType); ok && (e.Schema == nil || !hasObject(e.Schema.Objects, e)) {
						t.Fatalf("%s: column %s.%s has an enum its schema does not hold", path, tb.Name, c.Name)
					}
				}
			}
		}
	}
}

func has[T comparable](list []T, x T) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}

func hasObject(list []schema.Object, x schema.Object) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}

// An encoding cut short or changed reads as an error, never as a realm.
func TestDecodeRealmRefusesDamage(t *testing.T) {
	b, err := EncodeRealm(parsedState(t, "../../schema.hcl").Realm)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n += 7 {
		if _, err := DecodeRealm(b[:n]); err == nil {
			t.Fatalf("the first %d of %d bytes read as a realm", n, len(b))
		}
	}
	bad := append([]byte{}, b...)
	bad = []byte(strings.Replace(string(bad), "*schema.IntegerType", "*schema.IntegerTyp_", 1))
	if _, err := DecodeRealm(bad); err == nil || !strings.Contains(err.Error(), "IntegerTyp_") {
		t.Fatalf("an unknown type name reads: %v", err)
	}
}

// A type keel does not know is not encoded (an entry would lose it).
func TestEncodeRealmRefusesUnknownTypes(t *testing.T) {
	type mine struct{ schema.Attr }
	r := schema.NewRealm(schema.New("public").AddTables(schema.NewTable("t").AddAttrs(&mine{})))
	if _, err := EncodeRealm(r); err == nil || !strings.Contains(err.Error(), "mine") {
		t.Fatalf("an unknown attribute type is encoded: %v", err)
	}
}

// A fingerprint says which object changed, and not for an object id or an
// identity's current value.
func TestFingerprintNamesTheChangedObject(t *testing.T) {
	fp := func(st *State) map[string]string {
		f, err := (&State{Realm: st.Realm}).Fingerprint()
		if err != nil {
			t.Fatal(err)
		}
		return f.Objects
	}
	st := parsedState(t, "../../schema.hcl")
	before := fp(st)
	users, ok := st.Realm.Schemas[0].Table("users")
	if !ok || len(users.Columns) < 2 {
		t.Fatal("schema.hcl has no users table with columns")
	}
	users.AddAttrs(&postgres.OID{V: 12345})
	for _, c := range users.Columns {
		for _, a := range c.Attrs {
			if id, ok := a.(*postgres.Identity); ok && id.Sequence != nil {
				id.Sequence.Last = 99
			}
		}
	}
	if after := fp(st); !equalMaps(before, after) {
		t.Fatalf("an object id or identity value changed the fingerprint:\n%v\n%v", before, after)
	}
	users.Columns[1].Default = &schema.RawExpr{X: "'changed'"}
	after := fp(st)
	var changed []string
	for k, v := range after {
		if before[k] != v {
			changed = append(changed, k)
		}
	}
	if len(changed) != 1 || changed[0] != "table public.users" || len(after) != len(before) {
		t.Fatalf("a changed default changed %v", changed)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A state whose realm is another's changed in place takes the hashes of
// the unchanged tables from it and hashes the changed ones again: its
// fingerprint and realm hash are those of hashing it whole, after a
// table's default changed, a table was added and one removed.
func TestHashTablesFromIsHashingWhole(t *testing.T) {
	st := parsedState(t, "../../schema.hcl")
	from := &State{Realm: st.Realm}
	if _, err := from.Fingerprint(); err != nil {
		t.Fatal(err)
	}
	s := st.Realm.Schemas[0]
	users, ok := s.Table("users")
	if !ok || len(users.Columns) < 2 || len(s.Tables) < 2 {
		t.Fatal("schema.hcl has no users table with columns, or one table only")
	}
	users.Columns[1].Default = &schema.RawExpr{X: "'changed'"}
	gone := s.Tables[len(s.Tables)-1]
	if gone == users {
		gone = s.Tables[0]
	}
	s.Tables = slices.DeleteFunc(s.Tables, func(t *schema.Table) bool { return t == gone })
	s.AddTables(schema.NewTable(`we"ird`).AddColumns(schema.NewStringColumn("a", "text")))
	changed := map[string]bool{"users": true, gone.Name: true, `we"ird`: true}
	whole, err := (&State{Realm: st.Realm}).Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	n := TablesHashedFrom()
	derived := &State{Realm: st.Realm}
	derived.HashTablesFrom(from, func(schemaName, table string) bool { return schemaName == s.Name && changed[table] })
	if TablesHashedFrom() != n+1 {
		t.Fatal("the hashes of the unchanged tables were not taken")
	}
	got, err := derived.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash != whole.Hash || !equalMaps(got.Objects, whole.Objects) || derived.RealmHash() != RealmHash(st.Realm) {
		t.Fatalf("taking the unchanged tables' hashes: %v", whole.Changes(got))
	}
	// users not named as changed: its old hash is taken, which differs.
	stale := &State{Realm: st.Realm}
	stale.HashTablesFrom(from, func(schemaName, table string) bool { return schemaName == s.Name && table != "users" && changed[table] })
	if fp, _ := stale.Fingerprint(); fp.Hash == whole.Hash {
		t.Fatal("test bug: the changed default does not change the hash")
	}
}
