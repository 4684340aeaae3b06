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

	"keel/planner"
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

// TLSRequirement is how well the session must be protected.
type TLSRequirement string

// The TLS requirements, named after libpq's sslmode.
const (
	// TLSAny accepts any session; an unencrypted one to another host is a warning.
	TLSAny TLSRequirement = ""
	// TLSPrefer is TLSAny.
	TLSPrefer TLSRequirement = "prefer"
	// TLSRequire fails an unencrypted session.
	TLSRequire TLSRequirement = "require"
	// TLSVerifyFull also fails a session whose client does not verify the
	// server's certificate and host name.
	TLSVerifyFull TLSRequirement = "verify-full"
)

// Options say what to check.
type Options struct {
	// Desired is the desired state. Its extensions are checked, and Run
	// computes the plan from it when Plan is nil. Nil skips both.
	Desired planner.Desired
	// Planner are the options to plan with: the managed schemas and where
	// the throwaway database goes.
	Planner planner.Options
	// Plan, when set, is the plan whose privileges are checked; Run then
	// computes none.
	Plan *plan.Plan
	// TLS is the protection the session needs.
	TLS TLSRequirement
	// SkipHistory skips the checks of keel's history table and apply lock,
	// and the check for a connection pooler in the way of that lock.
	SkipHistory bool
	// NormalizeRefused, when set, says why the desired state may not be
	// normalized on the target's server: the throwaway database check fails
	// with it, and no plan is computed.
	NormalizeRefused string
}

// Run runs the checks on target. It never changes the target: the apply lock
// is taken and released at once, and a computed plan is only computed. When
// the connection fails, that is the only check reported; when it goes
// through a transaction or statement pooler, the connection and that are.
func Run(ctx context.Context, target *pg.DB, opts Options) *Report {
	r := &Report{Target: target.Target(), Plan: opts.Plan}
	conn, attempts, err := connect(ctx, target)
	if err != nil {
		r.add(connectionFailed(target, attempts, err))
		return r
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Before any other statement: through a transaction pooler every later
	// check would run on whichever server connection the pooler hands out,
	// and the lock check could leave the apply lock behind on one of them.
	var pooler Check
	if !opts.SkipHistory {
		if pooler = poolerCheck(ctx, target, conn); pooler.Status != OK {
			t := target.Target()
			r.add(Check{Name: "connection", Status: OK, Message: fmt.Sprintf("connected to %s:%d, database %q, user %q (%s)", t.Host, t.Port, t.Database, t.User, attemptsText(attempts))},
				pooler)
			return r
		}
	}
	f, err := readFacts(ctx, conn)
	if err != nil {
		r.add(Check{Name: "connection", Status: Fail, Message: fmt.Sprintf("connected, but reading the server's settings failed: %v", err),
			Fix: "check that the server is PostgreSQL 11 or later and that the role may read pg_catalog"})
		return r
	}
	f.target = target.Target()
	r.add(Check{Name: "connection", Status: OK,
		Message: fmt.Sprintf("PostgreSQL %s at %s:%d, database %q, user %q (%s)", f.version, f.target.Host, f.target.Port, f.database, f.user, attemptsText(attempts))})
	r.add(tlsCheck(opts.TLS, f.tls, isLocal(f.target.Host), target.ServerVerification()))

	var planCheck *Check
	if opts.NormalizeRefused != "" {
		r.add(Check{Name: "throwaway database", Status: Fail, Message: opts.NormalizeRefused,
			Fix: "set dev_url in the profile (or --dev-url) to a scratch server, or normalize_on_target = true"})
		if r.Plan == nil && opts.Desired != nil {
			planCheck = &Check{Name: "plan", Status: Warn, Message: "not computed: the desired state cannot be normalized (see throwaway database)"}
		}
	} else {
		r.add(throwawayCheck(ctx, f, opts.Planner.Dev.Server))
	}
	// The plan first: an HCL desired state may still be parsing in the
	// background, and a plan from the cache does not wait for it.
	if r.Plan == nil && opts.Desired != nil && planCheck == nil {
		c := r.plan(ctx, target, opts)
		planCheck = &c
	}
	// The desired extensions: from the plan when it has them (a plan from
	// the cache never parses the HCL), else as declared.
	var declared *state.State
	var wanted []plan.Extension
	if r.Plan != nil && r.Plan.DesiredExtensions != nil && opts.Desired != nil {
		wanted = r.Plan.DesiredExtensions
	} else if declared = declaredState(opts.Desired); declared != nil {
		wanted = declared.Extensions
	}
	if wanted != nil {
		exts, err := extensionChecks(ctx, conn, f, wanted)
		if err != nil {
			r.add(Check{Name: "extensions", Status: Fail, Message: err.Error()})
		}
		r.add(exts...)
	}
	if planCheck != nil {
		if planCheck.Status == Fail && r.Failed() {
			// Most likely a failure above; privileges are checked against the
			// declared state instead.
			planCheck.Status = Warn
			planCheck.Fix = "fix the failures reported here; the privileges below were checked against the declared state, not a plan"
		}
		r.add(*planCheck)
	}
	privs, err := privilegeChecks(ctx, conn, f, r.Plan, declared, opts.Planner.Schemas)
	if err != nil {
		r.add(Check{Name: "privileges", Status: Fail, Message: err.Error()})
	}
	r.add(privs...)
	if !opts.SkipHistory {
		r.add(historyCheck(ctx, conn, f), pooler, lockCheck(ctx, conn))
	}
	return r
}

// plan computes the plan, to check exactly the privileges it needs.
func (r *Report) plan(ctx context.Context, target *pg.DB, opts Options) Check {
	p, err := planner.Generate(ctx, target, opts.Desired, opts.Planner)
	if err != nil {
		return Check{Name: "plan", Status: Fail, Message: "cannot compute the plan: " + err.Error(),
			Fix: "fix what the message names, then run keel doctor again"}
	}
	r.Plan = p
	if p.Empty() {
		return Check{Name: "plan", Status: OK, Message: "no changes: the database matches the desired state"}
	}
	return Check{Name: "plan", Status: OK, Message: fmt.Sprintf("%d %s (%s)", len(p.Steps), plural(len(p.Steps), "statement", "statements"), p.Summary())}
}

// declaredState returns the desired state as written, when the source has one.
func declaredState(d planner.Desired) *state.State {
	if h, ok := planner.HCLOf(d); ok {
		if st, err := h.Parsed(); err == nil {
			return st
		}
	}
	return nil
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
