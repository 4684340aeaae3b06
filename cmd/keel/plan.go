package main

import (
	"context"
	"fmt"

	"keel/planner"
)

type planCmd struct {
	target
	Format           string `enum:"text,sql" default:"text" help:"Output: text (statements, summary, objects not managed) or sql (statements only, for psql)."`
	DetailedExitcode bool   `name:"detailed-exitcode" help:"Exit 2 when there are changes, 0 when there are none."`
	Out              string `help:"Also save the plan to this file, for keel approve and keel apply --plan."`
}

func (c *planCmd) Run(ctx context.Context, root *cli, s *streams) error {
	r, err := c.resolve(root, s)
	if err != nil {
		return err
	}
	plan, err := planner.Generate(ctx, r.db, r.desired, r.opts)
	if err != nil {
		return err
	}
	switch c.Format {
	case "sql":
		err = planner.RenderSQL(s.out, plan)
	default:
		err = planner.RenderText(s.out, plan)
	}
	if err != nil {
		return err
	}
	if c.Out != "" {
		f := planner.NewFile(plan, r.profile.Name, r.desiredPath, version)
		if err := f.Write(c.Out); err != nil {
			return err
		}
		fmt.Fprintf(s.err, "Saved the plan to %s (digest %s). Next: keel approve %s --by NAME, then keel apply --env %s --plan %s\n",
			c.Out, f.Digest, c.Out, r.profile.Name, c.Out)
	}
	if c.DetailedExitcode && !plan.Empty() {
		return &codeError{code: exitChanges}
	}
	return nil
}
