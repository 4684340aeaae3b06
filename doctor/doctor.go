// Package doctor checks, before anything runs, that a database can take a
// plan: the connection, TLS, the extensions the desired state declares, the
// privileges the plan needs, a place for the throwaway normalization
// database, keel's history table and apply lock, and that no transaction
// pooler stands between keel and the server. It is a library: the
// CLI's doctor, plan and apply commands call it, and so can an application's
// start-up check.
package doctor

import (
	"context"
	"fmt"

	"keel/planner/atlascli"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"

	"github.com/jackc/pgx/v5"
)

// Status is the outcome of one check.
type Status string

// The statuses.
const (
	// OK: nothing to do.
	OK Status = "ok"
	// Warn: worth a look, but nothing that keel needs is missing.
	Warn Status = "warn"
	// Fail: the plan cannot run until this is fixed.
	Fail Status = "fail"
)

// Check is the outcome of one check.
type Check struct {
	// Name says what was checked: "connection", "extension uuid-ossp",
	// "privilege CREATE on database app", ...
	Name string `json:"name"`
	// Status is ok, warn or fail.
	Status Status `json:"status"`
	// Message says what was found.
	Message string `json:"message"`
	// Fix says what to do, when Status is not ok.
	Fix string `json:"fix,omitempty"`
}

// Report is the outcome of all checks on one database, in the order they ran.
type Report struct {
	// Target is the database checked.
	Target plan.Target `json:"target"`
	// Checks are the outcomes.
	Checks []Check `json:"checks"`
	// Plan is the plan the privileges were checked for: Options.Plan, or the
	// plan Run computed. Nil when none could be computed.
	Plan *plan.Plan `json:"-"`
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return len(r.Failures()) > 0 }

// Failures returns the checks that failed.
func (r *Report) Failures() []Check {
	var f []Check
	for _, c := range r.Checks {
		if c.Status == Fail {
			f = append(f, c)
		}
	}
	return f
}

// add appends checks, each message and fix on one line.
func (r *Report) add(cs ...Check) {
	for _, c := range cs {
		c.Message, c.Fix = oneLine(c.Message), oneLine(c.Fix)
		r.Checks = append(r.Checks, c)
	}
}

// Options say what to check.
type Options struct {
	// Plan is the plan whose statements' privileges are checked, and whose
	// desired extensions are. Nil when there is none: PlanErr says why (it
	// fails the plan check), and the privileges are judged from Declared.
	Plan    *plan.Plan
	PlanErr error
	// Declared is the desired state as written (HCL), when there is one:
	// its extensions are checked when there is no plan.
	Declared *state.State
	// Schemas are the managed schemas (the profile's), for the privileges
	// judged from Declared.
	Schemas []string
	// Dev is the server of the profile's dev_url, where the throwaway
	// database goes; nil means the target's server.
	Dev *pg.DB
	// TLS is the weakest sslmode the session may have (the profile's tls):
	// require and stronger fail an unencrypted session, verify-full one
	// whose client does not verify the server.
	TLS string
	// SkipHistory skips the checks of keel's history table and apply lock,
	// the check for a connection pooler in the way of that lock, and the
	// kept state's (which only says whether a plan may be faster).
	SkipHistory bool
	// NormalizeRefused, when set, says why the desired state may not be
	// normalized on the target's server: the throwaway database check fails
	// with it.
	NormalizeRefused string
	// Engine is the engine the env plans with ("embedded" or "atlas");
	// Atlas is the Atlas binary found (nil: none), AtlasErr why none was.
	Engine   string
	Atlas    *atlascli.Binary
	AtlasErr error
}

