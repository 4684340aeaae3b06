package inspect

import (
	"context"
	"fmt"

	"keel/planner/pg"
	"keel/planner/plan"
)

// ManagedSchemas reads the schemas keel recorded as managed in the
// database (keel.managed_schemas), sorted; none before keel's first apply
// that recorded them.
func (l *Live) ManagedSchemas(ctx context.Context) ([]string, error) {
	var exists bool
	if err := l.db.QueryRowContext(ctx, `SELECT to_regclass('keel.managed_schemas') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("reading the managed schemas (keel.managed_schemas): %w", pg.ServerError(err))
	}
	if !exists {
		return nil, nil
	}
	var names []string
	rows, err := l.db.QueryContext(ctx, `SELECT name FROM keel.managed_schemas ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("reading the managed schemas (keel.managed_schemas): %w", pg.ServerError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// SchemaTable is a table of a schema and its row estimate (-1: never
// analyzed).
type SchemaTable struct {
	Name string
	Rows int64
}

// SchemaTables lists the tables of a schema (partitions included) with
// their row estimates, sorted.
func (l *Live) SchemaTables(ctx context.Context, schemaName string) ([]SchemaTable, error) {
	rows, err := l.db.QueryContext(ctx, `
SELECT c.relname, c.reltuples::bigint FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`, schemaName)
	if err != nil {
		return nil, fmt.Errorf("listing the tables of schema %s: %w", plan.DisplayPart(schemaName), pg.ServerError(err))
	}
	defer rows.Close()
	var out []SchemaTable
	for rows.Next() {
		var t SchemaTable
		if err := rows.Scan(&t.Name, &t.Rows); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UserSchemas lists the database's schemas but the system ones and keel's.
func (l *Live) UserSchemas(ctx context.Context) ([]string, error) { return UserSchemas(ctx, l.db) }
