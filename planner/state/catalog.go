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

// The objects beside tables that keel manages itself (the schema engine
// does not model them). Each is described by the statement that creates
// it, as PostgreSQL prints it (pg_get_viewdef, pg_get_functiondef,
// pg_get_triggerdef, ...), names qualified, then maybe lines of keel's own
// (the markers below): its comment, a trigger's state, a sequence's owner.
// Table is the table of a trigger or policy, the materialized view of an
// index of one, the object of a privilege ("table orders", "function
// f(integer)", "schema"); Name is the object's name (a function's with
// its identity argument types: "f(integer, text)"), a privilege's grantee
// ("PUBLIC" for everyone).
const (
	CatalogView             = "view"
	CatalogMaterializedView = "materialized view"
	CatalogViewIndex        = "materialized view index"
	CatalogFunction         = "function"
	CatalogProcedure        = "procedure"
	CatalogTrigger          = "trigger"
	CatalogPolicy           = "policy"
	CatalogSequence         = "sequence"
	CatalogDomain           = "domain"
	CatalogType             = "type"
	CatalogCollation        = "collation"
	CatalogStatistics       = "statistics"
	// A grantee's privileges on an object where they are not the
	// object's default: "INSERT, SELECT WITH GRANT OPTION (default:
	// none)".
	CatalogPrivilege = "privilege"
	// That an object depends on another (pg_depend): Table holds the
	// dependent's kind, table and name, Name the referenced object's kind,
	// schema, table and name, each joined by "\x1f" (see Dependencies).
	// No difference of its own: it orders statements.
	CatalogDepends = "depends on"
)

// IsObjectKind reports whether kind is one of the objects beside tables
// (views, functions, ...).
func IsObjectKind(kind string) bool { return objectKinds[kind] }

// objectKinds are the kinds of the objects beside tables.
var objectKinds = map[string]bool{
	CatalogView: true, CatalogMaterializedView: true, CatalogViewIndex: true, CatalogFunction: true, CatalogProcedure: true,
	CatalogTrigger: true, CatalogPolicy: true, CatalogSequence: true, CatalogDomain: true, CatalogType: true,
	CatalogCollation: true, CatalogStatistics: true, CatalogPrivilege: true,
}

// The markers of keel's own lines in descriptions of objects, after the
// statement that creates the object.
const (
	// The comment, as a literal: "-- keel: comment 'text'".
	CommentMarker = "-- keel: comment "
	// A trigger's state other than enabled: "-- keel: DISABLE",
	// "-- keel: ENABLE REPLICA", "-- keel: ENABLE ALWAYS".
	TriggerMarker = "-- keel: "
	// A serial column's sequence (named TABLE_COLUMN_seq, the column's
	// default): the engine makes it with the column.
	SerialMarker = "-- keel: serial"
	// A view's columns and their types, in order: "-- keel: columns id
	// integer, name text" (whether CREATE OR REPLACE VIEW can change it).
	ColumnsMarker = "-- keel: columns "
	// An extended statistics object's target: "-- keel: statistics 500".
	StatisticsMarker = "-- keel: statistics "
)

// DependsOn reads a "depends on" key: the object and the one it depends
// on.
func DependsOn(k CatalogKey) (obj, ref CatalogKey, ok bool) {
	o := strings.Split(k.Table, "\x1f")
	r := strings.Split(k.Name, "\x1f")
	if k.Kind != CatalogDepends || len(o) != 3 || len(r) != 4 {
		return CatalogKey{}, CatalogKey{}, false
	}
	return CatalogKey{Kind: o[0], Schema: k.Schema, Table: o[1], Name: o[2]}, CatalogKey{Kind: r[0], Schema: r[1], Table: r[2], Name: r[3]}, true
}

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
		if k.Kind == CatalogDepends {
			continue
		}
		if l, ok := live[k]; !ok || l != d {
			out = append(out, CatalogDifference{Key: k, Desired: d, Live: l})
		}
	}
	for k, l := range live {
		if k.Kind == CatalogDepends {
			continue
		}
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

// EnumLabels reads the labels of an enum's description, "('a', 'b')".
func EnumLabels(desc string) []string { return enumLabels(desc) }

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
	keys := c.sortedKeys(func(CatalogKey) bool { return true })
	whole := sha256.New()
	objects := make(map[string]string, len(keys))
	for _, k := range keys {
		line := k.name + "\x00" + c[k.key] + "\n"
		whole.Write([]byte(line))
		objects[k.name] = shortHash([]byte(line))
	}
	return plan.Fingerprint{Hash: "sha256:" + hex.EncodeToString(whole.Sum(nil)), Objects: objects}
}

// namedKey is a catalog key and its String.
type namedKey struct {
	key  CatalogKey
	name string
}

// sortedKeys lists the catalog's keys that keep says to, sorted by their
// String (each printed once: printing them in every comparison took a
// quarter of a no-op plan's CPU at 1,000 tables).
func (c Catalog) sortedKeys(keep func(CatalogKey) bool) []namedKey {
	var keys []namedKey
	for k := range c {
		if keep(k) {
			keys = append(keys, namedKey{k, k.String()})
		}
	}
	slices.SortFunc(keys, func(a, b namedKey) int { return strings.Compare(a.name, b.name) })
	return keys
}

// keysWhere lists the catalog's keys that keep says to, sorted.
func (c Catalog) keysWhere(keep func(CatalogKey) bool) []CatalogKey {
	named := c.sortedKeys(keep)
	keys := make([]CatalogKey, len(named))
	for i, k := range named {
		keys[i] = k.key
	}
	return keys
}