// Run runs the checks on conn, the target's connection. It never changes
// the target: the apply lock is taken and released at once. It makes no
// plan: it checks the one it is given. When conn goes through a
// transaction or statement pooler, only the connection and that are
// reported.
func Run(ctx context.Context, conn *pg.Conn, opts Options) *Report {
	target := conn.DB()
	r := &Report{Target: target.Target(), Plan: opts.Plan}
	// Before any other statement: through a transaction pooler every later
	// check would run on whichever server connection the pooler hands out,
	// and the lock check could leave the apply lock behind on one of them.
	var pooler Check
	if !opts.SkipHistory {
		if pooler = poolerCheck(ctx, target, conn.Pgx()); pooler.Status != OK {
			t := target.Target()
			r.add(Check{Name: "connection", Status: OK, Message: fmt.Sprintf("connected to %s:%d, database %q, user %q (%s)", t.Host, t.Port, t.Database, t.User, attemptsText(conn.Attempts))},
				pooler)
			return r
		}
	}
	f, err := readFacts(ctx, conn.Pgx())
	if err != nil {
		r.add(Check{Name: "connection", Status: Fail, Message: fmt.Sprintf("connected, but reading the server's settings failed: %v", err),
			Fix: "check that the server is PostgreSQL 11 or later and that the role may read pg_catalog"})
		return r
	}
	f.target = target.Target()
	r.add(Check{Name: "connection", Status: OK,
		Message: fmt.Sprintf("PostgreSQL %s at %s:%d, database %q, user %q (%s)", f.version, f.target.Host, f.target.Port, f.database, f.user, attemptsText(conn.Attempts))})
	r.add(tlsCheck(opts.TLS, f.tls, pg.IsLocalHost(f.target.Host), target.ServerVerification()))
	if opts.NormalizeRefused != "" {
		r.add(Check{Name: "throwaway database", Status: Fail, Message: opts.NormalizeRefused,
			Fix: "set dev_url in the profile (or --dev-url) to a scratch server, or normalize_on_target = true"})
	} else {
		r.add(throwawayCheck(ctx, f, opts.Dev))
	}
	// The desired extensions: from the plan when it has them (a plan from
	// the cache never parses the HCL), else as declared.
	var wanted []plan.Extension
	switch {
	case opts.Plan != nil && opts.Plan.DesiredExtensions != nil:
		wanted = opts.Plan.DesiredExtensions
	case opts.Declared != nil:
		wanted = opts.Declared.Extensions
	}
	if wanted != nil {
		exts, err := extensionChecks(ctx, conn.Pgx(), f, wanted)
		if err != nil {
			r.add(Check{Name: "extensions", Status: Fail, Message: err.Error()})
		}
		r.add(exts...)
	}
	if opts.Engine != "" {
		r.add(atlasCheck(ctx, opts))
	}
	if c, ok := planCheck(opts, r.Failed()); ok {
		r.add(c)
	}
	privs, err := privilegeChecks(ctx, conn.Pgx(), f, opts.Plan, opts.Declared, opts.Schemas)
	if err != nil {
		r.add(Check{Name: "privileges", Status: Fail, Message: err.Error()})
	}
	r.add(privs...)
	if !opts.SkipHistory {
		r.add(keptCheck(ctx, conn.Pgx(), f), historyCheck(ctx, conn.Pgx(), f), pooler, lockCheck(ctx, conn.Pgx()))
	}
	return r
}

// planCheck reports on the plan the checks were given. When none could be
// made and another check failed already (most likely the reason), it is a
// warning: the privileges are then judged from the declared state.
func planCheck(opts Options, failedAlready bool) (Check, bool) {
	p := opts.Plan
	switch {
	case p != nil && p.Matches():
		return Check{Name: "plan", Status: OK, Message: "no changes: the database matches the desired state"}, true
	case p != nil && len(p.Unplanned) > 0:
		return Check{Name: "plan", Status: Fail, Message: fmt.Sprintf("%d difference(s) keel cannot plan between the database and the desired state (the first: %s)", len(p.Unplanned), p.Unplanned[0].Object),
			Fix: "keel plan lists them; change the desired state to match the database, or make the change in a reviewed migration by hand"}, true
	case p != nil:
		return Check{Name: "plan", Status: OK, Message: fmt.Sprintf("%d %s (%s)", len(p.Steps), plural(len(p.Steps), "statement", "statements"), p.Summary())}, true
	case opts.NormalizeRefused != "":
		return Check{Name: "plan", Status: Warn, Message: "not computed: the desired state cannot be normalized (see throwaway database)"}, true
	case opts.PlanErr != nil && failedAlready:
		return Check{Name: "plan", Status: Warn, Message: "cannot compute the plan: " + opts.PlanErr.Error(),
			Fix: "fix the failures reported here; the privileges below were checked against the declared state, not a plan"}, true
	case opts.PlanErr != nil:
		return Check{Name: "plan", Status: Fail, Message: "cannot compute the plan: " + opts.PlanErr.Error(),
			Fix: "fix what the message names, then run keel doctor again"}, true
	}
	return Check{}, false
}

// ConnectionFailed is the report of a connection that could not be opened:
// its one check says why and what to do.
func ConnectionFailed(db *pg.DB, err error) *Report {
	r := &Report{Target: db.Target()}
	r.add(connectionFailed(db, err))
	return r
}

// facts are what the checks need to know about the server and the role.
type facts struct {
	target          plan.Target
	user, database  string
	version         string
	versionNum      int
	superuser       bool
	createDB        bool // the role's CREATEDB attribute
	databaseCreate  bool // CREATE on the current database
	tls             tlsState
	azureExtensions *string // azure.extensions, nil when the server has no such setting
	rdsExtensions   *string // rds.allowed_extensions, likewise
}

type tlsState struct {
	encrypted        bool
	protocol, cipher string
}

const factsQuery = `
SELECT current_user, current_database(), current_setting('server_version'),
       current_setting('server_version_num')::int, r.rolsuper, r.rolcreatedb,
       has_database_privilege(current_database(), 'CREATE'),
       COALESCE(s.ssl, false), COALESCE(s.version, ''), COALESCE(s.cipher, ''),
       current_setting('azure.extensions', true), current_setting('rds.allowed_extensions', true)
FROM pg_catalog.pg_roles r
LEFT JOIN pg_catalog.pg_stat_ssl s ON s.pid = pg_catalog.pg_backend_pid()
WHERE r.rolname = current_user`

func readFacts(ctx context.Context, conn *pgx.Conn) (*facts, error) {
	var f facts
	err := conn.QueryRow(ctx, factsQuery).Scan(&f.user, &f.database, &f.version, &f.versionNum,
		&f.superuser, &f.createDB, &f.databaseCreate,
		&f.tls.encrypted, &f.tls.protocol, &f.tls.cipher, &f.azureExtensions, &f.rdsExtensions)
	if err != nil {
		return nil, serverError(err)
	}
	return &f, nil
}
