package state

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
)

// A Catalog describes what PostgreSQL's catalog holds about the objects
// keel manages in some schemas: each object (a table, a column, a
// constraint, an index, an enum) by a description PostgreSQL prints itself
// (pg_get_indexdef, pg_get_constraintdef, pg_get_expr, format_type, ...),
// so that two databases on one server describe the same object the same
// way. It does not trust the engine: what the engine does not model
// (storage parameters, persistence, deferrable constraints, identity
// options, inheritance, column storage and compression, ...) is in it too.
// inspect.ReadCatalog reads one.
type Catalog map[CatalogKey]string

// A CatalogKey names an object of a Catalog. Table is empty for tables and
// enums (their name is Name); columns, constraints and indexes belong to
// the table Table.
type CatalogKey struct {
	Kind   string `json:"kind"`
	Schema string `json:"schema"`
	Table  string `json:"table,omitempty"`
	Name   string `json:"name"`
}

// The kinds of a CatalogKey.
const (
	CatalogTable      = "table"
	CatalogColumn     = "column"
	CatalogConstraint = "constraint"
	CatalogIndex      = "index"
	CatalogEnum       = "enum"
)

// The settings of tables, columns and constraints that keel plans itself
// (the schema engine does not model them), each its own object of the
// catalog so that a difference in one is planned as one statement. They
// are in a catalog only where they are not PostgreSQL's default. Table is
// the table; Name is the column or constraint, the storage parameter, or
// empty for the table's persistence and replica identity.
const (
	// "unlogged".
	CatalogPersistence = "table persistence"
	// A storage parameter of the table (fillfactor, autovacuum_enabled,
	// toast.autovacuum_enabled, ...) and its value as PostgreSQL keeps it.
	CatalogStorageParameter = "storage parameter"
	// "full", "nothing" or "index NAME".
	CatalogReplicaIdentity = "replica identity"
	// The column's storage, and the type's own: "external (the type's: extended)".
	CatalogColumnStorage = "column storage"
	// The column's compression method: "pglz" or "lz4".
	CatalogColumnCompression = "column compression"
	// The column's statistics target: "500".
	CatalogColumnStatistics = "column statistics"
	// An identity column's sequence options that are not the default:
	// "minvalue 5 maxvalue 100 cache 20 cycle".
	CatalogIdentityOptions = "identity options"
	// The comment on a constraint, as written.
	CatalogConstraintComment = "constraint comment"
	// The table a partition is of and its bound: "public.t FOR VALUES FROM
	// (1) TO (10)", names as quote_ident prints them.
	CatalogPartition = "partition"
	// The tables a table inherits from, in order: "public.a, public.b".
	CatalogInherits = "inherits"
)

// String names the object as plans do: "column public.users.email".
func (k CatalogKey) String() string {
	if k.Table == "" {
		return k.Kind + " " + plan.DisplayName(k.Schema, k.Name)
	}
	if k.Name == "" {
		return k.Kind + " " + plan.DisplayName(k.Schema, k.Table)
	}
	return k.Kind + " " + plan.DisplayName(k.Schema, k.Table) + "." + plan.DisplayPart(k.Name)
}

// Owner is the table or enum the object belongs to (itself for tables and
// enums).
func (k CatalogKey) Owner() CatalogKey {
	if k.Table == "" {
		return k
	}
	return CatalogKey{Kind: CatalogTable, Schema: k.Schema, Name: k.Table}
}

// CatalogDifference is an object that differs between two catalogs.
type CatalogDifference struct {
	Key CatalogKey
	// Desired and Live are the descriptions (never empty); "" where the
	// object is missing.
	Desired, Live string
}

// Differences lists the objects that differ from live to desired, sorted.
func (desired Catalog) Differences(live Catalog) []CatalogDifference {
	var out []CatalogDifference
	for k, d := range desired {
		if l, ok := live[k]; !ok || l != d {
			out = append(out, CatalogDifference{Key: k, Desired: d, Live: l})
		}
	}
	for k, l := range live {
		if _, ok := desired[k]; !ok {
			out = append(out, CatalogDifference{Key: k, Live: l})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key.String() < out[j].Key.String() })
	return out
}

// PlanDifferences turns differences into the plan's form.
func PlanDifferences(diffs []CatalogDifference) []plan.Difference {
	out := make([]plan.Difference, 0, len(diffs))
	for _, d := range diffs {
		out = append(out, plan.Difference{Object: d.Key.String(), Desired: orMissing(d.Desired), Live: orMissing(d.Live), Why: d.why()})
	}
	return out
}

// why says why keel does not plan a difference, for the kinds it knows it
// does not: "" otherwise.
func (d CatalogDifference) why() string {
	either := func(s string) bool { return strings.Contains(d.Desired, s) != strings.Contains(d.Live, s) }
	switch d.Key.Kind {
	case CatalogEnum:
		if d.Desired == "" || d.Live == "" {
			return ""
		}
		want, have := enumLabels(d.Desired), enumLabels(d.Live)
		for _, l := range have {
			if !slices.Contains(want, l) {
				return "PostgreSQL cannot drop a value from an enum: re-create the type in a reviewed migration by hand, or keep the value in the desired state"
			}
		}
		if len(want) == len(have) {
			return "PostgreSQL cannot reorder the values of an enum: re-create the type in a reviewed migration by hand, or keep the order in the desired state"
		}
	case CatalogTable:
		switch {
		case either("row level security"):
			return "row-level security is not managed by keel yet"
		case either("partition by "):
			return "a table's partition key cannot change: PostgreSQL needs the table re-created"
		case either(" of "):
			return "typed tables (OF type) are not managed by keel yet"
		}
	case CatalogColumn:
		switch {
		case either("owns sequence"):
			return "which column owns a sequence (serial, OWNED BY) is not managed by keel yet"
		case either(" inherited"):
			return "table inheritance is not managed by keel yet"
		}
	}
	return ""
}

// enumLabels reads the labels of an enum's description, "('a', 'b')".
func enumLabels(desc string) []string {
	toks, err := pgsql.Lex(desc)
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range toks {
		if t.Kind == pgsql.Other && t.Text == ")" {
			break
		}
		if t.Kind == pgsql.String {
			out = append(out, t.Value)
		}
	}
	return out
}

func orMissing(s string) string {
	if s == "" {
		return "(missing)"
	}
	return s
}

// only keeps the objects of the given schemas.
func (c Catalog) only(keep map[string]bool) Catalog {
	if c == nil {
		return nil
	}
	out := make(Catalog, len(c))
	for k, v := range c {
		if keep[k.Schema] {
			out[k] = v
		}
	}
	return out
}

// Fingerprint identifies the catalog: a hash of the whole and one per
// object, so that two fingerprints say which objects changed.
func (c Catalog) Fingerprint() plan.Fingerprint {
	keys := make([]CatalogKey, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	whole := sha256.New()
	objects := make(map[string]string, len(keys))
	for _, k := range keys {
		line := k.String() + "\x00" + c[k] + "\n"
		whole.Write([]byte(line))
		objects[k.String()] = shortHash([]byte(line))
	}
	return plan.Fingerprint{Hash: "sha256:" + hex.EncodeToString(whole.Sum(nil)), Objects: objects}
}
