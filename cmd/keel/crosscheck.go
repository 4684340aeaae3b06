package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"keel/planner"
	"keel/planner/pg"
	"keel/planner/plan"
)

// crossCheck plans with both engines and reports, from PostgreSQL's
// catalog, where the results of their plans differ.
func (c *planCmd) crossCheck(ctx context.Context, conn *pg.Conn, r *resolved, s *streams) error {
	if c.Out != "" || c.Format != "text" || c.DetailedExitcode {
		return errors.New("--cross-check prints a text report and saves no plan: drop --out, --format and --detailed-exitcode")
	}
	bin, err := r.atlas()
	if err != nil {
		return fmt.Errorf("--cross-check: %w", err)
	}
	opts := r.opts
	opts.Atlas = bin
	res, err := planner.CrossCheckPlans(ctx, conn, r.desired, opts)
	if err != nil {
		return err
	}
	if err := writeCrossCheck(s.out, res); err != nil {
		return err
	}
	if !res.Agree() {
		return &codeError{code: exitError, err: errors.New("the engines' plans do not lead to the same database, or not to the desired state: see the report")}
	}
	return nil
}

// writeCrossCheck prints a cross-check's report.
func writeCrossCheck(w io.Writer, c *planner.CrossCheck) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Cross-check: each engine's plan ran on its own scratch copy of the target (made with %s); the catalogs after them are compared.\n", c.CopiedWith)
	if len(c.Unfaithful) > 0 {
		fmt.Fprintf(&b, "\nThe copies differ from the target in %d way(s) before any plan ran (results on these objects say less):\n", len(c.Unfaithful))
		writeDifferences(&b, c.Unfaithful, "target", "copy")
	}
	for _, e := range []planner.EngineResult{c.Embedded, c.Atlas} {
		fmt.Fprintf(&b, "\n%s:\n", e.Engine)
		switch {
		case e.Err != nil:
			fmt.Fprintf(&b, "  no plan: %s\n", plan.OneLine(e.Err.Error()))
			continue
		default:
			fmt.Fprintf(&b, "  %d statement(s)\n", len(e.Plan.Steps))
			for _, st := range e.Plan.Steps {
				fmt.Fprintf(&b, "    %s;\n", strings.ReplaceAll(st.SQL, "\n", "\n    "))
			}
		}
		switch {
		case e.ApplyErr != nil:
			fmt.Fprintf(&b, "  on the copy: %s\n", plan.OneLine(e.ApplyErr.Error()))
		case len(e.Left) == 0:
			b.WriteString("  on the copy: it ran, and the copy matches the desired state\n")
		default:
			fmt.Fprintf(&b, "  on the copy: it ran, and the copy still differs from the desired state in %d way(s):\n", len(e.Left))
			writeDifferences(&b, e.Left, "desired", "after")
		}
	}
	switch {
	case c.Embedded.Plan == nil || c.Atlas.Plan == nil:
		b.WriteString("\nThe engines disagree: only one could plan.\n")
	case len(c.Between) == 0 && c.Agree():
		b.WriteString("\nThe engines agree: both copies end as the desired state.\n")
	case len(c.Between) == 0:
		b.WriteString("\nBoth copies end the same, but not as the desired state (see above).\n")
	default:
		fmt.Fprintf(&b, "\nThe engines disagree: the copies differ in %d way(s) after their plans:\n", len(c.Between))
		writeDifferences(&b, c.Between, "embedded", "atlas")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDifferences lists differences, each side named.
func writeDifferences(b *strings.Builder, diffs []plan.Difference, desired, live string) {
	for _, d := range diffs {
		fmt.Fprintf(b, "    %s\n      %s: %s\n      %s: %s\n", d.Object, desired, plan.OneLine(d.Desired), live, plan.OneLine(d.Live))
	}
}
