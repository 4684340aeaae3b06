package source

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/diff"
	"keel/planner/pg"
	"keel/planner/state"

	"github.com/jackc/pgx/v5"
)

// applySettings sets, in the throwaway database, what the desired state
// says that the engine does not model (state.Setting): after the engine
// created the tables and before the catalog is read, so that the
// normalized catalog holds them as PostgreSQL describes them. Timings
// first (a primary key or unique constraint is made again for it), then
// the tables' and columns' settings, and comments on constraints last,
// once the constraints are as they stay.
func applySettings(ctx context.Context, conn *pg.Conn, settings []state.Setting) error {
	ordered := append([]state.Setting(nil), settings...)
	sort.SliceStable(ordered, func(i, j int) bool { return settingPhase(ordered[i]) < settingPhase(ordered[j]) })
	for _, s := range ordered {
		stmts, err := settingStatements(ctx, conn, s)
		if err != nil {
			return fmt.Errorf("%s: normalizing the desired state: %s: %w", s.Pos, s.What(), err)
		}
		for _, stmt := range stmts {
			if err := pg.ExecStatement(ctx, conn.Pgx().PgConn(), stmt); err != nil {
				return fmt.Errorf("%s: the desired state does not load into PostgreSQL: %s:\n  %s\n%w",
					s.Pos, s.What(), stmt, pg.ServerError(err))
			}
		}
	}
	return nil
}

// settingPhase orders settings: timings, then the rest, then comments on
// constraints.
func settingPhase(s state.Setting) int {
	switch s.Key.Kind {
	case state.CatalogConstraintTiming:
		return 0
	case state.CatalogConstraintComment:
		return 2
	}
	return 1
}

// settingStatements returns the statements that give the throwaway
// database the setting s.
func settingStatements(ctx context.Context, conn *pg.Conn, s state.Setting) ([]string, error) {
	k := s.Key
	if s.PrimaryKey {
		name, err := primaryKeyName(ctx, conn, k.Schema, k.Table)
		if err != nil {
			return nil, err
		}
		k.Name = name
	}
	if k.Kind == state.CatalogConstraintTiming {
		return timingStatements(ctx, conn, k, s.Value)
	}
	stmt, err := diff.SettingSQL(k, s.Value, "")
	if err != nil {
		return nil, err
	}
	return []string{stmt}, nil
}

// primaryKeyName is the name of the table's primary key in the database.
func primaryKeyName(ctx context.Context, conn *pg.Conn, schema, table string) (string, error) {
	var name string
	err := conn.QueryRow(ctx, `SELECT k.conname FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND k.contype = 'p'`, schema, table).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errors.New("the table has no primary key: give its primary_key block columns")
	}
	if err != nil {
		return "", pg.ServerError(err)
	}
	return name, nil
}

// timingStatements make the constraint k deferrable as timing says
// ("DEFERRABLE" or "DEFERRABLE INITIALLY DEFERRED"): a foreign key is
// altered; a primary key or unique constraint, which PostgreSQL cannot
// alter, is dropped and added again from its own definition, with the
// comment of its index kept.
func timingStatements(ctx context.Context, conn *pg.Conn, k state.CatalogKey, timing string) ([]string, error) {
	var typ, def, indexComment string
	err := conn.QueryRow(ctx, `SELECT k.contype::text, pg_catalog.pg_get_constraintdef(k.oid),
  coalesce(pg_catalog.obj_description(k.conindid, 'pg_class'), '')
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND k.conname = $3`, k.Schema, k.Table, k.Name).Scan(&typ, &def, &indexComment)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("the engine created no constraint %s on the table", pgsql.QuoteIdent(k.Name))
	}
	if err != nil {
		return nil, pg.ServerError(err)
	}
	table := "ALTER TABLE " + pgsql.QuoteQualified(k.Schema, k.Table)
	switch typ {
	case "f":
		clause := "DEFERRABLE INITIALLY IMMEDIATE"
		if timing == "DEFERRABLE INITIALLY DEFERRED" {
			clause = timing
		}
		return []string{table + " ALTER CONSTRAINT " + pgsql.QuoteIdent(k.Name) + " " + clause}, nil
	case "p", "u":
		def = strings.TrimSuffix(strings.TrimSuffix(def, " DEFERRABLE INITIALLY DEFERRED"), " DEFERRABLE")
		stmts := []string{table + " DROP CONSTRAINT " + pgsql.QuoteIdent(k.Name) + ", ADD CONSTRAINT " + pgsql.QuoteIdent(k.Name) + " " + def + " " + timing}
		if indexComment != "" {
			stmts = append(stmts, "COMMENT ON INDEX "+pgsql.QuoteQualified(k.Schema, k.Name)+" IS "+pgsql.QuoteLiteral(indexComment))
		}
		return stmts, nil
	}
	return nil, errors.New("only foreign keys, primary keys and unique constraints can be deferrable")
}
