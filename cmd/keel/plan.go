package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"keel/planner"
	"keel/planner/plan"
	"keel/planner/planfile"
	"keel/planner/render"
)

type planCmd struct {
	target
	Format           string   `enum:"text,sql,json,markdown" default:"text" help:"Output: text, sql (statements only, for psql), json (documented, stable) or markdown (a pull-request comment)."`
	AllowHazard      []string `name:"allow-hazard" help:"Allow a hazard the env denies (repeatable); recorded in the plan file."`
	DetailedExitcode bool     `name:"detailed-exitcode" help:"Exit 2 when there are changes, 0 when there are none."`
	Out              string   `help:"Also save the plan to this file, for keel approve and keel apply --plan."`
	ShowTarget       bool     `name:"show-target" help:"With --format markdown, show the target's host, port and user (by default only the database: a pull-request comment may be public)."`
	CrossCheck       bool     `name:"cross-check" help:"Plan with both engines (embedded and atlas), run each plan on its own scratch copy of the target on the dev server, and report where the results differ; exits 1 when they do. Changes nothing on the target."`
}

func (c *planCmd) Run(ctx context.Context, r *resolved, s *streams) error {
	if err := r.ready(); err != nil {
		return err
	}
	conn, err := r.open(ctx, "plan")
	if err != nil {
		return err
	}
	defer conn.Close()
	if c.CrossCheck {
		return c.crossCheck(ctx, conn, r, s)
	}
	// Fingerprints only matter to a plan that is saved or read by tools.
	r.opts.NoFingerprints = c.Out == "" && c.Format != "json"
	p, _, err := planner.Generate(ctx, conn, r.desired, r.opts)
	if err := r.check(ctx, conn, p, err, false); err != nil {
		return err
	}
	if err := allowHazards(p, c.AllowHazard); err != nil {
		return err
	}
	if c.Format == "markdown" {
		err = render.MarkdownWith(s.out, p, render.MarkdownOptions{Env: r.profile.Name, ShowTarget: c.ShowTarget})
	} else {
		err = render.Formats[c.Format](s.out, p)
	}
	if err != nil {
		return err
	}
	if err := checkDenied(p, r); err != nil {
		return err
	}
	if len(p.Unplanned) > 0 {
		// Not saved: it cannot be applied.
		code := exitError
		if c.DetailedExitcode {
			code = exitChanges
		}
		return &codeError{code: code, err: unplannedError(p)}
	}
	if c.Out != "" {
		f := planfile.NewFile(p, r.profile.Name, r.desiredPath, version)
		if err := f.Write(c.Out); err != nil {
			return err
		}
		fmt.Fprintf(s.err, "Saved the plan to %s (digest %s). Next: keel approve %s --by NAME, then keel apply --env %s --plan %s\n",
			c.Out, f.Digest, c.Out, r.profile.Name, c.Out)
	}
	if c.DetailedExitcode && !p.Empty() {
		return &codeError{code: exitChanges}
	}
	return nil
}

// unplannedError says that p leaves differences the catalog shows.
func unplannedError(p *plan.Plan) error {
	return fmt.Errorf("the database differs from the desired state in %d way(s) keel cannot plan (listed in the plan, the first: %s)",
		len(p.Unplanned), p.Unplanned[0].Object)
}

// allowHazards records the --allow-hazard codes in the plan.
func allowHazards(p *plan.Plan, codes []string) error {
	for _, code := range codes {
		c, err := plan.ParseHazardCode(code)
		if err != nil {
			return err
		}
		p.Allowed = append(p.Allowed, c)
	}
	return nil
}

// checkDenied refuses a plan with hazards the env denies and the planner did
// not allow.
func checkDenied(p *plan.Plan, r *resolved) error {
	denied := p.Denied(r.profile.Denied())
	if len(denied) == 0 {
		return nil
	}
	var lines []string
	codes := map[plan.HazardCode]bool{}
	for _, h := range denied {
		lines = append(lines, fmt.Sprintf("%s: %s (%s)", h.Code, h.Object, h.Message))
		codes[h.Code] = true
	}
	var flags []string
	for c := range codes {
		flags = append(flags, "--allow-hazard "+string(c))
	}
	sort.Strings(flags)
	return &plan.RefusedError{Reason: fmt.Sprintf("env %s denies these hazards (deny in %s):\n  %s\nif they are intended, plan again with %s: the allowance is recorded in the plan file for the reviewer",
		r.profile.Name, r.profile.File, strings.Join(lines, "\n  "), strings.Join(flags, " "))}
}
