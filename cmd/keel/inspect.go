package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"keel/planner/inspect"
	"keel/planner/plan"
	"keel/planner/source"
)

// inspectCmd needs no profile: --url (or the libpq variables) says which
// database, from any directory.
type inspectCmd struct {
	Env string `help:"Environment profile (NAME.hcl in envs/, found from the current directory up): its URL, schemas and tls. Not needed with --url."`
	URL string `name:"url" help:"Database URL; overrides the profile's. What it leaves out comes from PGHOST, PGUSER, PGPASSWORD, ..., pg_service.conf and .pgpass, as in psql. Without --env: all schemas but the system ones."`

	t target
}

// flags are the target flags; --env is optional.
func (c *inspectCmd) flags() *target {
	c.t = target{Env: c.Env, URL: c.URL, noEnv: true}
	return &c.t
}

// Run prints the live state of the profile's schemas (all but the system
// ones when the profile names none) as HCL.
func (c *inspectCmd) Run(ctx context.Context, r *resolved, s *streams) error {
	conn, err := r.open(ctx, "inspect")
	if err != nil {
		return err
	}
	defer conn.Close()
	out, st, err := inspect.PrintHCL(ctx, conn, r.profile.Schemas)
	if err != nil {
		return err
	}
	// What the file says less of than the database has: a plan of it
	// would change those tables.
	if less := source.PrintedWithLess(st, out); len(less) > 0 {
		what := fmt.Sprintf("%d tables are", len(less))
		if len(less) == 1 {
			what = "1 table is"
		}
		fmt.Fprintf(s.err, "keel: warning: %s printed with less than the database has; a plan of this file changes what it leaves out (see README, Not done yet):\n  %s\n",
			what, strings.Join(less, "\n  "))
	}
	live, err := inspect.OpenLive(ctx, conn)
	if err != nil {
		return err
	}
	managed, err := live.ManagedSchemas(ctx)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(s.out, scopeComment(managed)); err != nil {
		return err
	}
	_, err = s.out.Write(out)
	return err
}

// scopeComment says, as HCL comments, which schemas keel manages in the
// database (keel.managed_schemas).
func scopeComment(managed []string) string {
	var b strings.Builder
	if len(managed) == 0 {
		b.WriteString("# keel has not recorded managing any schema of this database yet (keel.managed_schemas):\n" +
			"# keel apply of this file, also of no changes, records them.\n")
	} else {
		names := make([]string, len(managed))
		for i, m := range managed {
			names[i] = plan.OneLine(plan.DisplayPart(m))
		}
		fmt.Fprintf(&b, "# keel manages the schemas %s here (keel.managed_schemas): one left out of the desired state is dropped.\n", strings.Join(names, ", "))
	}
	b.WriteString("\n")
	return b.String()
}
