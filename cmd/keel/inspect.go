package main

import (
	"context"

	"keel/envs"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/state"
)

type inspectCmd struct {
	Env string `required:"" help:"Environment profile: a file envs/NAME.hcl."`
	URL string `name:"url" help:"Database URL; overrides the profile's."`
}

// Run prints the live state of the profile's schemas (all but the system
// ones when the profile names none) as HCL.
func (c *inspectCmd) Run(ctx context.Context, root *cli, s *streams) error {
	p, err := envs.Load(root.EnvsDir, c.Env)
	if err != nil {
		return err
	}
	raw := c.URL
	if raw == "" {
		if raw, err = p.URL(); err != nil {
			return err
		}
	}
	db, err := pg.ParseURL(raw)
	if err != nil {
		return err
	}
	st, err := inspect.Inspect(ctx, db, p.Schemas)
	if err != nil {
		return err
	}
	out, err := state.MarshalHCL(st)
	if err != nil {
		return err
	}
	_, err = s.out.Write(out)
	return err
}
