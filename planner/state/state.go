// Package state holds a schema state (the engine's realm plus the
// extensions keel manages beside it) and its HCL form: reading Atlas HCL
// (strictly: what the engine would skip or misread is an error), printing a
// state as HCL that reads back, fingerprints and structural hashes, and the
// Guard that keeps the engine from writing names into SQL wrongly.
package state

import (
	"sort"
	"strings"

	"keel/planner/plan"

	"ariga.io/atlas/sql/schema"
)

// State is one schema state: the tables, enums and schemas the Atlas engine
// models, plus the extensions keel manages beside them.
type State struct {
	// Realm holds the schemas, tables and enums.
	Realm *schema.Realm
	// Extensions are the installed (or desired) extensions, sorted by name.
	Extensions []plan.Extension
	// Positions maps objects of a desired state ("table public.users",
	// "enum public.status", "schema billing") to where they are declared
	// ("schema.hcl:12"), for error messages.
	Positions map[string]string
	// Invalid are indexes of a live state left INVALID by a failed
	// CREATE INDEX CONCURRENTLY. They are left out of Realm, so that a plan
	// builds them again.
	Invalid []InvalidIndex
	// NotManaged lists objects of a desired state read from SQL or a
	// database that keel does not manage: plans do not create them.
	NotManaged []plan.Object
	// Catalog is what PostgreSQL's catalog says of the state's objects,
	// when the state was read from a database (a throwaway one for a
	// desired state); nil when it was not.
	Catalog Catalog
	// Settings are what a desired state read from HCL says of its tables,
	// columns and constraints that the engine does not model (see
	// Setting), in the order written; loading it into the throwaway
	// database sets them. Nil for other states.
	Settings []Setting
	// Using maps the columns of a desired state read from HCL that have a
	// `using` attribute (Key.Kind CatalogColumn) to their conversion: the
	// expression ALTER COLUMN ... TYPE ... USING takes when a plan changes
	// the column's type. It is no part of the catalog or the fingerprint:
	// it says how to get to a state, not what the state is (a plan carries
	// the statement it made with it). Normalizing keeps it.
	Using map[CatalogKey]Conversion
	// Partitions are the partitions a desired state read from HCL
	// declares, parents before their sub-partitions; loading it into the
	// throwaway database creates them after the engine's statements (the
	// engine does not see partitions). The normalized state has them in
	// its catalog instead. Nil for other states.
	Partitions []Partition
	// Inherits are the tables a desired state read from HCL declares
	// with `inherits`, each after those of its parents that inherit too;
	// loading it into the throwaway database creates them with their
	// INHERITS clause, after their parents. The normalized state has them
	// in its catalog instead. Nil for other states.
	Inherits []Inherit
	// Objects are what a desired state read from HCL declares beside
	// tables that the engine does not model (views, functions, triggers,
	// ...; see ObjectDecl), in the order written; loading it into the
	// throwaway database creates them. The normalized state has them in its
	// catalog instead. Nil for other states.
	Objects []ObjectDecl

	// fingerprint is computed once, by Fingerprint; realm by RealmHash;
	// both from the hashes of the realm's objects (realmObjects).
	fingerprint               *plan.Fingerprint
	realm                     string
	shortObjects, fullObjects map[string]string
}

// RealmHash is the RealmHash of the state's realm, computed once.
func (s *State) RealmHash() string {
	if s.realm == "" {
		_, full := s.realmObjects()
		s.realm = realmHashOf(full)
	}
	return s.realm
}

// Conversion is a column's `using` attribute.
type Conversion struct {
	// Expr is the expression as written: one SQL expression.
	Expr string `json:"expr"`
	// Pos is where it is written: "schema.hcl:12:5".
	Pos string `json:"pos"`
}

// InvalidIndex names an index PostgreSQL marked invalid.
type InvalidIndex struct {
	Schema, Table, Name string
}

// SchemaNames returns the names of the schemas of the state's realm.
func (s *State) SchemaNames() []string {
	names := make([]string, 0, len(s.Realm.Schemas))
	for _, sc := range s.Realm.Schemas {
		names = append(names, sc.Name)
	}
	return names
}

func sortExtensions(exts []plan.Extension) {
	sort.Slice(exts, func(i, j int) bool { return exts[i].Name < exts[j].Name })
}

// Only returns the state restricted to the given schemas (all when empty):
// a desired state read from SQL or a database holds every schema, and the
// plan manages only some.
func (s *State) Only(schemas []string) *State {
	if len(schemas) == 0 {
		return s
	}
	keep := make(map[string]bool, len(schemas))
	for _, n := range schemas {
		keep[n] = true
	}
	out := *s
	out.fingerprint, out.realm = nil, ""
	realm := *s.Realm
	realm.Schemas = nil
	for _, sc := range s.Realm.Schemas {
		if keep[sc.Name] {
			realm.Schemas = append(realm.Schemas, sc)
		}
	}
	out.Realm = &realm
	out.NotManaged = nil
	out.Catalog = s.Catalog.only(keep)
	out.Settings = nil
	for _, st := range s.Settings {
		if keep[st.Key.Schema] {
			out.Settings = append(out.Settings, st)
		}
	}
	out.Partitions = nil
	for _, p := range s.Partitions {
		if keep[p.Schema] {
			out.Partitions = append(out.Partitions, p)
		}
	}
	out.Inherits = nil
	for _, in := range s.Inherits {
		if keep[in.Schema] {
			out.Inherits = append(out.Inherits, in)
		}
	}
	out.Objects = nil
	for _, o := range s.Objects {
		if keep[o.Schema] {
			out.Objects = append(out.Objects, o)
		}
	}
	out.Using = nil
	for k, u := range s.Using {
		if keep[k.Schema] {
			if out.Using == nil {
				out.Using = make(map[CatalogKey]Conversion)
			}
			out.Using[k] = u
		}
	}
	for _, o := range s.NotManaged {
		if sc, _, ok := strings.Cut(o.Name, "."); ok && keep[sc] {
			out.NotManaged = append(out.NotManaged, o)
		}
	}
	return &out
}
