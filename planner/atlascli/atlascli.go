// Package atlascli runs an Atlas CLI binary as keel's second engine, through
// the Atlas SDK (ariga.io/atlas/atlasexec): Atlas plans the statements of
// the tables, enums and schemas it models, and keel reads them, adds its
// own (extensions, views, functions, settings, ...) and reviews, applies and
// verifies the plan as it does the embedded engine's.
//
// Connection strings reach the binary through its environment only (an
// atlas.hcl of keel's reads them with getenv), never on its command line,
// where other users of the machine could read them; text it prints is
// scrubbed of passwords before keel shows it.
package atlascli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"keel/planner/pg"

	"ariga.io/atlas/atlasexec"
)

// EnvBin names the environment variable that points keel at an Atlas
// binary when neither the profile (atlas_bin) nor --atlas-bin does.
const EnvBin = "KEEL_ATLAS_BIN"

// Binary is an Atlas CLI executable.
type Binary struct {
	// Path is the executable's path.
	Path string
	// From says how it was found: "--atlas-bin", "the profile's atlas_bin",
	// "KEEL_ATLAS_BIN" or "PATH".
	From string
}

// Find locates the Atlas binary: explicit (from --atlas-bin or the
// profile's atlas_bin, as from says), else $KEEL_ATLAS_BIN, else atlas on
// PATH. The error says what was looked at and how to install one.
func Find(explicit, from string) (Binary, error) {
	if explicit == "" {
		explicit, from = os.Getenv(EnvBin), EnvBin
	}
	if explicit != "" {
		p, err := exec.LookPath(explicit)
		if err != nil {
			return Binary{}, fmt.Errorf("the Atlas binary %s (from %s) cannot be run: %w", explicit, from, errors.Unwrap(err))
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return Binary{}, err
		}
		return Binary{Path: abs, From: from}, nil
	}
	p, err := exec.LookPath("atlas")
	if err != nil {
		return Binary{}, errors.New("no Atlas binary: none named atlas on PATH, and neither --atlas-bin, the profile's atlas_bin nor " + EnvBin +
			" names one; install the Atlas CLI (https://atlasgo.io/getting-started#installation) or plan with keel's embedded engine (--engine embedded)")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return Binary{}, err
	}
	return Binary{Path: abs, From: "PATH"}, nil
}

// Version returns the first line `atlas version` prints ("atlas version
// v0.38.0" or, for a build from source, "atlas community version -
// development").
func (b Binary) Version(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.Path, "version")
	cmd.Env = append(os.Environ(), "ATLAS_NO_UPDATE_NOTIFIER=1")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("running %s version: %w", b.Path, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if !strings.HasPrefix(line, "atlas ") {
		return "", fmt.Errorf("%s version printed %q, not an Atlas version: is it the Atlas CLI?", b.Path, line)
	}
	return line, nil
}

// Community reports whether a version line is a community build's, which
// has no login and models fewer objects than the official one.
func Community(version string) bool { return strings.Contains(version, "community") }

// Login says whether the binary is logged in to Atlas Cloud: "logged in to
// ORG", "not logged in", or, for a community build, which has no login,
// "no login in a community build".
func (b Binary) Login(ctx context.Context, version string) (string, error) {
	if Community(version) {
		return "no login in a community build", nil
	}
	c, err := b.client("")
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	who, err := c.WhoAmI(ctx, &atlasexec.WhoAmIParams{})
	if err != nil {
		if errors.Is(err, atlasexec.ErrRequireLogin) || strings.Contains(err.Error(), "login") {
			return "not logged in", nil
		}
		return "", fmt.Errorf("running %s whoami: %s", b.Path, cleanOutput(err.Error(), nil))
	}
	return "logged in to " + who.Org, nil
}

func (b Binary) client(dir string) (*atlasexec.Client, error) {
	c, err := atlasexec.NewClient(dir, b.Path)
	if err != nil {
		return nil, fmt.Errorf("the Atlas binary %s (from %s): %w", b.Path, b.From, err)
	}
	return c, nil
}

// Request is what Atlas plans from.
type Request struct {
	// Target is the database to bring to the desired state.
	Target *pg.DB
	// Dev is an empty throwaway database, where Atlas normalizes the
	// desired state; the extensions the desired state uses are installed.
	Dev *pg.DB
	// Desired is the desired state in the engine's HCL: keel's, with the
	// blocks keel handles itself taken out.
	Desired []byte
	// Schemas are the managed schemas.
	Schemas []string
}

// Plan asks Atlas for the statements that bring r.Target to r.Desired
// (`atlas schema apply --dry-run`): nothing is applied.
func (b Binary) Plan(ctx context.Context, r Request) ([]string, error) {
	dir, err := os.MkdirTemp("", "keel-atlas-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	quoted := make([]string, len(r.Schemas))
	for i, s := range r.Schemas {
		quoted[i] = hclString(s)
	}
	config := fmt.Sprintf(`# Written by keel for one plan; the URLs come from its environment.
env "keel" {
  url     = getenv("KEEL_ATLAS_URL")
  dev     = getenv("KEEL_ATLAS_DEV_URL")
  schemas = [%s]
}
`, strings.Join(quoted, ", "))
	if err := os.WriteFile(filepath.Join(dir, "atlas.hcl"), []byte(config), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "desired.hcl"), r.Desired, 0o600); err != nil {
		return nil, err
	}
	c, err := b.client(dir)
	if err != nil {
		return nil, err
	}
	env := atlasexec.NewOSEnviron()
	env["KEEL_ATLAS_URL"] = r.Target.ChildURL()
	env["KEEL_ATLAS_DEV_URL"] = r.Dev.ChildURL()
	if err := c.SetEnv(env); err != nil {
		return nil, err
	}
	secrets := []string{r.Target.Password(), r.Dev.Password()}
	res, err := c.SchemaApply(ctx, &atlasexec.SchemaApplyParams{
		ConfigURL: "file://atlas.hcl", Env: "keel", To: "file://desired.hcl", DryRun: true,
	})
	if err == nil && res.Error != "" {
		err = errors.New(res.Error)
	}
	if err != nil {
		return nil, fmt.Errorf("the Atlas engine (%s) could not plan: %s; nothing was changed: plan with keel's embedded engine (--engine embedded), "+
			"or see where the engines differ with keel plan --cross-check", b.Path, cleanOutput(err.Error(), secrets))
	}
	if len(res.Changes.Applied) > 0 {
		// A dry run applies nothing; if this ever differs, keel must know.
		return nil, fmt.Errorf("the Atlas engine (%s) reports %d statement(s) applied in a dry run: the target may have changed", b.Path, len(res.Changes.Applied))
	}
	return res.Changes.Pending, nil
}

// hclString is s as an HCL string literal: quoted and escaped, and with
// HCL's template sequences ("${", "%{") escaped, so that a schema's name
// is read as written.
func hclString(s string) string {
	q := strconv.Quote(s)
	q = strings.ReplaceAll(q, "${", "$${")
	return strings.ReplaceAll(q, "%{", "%%{")
}

// cleanOutput is what Atlas printed, without the notices of a community
// build and with every secret replaced by "****".
func cleanOutput(s string, secrets []string) string {
	for _, cut := range []string{"You're running the community build", "Notice: This Atlas edition"} {
		if i := strings.Index(s, cut); i >= 0 {
			s = s[:i]
		}
	}
	for _, p := range secrets {
		if p != "" {
			s = strings.ReplaceAll(s, p, "****")
		}
	}
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "Error: "))
	if s == "" {
		s = "it exited with an error and printed no reason"
	}
	return s
}
