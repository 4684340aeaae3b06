package inspect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"keel/planner/pg"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"github.com/jackc/pgx/v5"
)

// The engine finds a table by name, for each row it reads, by walking the
// schema's tables: its inspection of n tables costs n² comparisons (2 s of
// CPU at 5,000 tables). A schema of batchFrom tables or more is inspected
// batchSize tables at a time, each batch alone, and the batches joined
// (pg.DB.WithTableBatches sets another size, from one table on; with
// WithEngineQueries the engine inspects alone).
const (
	batchFrom = 1500
	batchSize = 500
)

// inspectRealm is the engine's InspectRealm of schemas, in batches for one
// large schema (more schemas are inspected at once: a table may use another
// schema's enum, which only a realm of all of them resolves).
func (l *Live) inspectRealm(ctx context.Context, schemas []string) (*schema.Realm, error) {
	whole := func() (*schema.Realm, error) {
		return l.drv.InspectRealm(ctx, &schema.InspectRealmOption{Schemas: schemas})
	}
	from, size := batchFrom, batchSize
	if n := l.db.DB().TableBatches(); n > 0 {
		from, size = 1, n
	}
	if len(schemas) != 1 || l.db.DB().EngineQueries() {
		return whole()
	}
	names, err := l.tableNames(ctx, schemas[0])
	if err != nil {
		return nil, err
	}
	if len(names) < from {
		return whole()
	}
	// The schema and its enums, as the whole inspection reads them.
	r, err := l.drv.InspectRealm(ctx, &schema.InspectRealmOption{Schemas: schemas, Mode: schema.InspectSchemas | schema.InspectTypes})
	if err != nil {
		return nil, err
	}
	if len(r.Schemas) != 1 {
		return r, nil
	}
	s := r.Schemas[0]
	enums := make(map[string]*schema.EnumType)
	for _, o := range s.Objects {
		if e, ok := o.(*schema.EnumType); ok {
			enums[e.T] = e
		}
	}
	// As InspectRealm does: with an empty search_path, every name outside
	// pg_catalog is printed qualified.
	var path string
	if err := l.db.QueryRow(ctx, "SELECT current_setting('search_path'), set_config('search_path', '', false)").Scan(&path, new(string)); err != nil {
		return nil, fmt.Errorf("inspecting schema %s: %w", s.Name, pg.ServerError(err))
	}
	defer func() {
		_, _ = l.db.Exec(context.WithoutCancel(ctx), "SELECT set_config('search_path', $1, false)", path)
	}()
	for start := 0; start < len(names); start += size {
		part, err := l.drv.InspectSchema(ctx, s.Name, &schema.InspectOptions{Tables: names[start:min(start+size, len(names))]})
		if err != nil {
			return nil, err
		}
		for _, t := range part.Tables {
			t.Schema = s
			for _, c := range t.Columns {
				c.Type.Type = sameEnum(c.Type.Type, enums)
			}
			s.Tables = append(s.Tables, t)
		}
	}
	linkForeignKeys(r)
	return r, nil
}

// sameEnum returns the realm's enum for an enum (or array of enums) type a
// batch read, so that all columns share the realm's objects.
func sameEnum(t schema.Type, enums map[string]*schema.EnumType) schema.Type {
	switch t := t.(type) {
	case *schema.EnumType:
		if e, ok := enums[t.T]; ok && t.Schema != nil && t.Schema.Name == e.Schema.Name {
			return e
		}
	case *postgres.ArrayType:
		if e := sameEnum(t.Type, enums); e != t.Type {
			a := *t
			a.Type = e
			return &a
		}
	}
	return t
}

// linkForeignKeys points each foreign key at the realm's table and columns
// it references, where a batch left a stand-in (a table of another batch).
func linkForeignKeys(r *schema.Realm) {
	for _, s := range r.Schemas {
		for _, t := range s.Tables {
			for _, fk := range t.ForeignKeys {
				if fk.RefTable == nil || fk.RefTable.Schema == nil {
					continue
				}
				rs, ok := r.Schema(fk.RefTable.Schema.Name)
				if !ok {
					continue
				}
				ref, ok := tableNamed(rs, fk.RefTable.Name)
				if !ok || ref == fk.RefTable {
					continue
				}
				fk.RefTable = ref
				for i, c := range fk.RefColumns {
					if rc, ok := ref.Column(c.Name); ok {
						fk.RefColumns[i] = rc
					}
				}
			}
		}
	}
}

