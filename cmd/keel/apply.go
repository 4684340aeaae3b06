package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"keel/envs"
	"keel/internal/trace"
	"keel/planner"
	"keel/planner/apply"
	"keel/planner/plan"
	"keel/planner/planfile"
	"keel/planner/render"
	"keel/planner/state"
)

type applyCmd struct {
	target
	Plan        string   `help:"A plan file from keel plan --out, approved with keel approve; required where apply = \"review\"."`
	AllowHazard []string `name:"allow-hazard" help:"Allow a hazard the env denies (repeatable), where apply = \"auto\"."`
	AutoApprove bool     `name:"auto-approve" help:"Where apply = \"auto\": apply a plan with danger hazards without asking (needed without a terminal)."`
}

func (c *applyCmd) Run(ctx context.Context, r *resolved, s *streams) (err error) {
	if c.Plan == "" && r.profile.Apply != envs.ApplyAuto {
		return &plan.RefusedError{Reason: fmt.Sprintf(
			"env %s applies only reviewed plans (apply = %q in %s): run `keel plan --env %[1]s --out plan.json`, "+
				"get it approved (`keel approve plan.json --by NAME`), then `keel apply --env %[1]s --plan plan.json`",
			r.profile.Name, r.profile.Apply, r.profile.File)}
	}
	if c.Plan != "" {
		// A plan file holds its statements: no engine plans them again.
		r.atlasErr = nil
	}
	if err := r.ready(); err != nil {
		return err
	}
	var (
		file     *planfile.File
		approval *planfile.Approval
	)
	if c.Plan != "" {
		if file, err = planfile.ReadFile(c.Plan); err != nil {
			return err
		}
		expect := planfile.Expect{Env: r.profile.Name, Target: r.db.Target(), Approvers: r.profile.Approvers}
		if approval, err = file.Verify(expect); err != nil {
			return err
		}
		if err := checkDenied(file.Plan, r); err != nil {
			return err
		}
	}
	conn, err := r.open(ctx, "apply")
	if err != nil {
		return err
	}
	defer conn.Close()
	// One apply at a time per database: the lock covers reading the live
	// state, applying and checking the result, all on this connection.
	sess, err := apply.Lock(ctx, conn, r.profile.Name, r.profile.LockWaitDuration())
	if err != nil {
		return err
	}
	// A lock that was not released is reported even after a success.
	defer func() { err = errors.Join(err, sess.Close()) }()
	for _, id := range sess.Interrupted {
		fmt.Fprintf(s.err, "keel: apply #%d was interrupted after its transaction committed (the connection was lost or keel was killed); "+
			"recorded it as failed in keel.history. Some statements that run after the transaction may not have run: this plan includes what remains.\n", id)
	}
	if file != nil {
		return applyFile(ctx, sess, r, s, file, approval)
	}
	r.opts.Applying = true
	p, want, err := planner.Generate(ctx, conn, r.desired, r.opts)
	if err != nil {
		return r.check(ctx, conn, nil, err, true)
	}
	if err := allowHazards(p, c.AllowHazard); err != nil {
		return err
	}
	if err := checkDenied(p, r); err != nil {
		return err
	}
	if p.Matches() {
		return matches(ctx, sess, r, s, p)
	}
	if len(p.Unplanned) > 0 {
		// Shown whole; Execute refuses it before anything runs.
		if err := render.Text(s.out, p); err != nil {
			return err
		}
	} else if err := c.confirm(p, s); err != nil {
		return err
	}
	return execute(ctx, sess, r, s, p, want, "", false)
}

// confirm asks, as Terraform does, before a plan made here that carries a
// danger hazard runs: a person at a terminal types yes; without a terminal
// only --auto-approve lets it run.
func (c *applyCmd) confirm(p *plan.Plan, s *streams) error {
	var danger []string
	for _, h := range p.Hazards() {
		if h.Severity == plan.SeverityDanger {
			danger = append(danger, fmt.Sprintf("%s %s", h.Code, h.Object))
		}
	}
	if len(danger) == 0 || c.AutoApprove {
		return nil
	}
	noun := "hazards"
	if len(danger) == 1 {
		noun = "hazard"
	}
	what := fmt.Sprintf("the plan has %d danger %s (%s)", len(danger), noun, strings.Join(firstN(danger, 3), ", "))
	if !s.terminal {
		return &plan.RefusedError{Reason: what + ", and no terminal is attached to confirm it: " +
			"review it with keel plan, then run keel apply again with --auto-approve"}
	}
	if err := render.Text(s.out, p); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "\n%s. Apply it? Only \"yes\" applies: ", strings.ToUpper(what[:1])+what[1:])
	answer, _ := bufio.NewReader(s.in).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		return &plan.RefusedError{Reason: "not confirmed"}
	}
	return nil
}

func firstN(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(list[:n:n], fmt.Sprintf("%d more", len(list)-n))
}

