package planner

import (
	"context"
	"errors"
	"fmt"

	"keel/internal/pgsql"
	"keel/planner/atlascli"
	"keel/planner/diff"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
	"keel/planner/state"
)

// atlasPlan is what the Atlas CLI planned for a target.
type atlasPlan struct {
	version    string
	statements []string
}

// name is the engine a plan records: "" for the embedded one.
func (a *atlasPlan) name() string {
	if a == nil {
		return ""
	}
	return a.version
}

// planWithAtlas asks the Atlas binary for the statements of the tables,
// enums and schemas that bring target to the desired state. Atlas reads
// the desired state as the engine's HCL (keel's, without the blocks keel
// plans itself: extensions, views, functions, ...) and normalizes it in a
// throwaway database of its own on the dev server, where keel first
// installs the desired extensions, which Atlas's open-source build cannot.
func planWithAtlas(ctx context.Context, bin atlascli.Binary, dev source.DevDatabase, target *pg.DB, desired source.Desired, want *state.State, schemas []string) (*atlasPlan, error) {
	version, err := bin.Version(ctx)
	if err != nil {
		return nil, err
	}
	realm := want.Realm
	if h, ok := source.HCLOf(desired); ok {
		// The desired state as written, for Atlas to normalize on its own.
		declared, err := h.Parsed()
		if err != nil {
			return nil, err
		}
		realm = declared.Realm
	}
	text, err := state.EngineHCL(realm)
	if err != nil {
		return nil, fmt.Errorf("planning with the Atlas engine: %w", err)
	}
	var stmts []string
	err = dev.With(ctx, func(db *pg.DB) error {
		if err := prepareDev(ctx, db, want); err != nil {
			return err
		}
		stmts, err = bin.Plan(ctx, atlascli.Request{Target: target, Dev: db, Desired: text, Schemas: schemas})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &atlasPlan{version: version, statements: stmts}, nil
}

// prepareDev creates in the throwaway database db what the tables of the
// desired state use and the open-source Atlas build cannot create: the
// extensions (and the schemas they go in), then the sequences, domains,
// types, collations and functions, as keel plans them from the desired
// catalog. One of those that does not create is left out: Atlas then says
// what it misses.
func prepareDev(ctx context.Context, db *pg.DB, want *state.State) error {
	var early []plan.Step
	if want.Catalog != nil {
		early = diff.ObjectsTablesUse(want.Catalog)
	}
	if len(want.Extensions) == 0 && len(early) == 0 {
		return nil
	}
	conn, err := db.Open(ctx, "keel atlas dev")
	if err != nil {
		return err
	}
	defer conn.Close()
	schemas := map[string]bool{"public": true}
	schema := func(name string) error {
		if name == "" || schemas[name] {
			return nil
		}
		schemas[name] = true
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgsql.QuoteIdent(name)); err != nil {
			return fmt.Errorf("creating schema %q in the Atlas engine's dev database: %w", name, pg.ServerError(err))
		}
		return nil
	}
	for _, e := range want.Extensions {
		if err := schema(e.Schema); err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, diff.CreateExtensionSQL(e)); err != nil {
			return fmt.Errorf("installing extension %q in the Atlas engine's dev database: %w", e.Name, pg.ServerError(err))
		}
	}
	if len(early) == 0 {
		return nil
	}
	// A function's body may use a table that Atlas creates later.
	if _, err := conn.Exec(ctx, "SET check_function_bodies = off"); err != nil {
		return pg.ServerError(err)
	}
	for _, st := range early {
		if _, sch, _, ok := plan.ParseObject(st.Object); ok {
			if err := schema(sch); err != nil {
				return err
			}
		}
		_, _ = conn.Exec(ctx, st.SQL)
	}
	return nil
}

// errAtlasDiff is returned by Diff, which plans with the embedded engine.
var errAtlasDiff = errors.New("Diff plans with the embedded engine only: use Generate for the Atlas engine")