// tableNamed finds a table of s by name; s.Tables is in name order (as the
// engine reads them), so it searches.
func tableNamed(s *schema.Schema, name string) (*schema.Table, bool) {
	i, ok := slices.BinarySearchFunc(s.Tables, name, func(t *schema.Table, name string) int {
		switch {
		case t.Name < name:
			return -1
		case t.Name > name:
			return 1
		}
		return 0
	})
	if !ok {
		return s.Table(name)
	}
	return s.Tables[i], true
}

// tableNames lists the names of the tables (plain and partitioned) of the
// schema, in the engine's order: a superset of what the engine inspects
// (it leaves out partitions and extensions' tables), which it filters.
func (l *Live) tableNames(ctx context.Context, sch string) ([]string, error) {
	rows, err := l.db.Query(ctx, `SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname COLLATE "C"`, sch)
	if err != nil {
		return nil, fmt.Errorf("listing the tables of schema %s: %w", sch, pg.ServerError(err))
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing the tables of schema %s: %w", sch, pg.ServerError(err))
	}
	return names, nil
}

// InspectChanged reads what Inspect would read of the schemas of current (a
// state Inspect read on this database, whose catalogs have not changed
// since but for the tables in changed, by schema): current, with those
// tables read again (one no longer there left out) and the foreign keys
// and enum columns linked to the realm's tables and enums. It takes current
// over: its realm is changed in place. An apply checks its result with it
// when its statements changed a few tables of many (PostgreSQL's catalog of
// everything is compared apart).
func (l *Live) InspectChanged(ctx context.Context, current *state.State, changed map[string][]string) (*state.State, error) {
	r := current.Realm
	// As InspectRealm does: with an empty search_path, every name outside
	// pg_catalog is printed qualified.
	var path string
	if err := l.db.QueryRow(ctx, "SELECT current_setting('search_path'), set_config('search_path', '', false)").Scan(&path, new(string)); err != nil {
		return nil, fmt.Errorf("inspecting the changed tables: %w", pg.ServerError(err))
	}
	defer func() {
		_, _ = l.db.Exec(context.WithoutCancel(ctx), "SELECT set_config('search_path', $1, false)", path)
	}()
	var schemas []string
	for name, tables := range changed {
		s, ok := r.Schema(name)
		if !ok {
			return nil, fmt.Errorf("inspecting the changed tables: schema %s was not inspected before", name)
		}
		schemas = append(schemas, name)
		enums := make(map[string]*schema.EnumType)
		for _, o := range s.Objects {
			if e, ok := o.(*schema.EnumType); ok {
				enums[e.T] = e
			}
		}
		part, err := l.drv.InspectSchema(ctx, name, &schema.InspectOptions{Tables: tables})
		if err != nil {
			return nil, err
		}
		s.Tables = slices.DeleteFunc(s.Tables, func(t *schema.Table) bool { return slices.Contains(tables, t.Name) })
		for _, t := range part.Tables {
			t.Schema = s
			for _, c := range t.Columns {
				c.Type.Type = sameEnum(c.Type.Type, enums)
			}
			s.Tables = append(s.Tables, t)
		}
		// In the engine's order (by name, byte for byte).
		slices.SortFunc(s.Tables, func(a, b *schema.Table) int { return strings.Compare(a.Name, b.Name) })
	}
	linkForeignKeys(r)
	// The invalid indexes of the changed tables, as Inspect leaves them out.
	invalid, err := l.invalidIndexes(ctx, schemas)
	if err != nil {
		return nil, err
	}
	isChanged := func(sch, table string) bool { return slices.Contains(changed[sch], table) }
	kept := slices.DeleteFunc(slices.Clone(current.Invalid), func(ix state.InvalidIndex) bool { return isChanged(ix.Schema, ix.Table) })
	for _, ix := range invalid {
		if !isChanged(ix.Schema, ix.Table) {
			continue
		}
		kept = append(kept, ix)
		if s, ok := r.Schema(ix.Schema); ok {
			if t, ok := tableNamed(s, ix.Table); ok {
				t.Indexes = slices.DeleteFunc(t.Indexes, func(idx *schema.Index) bool { return idx.Name == ix.Name })
			}
		}
	}
	slices.SortFunc(kept, func(a, b state.InvalidIndex) int {
		return cmp.Or(strings.Compare(a.Schema, b.Schema), strings.Compare(a.Table, b.Table), strings.Compare(a.Name, b.Name))
	})
	resolveUserTypes(r)
	return &state.State{Realm: r, Extensions: current.Extensions, Invalid: kept}, nil
}