// applyFile applies a reviewed plan file exactly as it was approved.
func applyFile(ctx context.Context, sess *apply.Session, r *resolved, s *streams, f *planfile.File, approval *planfile.Approval) error {
	want, err := planner.Normalize(ctx, sess.Conn(), r.desired, r.opts)
	if err != nil {
		return r.check(ctx, sess.Conn(), nil, err, true)
	}
	fp, err := want.Fingerprint()
	if err != nil {
		return err
	}
	if fp.Hash != f.Plan.To.Hash {
		changes := f.Plan.To.Changes(fp)
		return &plan.RefusedError{Reason: fmt.Sprintf("the desired state %s no longer matches the plan's:\n  %s\nrun keel plan again and get the new plan reviewed",
			r.desiredPath, strings.Join(changes, "\n  "))}
	}
	fmt.Fprintf(s.out, "Plan %s approved by %s at %s.\n", f.Digest, approval.By, approval.At.Format("2006-01-02 15:04:05Z07:00"))
	return execute(ctx, sess, r, s, f.Plan, want, approval.By, true)
}

// execute runs the plan in the session. keel.history records the plan's
// digest, the same whether it came from a plan file (fromFile) or was made
// here; a plan file already applied is refused.
func execute(ctx context.Context, sess *apply.Session, r *resolved, s *streams, p *plan.Plan, want *state.State, approver string, fromFile bool) error {
	if p.Matches() {
		return matches(ctx, sess, r, s, p) // a plan file of no changes: the state is kept all the same
	}
	opts := apply.ApplyOptions{
		Approver: approver,
		// A plan made here and now is not a replay of an earlier one.
		JustPlanned: !fromFile,
		// The checks of keel doctor for exactly these statements, inside
		// the plan's transaction, before any runs.
		BeforeRun: func(p *plan.Plan) error {
			return r.check(ctx, sess.Conn(), p, nil, true)
		},
		Progress: func(i int, st plan.Step) {
			if i == 1 {
				fmt.Fprintf(s.out, "Applying %d statements to %s in one transaction (%s)\n", len(p.Steps), p.Target, p.Summary())
			}
			fmt.Fprintf(s.out, "-- %d/%d: %s\n", i, len(p.Steps), st.Comment)
			for _, h := range st.Hazards {
				fmt.Fprintf(s.out, "--   ! %s [%s] %s: %s\n", h.Code, h.Severity, h.Object, h.Message)
			}
			fmt.Fprintf(s.out, "%s;\n", st.SQL)
		},
		Retry: func(attempt int, wait time.Duration, err *apply.StepError) {
			// A table lock's holder is named; a wait for another transaction
			// to end (a concurrent index build waits so) has none to name.
			held := "lock held by " + err.Blocker
			if err.Blocker == "" {
				held = "no table lock's holder found: it may have been waiting for another transaction to end"
			}
			fmt.Fprintf(s.err, "keel: statement %d of %d hit lock_timeout %s (%s); retrying in %s (retry %d of %d)\n",
				err.Index, err.Total, err.Step.LockTimeout, held, wait.Round(time.Millisecond), attempt, p.LockRetries)
		},
	}
	if err := sess.Execute(ctx, p, want, opts); err != nil {
		return err
	}
	trace.Mark(ctx, "apply: run, checked against the catalog and committed")
	fmt.Fprintf(s.out, "\nApplied: %s. The database matches the desired state.\n", p.Summary())
	keep(ctx, sess, r, s)
	return nil
}

// matches ends an apply whose plan has no changes: the database matches
// the desired state. A database keel never applied gets keel's schema
// (apply.Session.Adopt) so that the normalized state is kept there as after
// any apply: a plan on a runner whose cache is empty then starts from it.
// Only a state that can be kept (HCL files, the cache on) makes it. Failing
// that is said, not returned: the database matches.
func matches(ctx context.Context, sess *apply.Session, r *resolved, s *streams, p *plan.Plan) error {
	var made bool
	if planner.Keepable(r.desired, r.opts) {
		var err error
		if made, err = sess.Adopt(ctx, p); err != nil {
			fmt.Fprintf(s.err, "keel: the database matches, but keel cannot make its schema to keep the normalized state in "+
				"(until it can, a plan on a runner with an empty cache normalizes the desired state again, but for the tables whose blocks are as keel inspect prints them): %v\n", err)
		}
	}
	kept := keep(ctx, sess, r, s)
	if err := render.Text(s.out, p); err != nil {
		return err
	}
	if made {
		what := "keel.history and keel.managed_schemas"
		if kept {
			what = "keel.history, keel.managed_schemas and the normalized state in keel.normalized_states, for plans on runners with an empty cache"
		}
		names := make([]string, len(p.Schemas))
		for i, n := range p.Schemas {
			names[i] = plan.DisplayPart(n)
		}
		fmt.Fprintf(s.out, "keel made its schema %s in this database, as a first apply does: %s (schemas managed: %s).\n",
			plan.KeelSchema, what, strings.Join(names, ", "))
	}
	return nil
}

// keep stores the normalized desired state in the database once it matches
// it (planner.Keep), for the next plan on a runner whose cache is empty,
// and reports whether it is there. A failure is said, not returned: the
// apply stands.
func keep(ctx context.Context, sess *apply.Session, r *resolved, s *streams) bool {
	kept, err := planner.Keep(ctx, sess.Conn(), r.desired, r.opts)
	if err != nil {
		fmt.Fprintf(s.err, "keel: %v (the next plan on a runner with an empty cache normalizes the desired state again, but for the tables whose blocks are as keel inspect prints them)\n", err)
		return false
	}
	trace.Mark(ctx, "apply: normalized state kept")
	return kept
}
