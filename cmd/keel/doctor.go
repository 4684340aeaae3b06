package main

import (
	"context"
	"errors"
	"fmt"

	"keel/doctor"
	"keel/envs"
	"keel/internal/connstr"
	"keel/planner"
	"keel/planner/atlascli"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
	"keel/planner/state"
)

type doctorCmd struct {
	target
	Format string `enum:"text,json" default:"text" help:"Output: text (one line per check) or json."`
}

func (c *doctorCmd) Run(ctx context.Context, r *resolved, s *streams) error {
	var rep *doctor.Report
	conn, err := r.db.Open(ctx, fmt.Sprintf("keel doctor %s", r.profile.Name))
	if err != nil {
		rep = doctor.ConnectionFailed(r.db, err)
	} else {
		defer conn.Close()
		opts := r.doctorOptions()
		opts.SkipHistory = false
		opts.Engine, opts.Atlas, opts.AtlasErr = r.engine, r.opts.Atlas, r.atlasErr
		if opts.Atlas == nil && r.engine != envs.EngineAtlas {
			// Reported even when not used, for a team that means to.
			if b, err := atlascli.Find("", ""); err == nil {
				opts.Atlas = &b
			}
		}
		if opts.PlanErr = r.ready(); opts.PlanErr == nil {
			opts.Plan, _, opts.PlanErr = planner.Generate(ctx, conn, r.desired, r.opts)
		}
		// A desired state that does not read is about the files, not the
		// database: keel validate's answer, not a check.
		var se *state.SchemaError
		if errors.As(opts.PlanErr, &se) {
			return opts.PlanErr
		}
		opts.Declared, opts.NormalizeRefused = r.declaredUnless(opts.Plan), r.normalizeRefused()
		rep = doctor.Run(ctx, conn, opts)
		if other, ok := r.otherConnection(opts.PlanErr); ok {
			explainPlanCheck(rep, other.Checks[0])
		}
	}
	switch c.Format {
	case "json":
		err = doctor.WriteJSON(s.out, rep)
	default:
		err = doctor.WriteText(s.out, rep)
	}
	if err != nil {
		return err
	}
	if n := len(rep.Failures()); n > 0 {
		return &codeError{code: exitError, err: fmt.Errorf("%d of %d checks failed: fix them as the report says, then run keel doctor again", n, len(rep.Checks))}
	}
	return nil
}

// otherConnection explains err when a connection to a database other than
// the target failed in it (the dev_url server, the desired state's
// database): the check keel doctor makes of the target's connection, in the
// same words and with its fix, naming which database it is.
func (r *resolved) otherConnection(err error) (*doctor.Report, bool) {
	var ce *pg.ConnectError
	if !errors.As(err, &ce) || ce.DB == r.db {
		return nil, false
	}
	dev := r.opts.Dev.Server
	name, url := "connection to the throwaway database", ""
	switch {
	case dev != nil && ce.DB == dev:
		name, url = devConnection, "dev_url (the profile's, --dev-url or KEEL_DEV_URL)"
	case connstr.IsURL(r.schemaPath) || connstr.IsKeywordValue(r.schemaPath):
		name, url = "connection to the desired state's database", "the desired state's URL (--schema or the profile's schema)"
	case dev != nil:
		name, url = devConnection, "dev_url (the profile's, --dev-url or KEEL_DEV_URL)"
	}
	return doctor.ConnectionFailedTo(name, url, ce.DB, ce), true
}

// devConnection names the check of the connection to the dev_url server.
const devConnection = "connection to the dev_url server"

// explainPlanCheck gives keel doctor's plan check, which failed for want of
// connection c, that connection's explanation and fix. A dev_url server the
// throwaway database check could not reach either is named, not explained
// twice.
func explainPlanCheck(rep *doctor.Report, c doctor.Check) {
	throwawayFailed := false
	for _, f := range rep.Failures() {
		throwawayFailed = throwawayFailed || f.Name == "throwaway database"
	}
	for i := range rep.Checks {
		p := &rep.Checks[i]
		if p.Name != "plan" || p.Status == doctor.OK {
			continue
		}
		p.Message, p.Fix = "cannot compute the plan: "+c.Name+" failed: "+c.Message, c.Fix
		if c.Name == devConnection && throwawayFailed {
			p.Message = "cannot compute the plan: keel cannot connect to the dev_url server (see the throwaway database check)"
		}
	}
}

// doctorOptions are the checks' options for the resolved target; plan and
// apply skip the history and lock checks (apply holds the lock itself).
func (r *resolved) doctorOptions() doctor.Options {
	return doctor.Options{Schemas: r.opts.Schemas, Dev: r.opts.Dev.Server, TLS: r.profile.TLS, SkipHistory: true}
}

// declaredUnless is the desired state as written, for the checks, unless
// the plan p answers what they ask (its statements and extensions): a plan
// from the cache then never parses the HCL files.
func (r *resolved) declaredUnless(p *plan.Plan) *state.State {
	if p != nil && p.DesiredExtensions != nil {
		return nil
	}
	return r.declared()
}

// declared is the desired state as written, when it is HCL that parses.
func (r *resolved) declared() *state.State {
	if h, ok := source.HCLOf(r.desired); ok {
		if st, err := h.Parsed(); err == nil {
			return st
		}
	}
	return nil
}

// check runs the checks of keel doctor (but for history and lock) for the
// plan p, or for none when it could not be made (planErr). With strict
// (apply), a failed check is an error and nothing runs; otherwise (plan)
// failed checks are written to stderr as warnings. Without a plan, the
// error says why, with the checks that explain it.
func (r *resolved) check(ctx context.Context, conn *pg.Conn, p *plan.Plan, planErr error, strict bool) error {
	// The desired state does not read: that is about the files, not the
	// database, and says so on its own.
	var (
		se *state.SchemaError
		le *source.LoadError
	)
	if errors.As(planErr, &se) || errors.As(planErr, &le) {
		return planErr
	}
	// A database other than the target is unreachable: said as for the
	// target, before any check runs.
	if rep, ok := r.otherConnection(planErr); ok {
		return rep.Err()
	}
	opts := r.doctorOptions()
	opts.Plan, opts.PlanErr, opts.Declared, opts.NormalizeRefused = p, planErr, r.declaredUnless(p), r.normalizeRefused()
	rep := doctor.Run(ctx, conn, opts)
	if strict && rep.Failed() {
		return fmt.Errorf("refusing to apply, nothing was executed: %w", rep.Err())
	}
	if p == nil {
		if err := rep.Err(); err != nil {
			return err
		}
		return planErr
	}
	return doctor.WriteWarnings(r.streams.err, rep)
}
