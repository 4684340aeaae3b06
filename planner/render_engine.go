package planner

import (
	"context"
	"errors"
	"fmt"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	"github.com/jackc/pgx/v5/pgconn"
	"keel/internal/pgsql"
)

// renderChanges has the engine write changes as SQL statements, with every
// name and value it would quote wrongly guarded (see nameGuard) and each
// statement checked to be exactly one statement. realms are the schema
// trees the changes come from.
func renderChanges(ctx context.Context, drv migrate.PlanApplier, changes []schema.Change, realms ...*schema.Realm) ([]*migrate.Change, error) {
	g, err := newNameGuard()
	if err != nil {
		return nil, err
	}
	defer g.restore()
	for _, r := range realms {
		if err := g.realm(r); err != nil {
			return nil, errors.New(g.reveal(err.Error()))
		}
	}
	p, err := drv.PlanChanges(ctx, "keel", changes)
	if err != nil {
		return nil, errors.New(g.reveal(err.Error()))
	}
	out := make([]*migrate.Change, 0, len(p.Changes))
	for _, c := range p.Changes {
		obj := g.reveal(stepOf(c).Object)
		if len(c.Args) > 0 {
			return nil, fmt.Errorf("%s: the statement %q takes arguments, which keel cannot run", obj, g.reveal(c.Cmd))
		}
		cmd, err := g.rewrite(c.Cmd)
		if err == nil {
			cmd, err = pgsql.Printable(cmd)
		}
		if err == nil {
			err = pgsql.OneStatement(cmd)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: refusing the statement the engine wrote, nothing was run: %w:\n  %s", obj, err, g.reveal(c.Cmd))
		}
		cc := *c
		cc.Cmd, cc.Comment, cc.Reverse = cmd, g.reveal(c.Comment), nil
		out = append(out, &cc)
	}
	return out, nil
}

// execStatement runs one statement of a plan or of a normalization. It must
// be exactly one statement, and it is sent with the extended query
// protocol, in which PostgreSQL refuses more than one: two checks that what
// runs is the statement that was shown.
func execStatement(ctx context.Context, conn *pgconn.PgConn, sql string) error {
	if err := pgsql.OneStatement(sql); err != nil {
		return fmt.Errorf("refusing to run a statement: %w:\n  %s", err, sql)
	}
	return conn.ExecParams(ctx, sql, nil, nil, nil, nil).Read().Err
}
