package main

import (
	"context"

	"keel/planner/inspect"
	"keel/planner/state"
)

type inspectCmd struct {
	target
}

// Run prints the live state of the profile's schemas (all but the system
// ones when the profile names none) as HCL.
func (c *inspectCmd) Run(ctx context.Context, r *resolved, s *streams) error {
	conn, err := r.open(ctx, "inspect")
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := inspect.Inspect(ctx, conn, r.profile.Schemas)
	if err != nil {
		return err
	}
	// The catalog says what the engine does not model (storage parameters,
	// deferrable constraints, ...): MarshalHCL prints it as keel's attributes.
	if st.Catalog, err = inspect.ReadCatalog(ctx, conn, st.SchemaNames()); err != nil {
		return err
	}
	out, err := state.MarshalHCL(st)
	if err != nil {
		return err
	}
	_, err = s.out.Write(out)
	return err
}
