package planner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	"github.com/jackc/pgx/v5"
)

// Normalizer turns a desired state as written (HCL) into the form the server
// reports back on inspection, so that it compares with a live state as equal
// when it is equal: `uuid_generate_v4()` becomes `public.uuid_generate_v4()`,
// `status <> 'paid'` becomes `(status <> 'paid'::public.order_status)`.
type Normalizer interface {
	Normalize(ctx context.Context, desired *State) (*State, error)
}

// DevDatabase normalizes by loading the desired state into a throwaway
// database created on Server, inspecting it back and dropping it. The
// throwaway database is never the target: it gets its own name, is created
// from template0 and is dropped afterwards, also when the context is
// cancelled or loading fails.
type DevDatabase struct {
	// Server is any database on the server where the throwaway database may
	// be created; the connecting role needs CREATEDB.
	Server *DB
	// Prefix starts the throwaway database's name; the default is "keel_tmp_".
	Prefix string
}

// Normalize implements Normalizer.
func (d DevDatabase) Normalize(ctx context.Context, desired *State) (_ *State, err error) {
	admin, err := d.Server.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("normalizing the desired state: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	prefix := d.Prefix
	if prefix == "" {
		prefix = "keel_tmp_"
	}
	name, err := throwawayName(prefix)
	if err != nil {
		return nil, err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		return nil, fmt.Errorf("creating the throwaway database %s on %s:%d to normalize the desired state "+
			"(the role needs CREATEDB, or set dev_url in the profile to a server where it has it): %w",
			name, d.Server.Target().Host, d.Server.Target().Port, pgError(err))
	}
	defer func() {
		// Drop even when ctx was cancelled (Ctrl-C), within a bounded time.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, derr := admin.Exec(dctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); derr != nil {
			err = errors.Join(err, fmt.Errorf("dropping the throwaway database %s: %w", name, derr))
		}
	}()
	return loadAndInspect(ctx, d.Server.WithDatabase(name), desired)
}

func throwawayName(prefix string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

// loadAndInspect creates the desired state in the (empty) database db and
// inspects it back.
func loadAndInspect(ctx context.Context, db *DB, desired *State) (*State, error) {
	live, err := OpenLive(ctx, db)
	if err != nil {
		return nil, err
	}
	defer live.Close()
	empty, err := live.Inspect(ctx, desired.SchemaNames())
	if err != nil {
		return nil, err
	}
	// Schemas and extensions first, so that defaults, indexes and types that
	// use an extension's functions and types resolve as they will on the target.
	changes, err := live.drv.RealmDiff(empty.Realm, desired.Realm)
	if err != nil {
		return nil, fmt.Errorf("normalizing the desired state: %w", err)
	}
	var schemas, rest []schema.Change
	for _, c := range changes {
		if _, ok := c.(*schema.AddSchema); ok {
			schemas = append(schemas, c)
		} else {
			rest = append(rest, c)
		}
	}
	if err := live.drv.ApplyChanges(ctx, schemas); err != nil {
		return nil, fmt.Errorf("normalizing the desired state: creating schemas: %w", err)
	}
	for _, e := range desired.Extensions {
		if _, err := live.db.ExecContext(ctx, createExtensionSQL(e)); err != nil {
			return nil, fmt.Errorf("%s: normalizing the desired state: extension %q: %w", e.Pos, e.Name, pgError(err))
		}
	}
	plan, err := live.drv.PlanChanges(ctx, "normalize", rest)
	if err != nil {
		return nil, fmt.Errorf("normalizing the desired state: %w", err)
	}
	for _, c := range plan.Changes {
		if _, err := live.db.ExecContext(ctx, c.Cmd, c.Args...); err != nil {
			return nil, fmt.Errorf("%sthe desired state does not load into PostgreSQL: %s:\n  %s\n%w",
				sourcePos(desired, c), c.Comment, c.Cmd, pgError(err))
		}
	}
	norm, err := live.Inspect(ctx, desired.SchemaNames())
	if err != nil {
		return nil, err
	}
	// Extensions stay as declared: a version or schema left open stays open.
	norm.Extensions = desired.Extensions
	return norm, nil
}

// sourcePos returns "file:line: " for the desired-state object behind a
// change, or "" when it is not known.
func sourcePos(desired *State, c *migrate.Change) string {
	if p, ok := desired.Positions[stepOf(c).Object]; ok {
		return p + ": "
	}
	return ""
}
