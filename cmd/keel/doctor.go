package main

import (
	"context"
	"fmt"

	"keel/doctor"
	"keel/planner/plan"
)

type doctorCmd struct {
	target
	Format string `enum:"text,json" default:"text" help:"Output: text (one line per check) or json."`
}

func (c *doctorCmd) Run(ctx context.Context, root *cli, s *streams) error {
	r, err := c.resolve(root, s)
	if err != nil {
		return err
	}
	opts := r.doctorOptions()
	opts.SkipHistory = false
	rep := doctor.Run(ctx, r.db, opts)
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

// doctorOptions are the checks' options for the resolved target; plan and
// apply skip the history and lock checks (apply holds the lock itself).
func (r *resolved) doctorOptions() doctor.Options {
	tls := doctor.TLSAny
	switch r.profile.TLS {
	case "require", "verify-ca":
		tls = doctor.TLSRequire
	case "verify-full":
		tls = doctor.TLSVerifyFull
	}
	return doctor.Options{Desired: r.desired, Planner: r.opts, TLS: tls, SkipHistory: true, NormalizeRefused: r.normalizeRefused}
}

// checkedPlan runs the checks a plan depends on (not those of keel's history
// and lock: apply holds the lock itself) and returns the plan they computed,
// or checks the given plan. With strict (apply), a failed check is an error
// and nothing runs; otherwise (plan) failed checks are written to stderr as
// warnings.
func (r *resolved) checkedPlan(ctx context.Context, s *streams, strict bool, p *plan.Plan) (*plan.Plan, error) {
	opts := r.doctorOptions()
	opts.Plan = p
	rep := doctor.Run(ctx, r.db, opts)
	if strict && rep.Failed() {
		return nil, fmt.Errorf("refusing to apply, nothing was executed: %w", rep.Err())
	}
	if rep.Plan == nil {
		// The connection or the plan failed: the report says why.
		return nil, rep.Err()
	}
	if err := doctor.WriteWarnings(s.err, rep); err != nil {
		return nil, err
	}
	return rep.Plan, nil
}
