package inspect

import (
	"context"
	"fmt"
	"slices"

	"keel/planner/pg"

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
