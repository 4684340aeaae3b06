package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"keel/planner"
	"keel/planner/pg"

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
		conn, attempts, err := connect(ctx, dev)
		if err != nil {
			c.Status = Fail
			c.Message = fmt.Sprintf("cannot connect to %s, where the throwaway database goes: %v (%s)", where, err, attemptsText(attempts))
			c.Fix = "correct dev_url in the profile, or remove it to use the target's server"
			return c
		}
		defer conn.Close(context.WithoutCancel(ctx))
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

// HistorySchema and HistoryTable are where keel records what it applied.
const (
	HistorySchema = "keel"
	HistoryTable  = "keel.history"
)

// LockKey is the SQL expression of the advisory lock keel apply holds.
const LockKey = `hashtextextended('keel apply ' || current_database(), 0)`

// historyCheck checks that the role can use keel's history table: the
// schema keel exists and the role may use it (and read and write the table,
// or create it), or the role may create the schema.
func historyCheck(ctx context.Context, conn *pgx.Conn, f *facts) Check {
	c := Check{Name: "history", Status: OK}
	role := pgx.Identifier{f.user}.Sanitize()
	var schema, usage, create, table, rw bool
	err := conn.QueryRow(ctx, `
SELECT n.oid IS NOT NULL,
       COALESCE(has_schema_privilege(n.oid, 'USAGE'), false),
       COALESCE(has_schema_privilege(n.oid, 'CREATE'), false),
       EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relname = $2)
FROM (SELECT 1) one LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = $1`, HistorySchema, strings.TrimPrefix(HistoryTable, HistorySchema+".")).Scan(&schema, &usage, &create, &table)
	if err == nil && table && usage {
		err = conn.QueryRow(ctx, `SELECT has_table_privilege($1, 'SELECT') AND has_table_privilege($1, 'INSERT')`, HistoryTable).Scan(&rw)
	}
	if err != nil {
		c.Status = Fail
		c.Message = fmt.Sprintf("reading the privileges on schema %s: %v", HistorySchema, serverError(err))
		return c
	}
	switch {
	case !schema && f.databaseCreate:
		c.Message = fmt.Sprintf("schema %s does not exist yet; role %q may create it (CREATE on database %q) at the first apply", HistorySchema, f.user, f.database)
		return c
	case !schema:
		c.Message = fmt.Sprintf("schema %s, where keel records what it applied, does not exist, and role %q lacks CREATE on database %q to create it", HistorySchema, f.user, f.database)
		c.Fix = fmt.Sprintf("as the database's owner or a superuser: CREATE SCHEMA %s AUTHORIZATION %s (or GRANT CREATE ON DATABASE %s TO %s)",
			HistorySchema, role, pgx.Identifier{f.database}.Sanitize(), role)
	case !usage:
		c.Message = fmt.Sprintf("role %q lacks USAGE on schema %s, where keel records what it applied", f.user, HistorySchema)
		c.Fix = fmt.Sprintf("as the schema's owner or a superuser: GRANT USAGE, CREATE ON SCHEMA %s TO %s", HistorySchema, role)
	case table && !rw:
		c.Message = fmt.Sprintf("role %q may not read and insert into %s", f.user, HistoryTable)
		c.Fix = fmt.Sprintf("as the table's owner or a superuser: GRANT SELECT, INSERT ON %s TO %s", HistoryTable, role)
	case !table && !create:
		c.Message = fmt.Sprintf("%s does not exist yet, and role %q lacks CREATE on schema %s to create it", HistoryTable, f.user, HistorySchema)
		c.Fix = fmt.Sprintf("as the schema's owner or a superuser: GRANT CREATE ON SCHEMA %s TO %s", HistorySchema, role)
	case table:
		c.Message = fmt.Sprintf("role %q may read and insert into %s", f.user, HistoryTable)
		return c
	default:
		c.Message = fmt.Sprintf("%s does not exist yet; role %q may create it at the first apply", HistoryTable, f.user)
		return c
	}
	c.Status = Fail
	return c
}

// poolerCheck checks that the connection keeps one server session, as keel's
// apply lock (a session advisory lock) needs: a direct connection or a
// session-mode pool, not a transaction or statement pooler
// (planner.DetectPooler says how it tells).
func poolerCheck(ctx context.Context, target *pg.DB, conn *pgx.Conn) Check {
	c := Check{Name: "pooler", Status: OK}
	found, err := planner.DetectPooler(ctx, target, conn)
	var pe *planner.PoolerError
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
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+LockKey+`)`).Scan(&got); err != nil {
		c.Status = Fail
		c.Message = fmt.Sprintf("cannot take the advisory lock keel apply uses: %v", serverError(err))
		c.Fix = "keel needs PostgreSQL 11 or later (hashtextextended) and advisory locks"
		return c
	}
	if !got {
		var pid int32
		err := conn.QueryRow(ctx, `
WITH k AS (SELECT `+LockKey+` AS key)
SELECT l.pid FROM pg_catalog.pg_locks l, k
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295
LIMIT 1`).Scan(&pid)
		holder := "another session"
		if err == nil {
			holder = fmt.Sprintf("the session with pid %d", pid)
		}
		c.Status = Warn
		c.Message = fmt.Sprintf("the apply lock is held by %s: a keel apply may be running", holder)
		c.Fix = "wait for it to finish; pg_stat_activity shows what that session runs"
		return c
	}
	var released bool
	err := conn.QueryRow(ctx, `SELECT pg_advisory_unlock(`+LockKey+`)`).Scan(&released)
	if err == nil && !released {
		err = fmt.Errorf("pg_advisory_unlock returned false")
	}
	if err != nil {
		c.Status = Fail
		c.Message = fmt.Sprintf("took the apply lock but could not release it: %v", serverError(err))
		return c
	}
	c.Message = "the advisory lock keel apply uses can be taken and released"
	return c
}
