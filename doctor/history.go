package doctor

import (
	"context"
	"errors"
	"fmt"

	"keel/planner/apply"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"

	"github.com/jackc/pgx/v5"
)

// throwawayCheck checks that keel can create the throwaway database it
// normalizes the desired state in: on dev when set, else on the target's
// server, the role needs CREATEDB.
func throwawayCheck(ctx context.Context, f *facts, dev *pg.DB) Check {
	c := Check{Name: "throwaway database", Status: OK}
	user, may, where := f.user, f.superuser || f.createDB, fmt.Sprintf("the target's server %s:%d", f.target.Host, f.target.Port)
	if dev != nil {
		t := dev.Target()
		where = fmt.Sprintf("the dev_url server %s:%d", t.Host, t.Port)
		conn, err := dev.Open(ctx, "keel doctor")
		if err != nil {
			c.Status = Fail
			c.Message = fmt.Sprintf("cannot connect to %s, where the throwaway database goes: %v", where, err)
			c.Fix = "correct dev_url in the profile, or remove it to use the target's server"
			return c
		}
		defer conn.Close()
		if err := conn.QueryRow(ctx, `SELECT current_user, rolsuper OR rolcreatedb FROM pg_catalog.pg_roles WHERE rolname = current_user`).Scan(&user, &may); err != nil {
			c.Status = Fail
			c.Message = fmt.Sprintf("reading the role's attributes on %s: %v", where, serverError(err))
			return c
		}
	}
	if may {
		c.Message = fmt.Sprintf("role %q may create databases on %s, where keel normalizes the desired state in a throwaway database", user, where)
		return c
	}
	c.Status = Fail
	c.Message = fmt.Sprintf("role %q lacks CREATEDB on %s: keel normalizes the desired state in a throwaway database it creates there", user, where)
	c.Fix = fmt.Sprintf("as a superuser: ALTER ROLE %s CREATEDB; or set dev_url in the profile to a server where the role has CREATEDB", pgx.Identifier{user}.Sanitize())
	return c
}

// historyCheck checks that the role can record an apply in keel's history:
// what planner.HistoryStatus says is missing, the role may create, and what
// exists, it may use.
func historyCheck(ctx context.Context, conn *pgx.Conn, f *facts) Check {
	c := Check{Name: "history", Status: OK}
	s, err := apply.ReadHistoryStatus(ctx, conn)
	if err != nil {
		c.Status, c.Message = Fail, err.Error()
		return c
	}
	if problem, fix := s.Problem(f.user, f.database); problem != "" {
		c.Status, c.Message, c.Fix = Fail, problem, fix
		return c
	}
	switch {
	case !s.SchemaExists:
		c.Message = fmt.Sprintf("schema %s does not exist yet; role %q may create it (CREATE on database %q) at the first apply", plan.KeelSchema, f.user, f.database)
	case !s.TableExists:
		c.Message = fmt.Sprintf("%s does not exist yet; role %q may create it at the first apply", apply.HistoryTable, f.user)
	default:
		c.Message = fmt.Sprintf("role %q may read and insert into %s", f.user, apply.HistoryTable)
	}
	return c
}

// poolerCheck checks that the connection keeps one server session, as keel's
// apply lock (a session advisory lock) needs: a direct connection or a
// session-mode pool, not a transaction or statement pooler
// (planner.DetectPooler says how it tells).
func poolerCheck(ctx context.Context, target *pg.DB, conn *pgx.Conn) Check {
	c := Check{Name: "pooler", Status: OK}
	found, err := apply.DetectPooler(ctx, target, conn)
	var pe *apply.PoolerError
	switch {
	case errors.As(err, &pe):
		t := target.Target()
		c.Status = Fail
		c.Message = fmt.Sprintf("%s:%d is a connection pooler in transaction or statement mode (%s): keel apply refuses to run through it, "+
			"as its session advisory lock would stay behind on a pooled server connection; the other checks were not run", t.Host, t.Port, pe.Evidence)
		c.Fix = "connect keel to the PostgreSQL server directly (its own host and port), or through a session-mode pool (PgBouncer: pool_mode = session for that database)"
	case err != nil:
		c.Status = Fail
		c.Message = fmt.Sprintf("could not tell whether a connection pooler is in the way: %v; the other checks were not run", err)
		c.Fix = "fix what the message names, then run keel doctor again"
	default:
		c.Message = found
	}
	return c
}

// lockCheck takes keel's apply lock and releases it at once. A lock held by
// another session is a warning: an apply may be running.
func lockCheck(ctx context.Context, conn *pgx.Conn) Check {
	c := Check{Name: "apply lock", Status: OK}
	holder, held, err := apply.ProbeLock(ctx, conn)
	switch {
	case err != nil:
		c.Status = Fail
		c.Message = fmt.Sprintf("cannot take and release the advisory lock keel apply uses: %v", err)
		c.Fix = "keel needs PostgreSQL 11 or later (hashtextextended) and advisory locks"
	case held:
		c.Status = Warn
		c.Message = fmt.Sprintf("the apply lock is held by %s: a keel apply may be running", holder)
		c.Fix = "wait for it to finish; pg_stat_activity shows what that session runs"
	default:
		c.Message = "the advisory lock keel apply uses can be taken and released"
	}
	return c
}

// keptCheck says whether the role can read the normalized state the last
// apply kept in the database (source.KeptTable), which a plan on a runner
// whose cache is empty starts from. Without it such a plan is slower, not
// wrong: a warning.
func keptCheck(ctx context.Context, conn *pgx.Conn, f *facts) Check {
	c := Check{Name: "kept state", Status: OK}
	exists, readable, err := source.KeptAccess(ctx, conn)
	if err != nil {
		c.Status, c.Message = Warn, fmt.Sprintf("reading whether %s exists: %v", source.KeptTable, err)
		return c
	}
	role := pgx.Identifier{f.user}.Sanitize()
	switch {
	case !exists:
		c.Message = fmt.Sprintf("no apply has kept a normalized state in %s yet (each apply does, also one that finds the database matching): until one has, a plan with an empty cache normalizes the desired state again, but for the tables whose blocks are as keel inspect prints them", source.KeptTable)
	case !readable:
		c.Status = Warn
		c.Message = fmt.Sprintf("role %q cannot read %s: a plan with an empty cache (a fresh CI runner) normalizes the desired state again (but for the tables whose blocks are as keel inspect prints them) instead of starting from the state the last apply kept", f.user, source.KeptTable)
		c.Fix = fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s; GRANT SELECT ON %s TO %s (or GRANT pg_read_all_data TO %[2]s)", plan.KeelSchema, role, source.KeptTable, role)
	default:
		c.Message = fmt.Sprintf("role %q may read %s: a plan with an empty cache starts from the state the last apply kept", f.user, source.KeptTable)
	}
	return c
}
