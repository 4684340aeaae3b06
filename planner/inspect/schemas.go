package inspect

import (
	"context"
	"fmt"

	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"

	"github.com/jackc/pgx/v5"
)

// UserSchemas lists the database's schemas except the system ones
// (pg_catalog, information_schema, pg_toast*, pg_temp*) and keel's own
// schema "keel".
func UserSchemas(ctx context.Context, c *pg.Conn) ([]string, error) {
	rows, err := c.Query(ctx, userSchemasQuery, plan.KeelSchema)
	if err != nil {
		return nil, fmt.Errorf("listing schemas of %s: %w", c.DB(), pg.ServerError(err))
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing schemas of %s: %w", c.DB(), pg.ServerError(err))
	}
	return names, nil
}

const userSchemasQuery = `
SELECT nspname FROM pg_catalog.pg_namespace
WHERE nspname NOT IN ('information_schema', $1) AND nspname NOT LIKE 'pg\_%'
ORDER BY nspname`

// Inspect reads the live state of the given schemas (all but the system
// ones and keel's when schemas is empty) and the extensions, on c.
func Inspect(ctx context.Context, c *pg.Conn, schemas []string) (*state.State, error) {
	if len(schemas) == 0 {
		return All(ctx, c, false)
	}
	live, err := OpenLive(ctx, c)
	if err != nil {
		return nil, err
	}
	return live.Inspect(ctx, schemas)
}

// All inspects all user schemas and the extensions of db, and lists
// the objects there that keel does not manage. An extension's comment is kept
// only when it is not the one CREATE EXTENSION sets; with unpinDefaults, an
// extension at its server's default version is left unpinned, as a CREATE
// EXTENSION without VERSION would install it.
func All(ctx context.Context, c *pg.Conn, unpinDefaults bool) (*state.State, error) {
	schemas, err := UserSchemas(ctx, c)
	if err != nil {
		return nil, err
	}
	live, err := OpenLive(ctx, c)
	if err != nil {
		return nil, err
	}
	st, err := live.Inspect(ctx, schemas)
	if err != nil {
		return nil, err
	}
	// A comment or version that CREATE EXTENSION gives anyway is not pinned.
	for i, e := range st.Extensions {
		var def, comment string
		err := live.db.QueryRowContext(ctx, "SELECT default_version, COALESCE(comment, '') FROM pg_catalog.pg_available_extensions WHERE name = $1", e.Name).Scan(&def, &comment)
		if err != nil {
			continue
		}
		if unpinDefaults && def == e.Version {
			st.Extensions[i].Version = ""
		}
		if comment == e.Comment {
			st.Extensions[i].Comment = ""
		}
	}
	if st.NotManaged, err = live.NotManaged(ctx, schemas); err != nil {
		return nil, err
	}
	return st, nil
}
