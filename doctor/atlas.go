package doctor

import (
	"context"
	"fmt"

	"keel/planner/atlascli"
)

// atlasCheck reports the Atlas binary: whether there is one, its version
// and whether it is logged in. It fails only when the env plans with it
// (engine = "atlas") and it cannot be used.
func atlasCheck(ctx context.Context, opts Options) Check {
	c := Check{Name: "atlas engine"}
	used := opts.Engine == "atlas"
	if opts.Atlas == nil {
		if !used {
			c.Status, c.Message = OK, "not used (the engine is keel's embedded one); no Atlas binary found"
			return c
		}
		c.Status, c.Message = Fail, opts.AtlasErr.Error()
		c.Fix = "install the Atlas CLI and put it on PATH, or name it with atlas_bin in the profile, --atlas-bin or " + atlascli.EnvBin + "; or plan with engine = \"embedded\""
		return c
	}
	b := *opts.Atlas
	version, err := b.Version(ctx)
	if err != nil {
		c.Status, c.Message = Warn, err.Error()
		if used {
			c.Status = Fail
		}
		c.Fix = "point atlas_bin, --atlas-bin or " + atlascli.EnvBin + " at a working Atlas CLI"
		return c
	}
	login, err := b.Login(ctx, version)
	if err != nil {
		login = "login unknown: " + err.Error()
	}
	c.Status = OK
	c.Message = fmt.Sprintf("%s at %s (from %s); %s", version, b.Path, b.From, login)
	if !used {
		c.Message = "not used (the engine is keel's embedded one); found " + c.Message
	}
	return c
}
