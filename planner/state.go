// Package planner computes and applies the changes that bring a PostgreSQL
// database to a desired schema. It is the library behind the keel CLI: a test
// or an application's start-up check can plan and apply without the CLI.
package planner

import (
	"sort"

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

	// fingerprint is computed once, by Fingerprint; realm by realmHash.
	fingerprint *plan.Fingerprint
	realm       string
}

// realmHash is realmHash of the state's realm, computed once.
func (s *State) realmHash() string {
	if s.realm == "" {
		s.realm = realmHash(s.Realm)
	}
	return s.realm
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
