// Package envs loads environment profiles: one HCL file per environment in a
// directory (envs/dev.hcl, ...), saying which database to use and what keel
// may do there. It holds data and validation only; the planner never imports it.
package envs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"keel/internal/connstr"
	"keel/internal/hclerr"
	"keel/planner/pg"
	"keel/planner/plan"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// ApplyMode says what `keel apply` does in an environment.
type ApplyMode string

// The apply modes.
const (
	// ApplyAuto plans and applies at once.
	ApplyAuto ApplyMode = "auto"
	// ApplyReview applies only a saved plan that a reviewer approved.
	ApplyReview ApplyMode = "review"
)

// Profile is one environment.
type Profile struct {
	// Name is the file's name without .hcl.
	Name string
	// File is the profile's path.
	File string
	// Root is the directory relative paths are resolved against: the parent of the profiles' directory.
	Root string
	Settings

	lockWait time.Duration
	timeouts plan.Timeouts
	deny     []plan.HazardCode
}

// Settings are the attributes of a profile file.
type Settings struct {
	// URLEnv names the environment variable that holds the database URL.
	URLEnv string `hcl:"url_env"`
	// DefaultURL is used when URLEnv is not set; it may not hold a password.
	DefaultURL string `hcl:"default_url,optional"`
	// Schema is the desired state (default schema.hcl): an .hcl or .sql
	// file or directory, or a postgres:// URL without a password.
	Schema string `hcl:"schema,optional"`
	// Schemas are the managed schemas; empty means those the desired state declares.
	Schemas []string `hcl:"schemas,optional"`
	// DevURL points the throwaway normalization database at another server.
	DevURL string `hcl:"dev_url,optional"`
	// NormalizeOnTarget lets an env with apply = "review" normalize the
	// desired state on the target's server when it has no dev_url.
	NormalizeOnTarget bool `hcl:"normalize_on_target,optional"`

	// Apply is the apply mode.
	Apply ApplyMode `hcl:"apply"`
	// TLS is the weakest sslmode the database URL may use (default "disable": any).
	TLS string `hcl:"tls,optional"`
	// LockWait is how long an apply waits for another apply's lock ("30s").
	LockWait string `hcl:"lock_wait,optional"`
	// Approvers are base64 ed25519 public keys (from keel keygen); when set,
	// a reviewed plan needs an approval signed by one of them.
	Approvers []string `hcl:"approvers,optional"`
	// Deny lists hazard codes a plan may not have unless allowed with --allow-hazard.
	Deny []string `hcl:"deny,optional"`
	// ConcurrentIndexes builds indexes on existing tables CONCURRENTLY.
	ConcurrentIndexes bool `hcl:"concurrent_indexes,optional"`
	// LockTimeout, StatementTimeout and LockRetries bound every statement.
	LockTimeout      string `hcl:"lock_timeout,optional"`
	StatementTimeout string `hcl:"statement_timeout,optional"`
	LockRetries      *int   `hcl:"lock_retries,optional"`
	// Engine plans the statements of tables, enums and schemas: "embedded"
	// (the default, keel's Atlas engine in-process) or "atlas" (an Atlas
	// CLI binary, see AtlasBin).
	Engine string `hcl:"engine,optional"`
	// AtlasBin is the Atlas binary for engine = "atlas" (default: $KEEL_ATLAS_BIN, else atlas on PATH).
	AtlasBin string `hcl:"atlas_bin,optional"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Names lists the profiles in dir.
func Names(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".hcl"))
	}
	sort.Strings(names)
	return names, nil
}

// DirName is the name of the profiles' directory that Find looks for.
const DirName = "envs"

// Find returns the profiles' directory: dir when it is given (--envs-dir,
// KEEL_ENVS_DIR), else the nearest directory named envs holding a profile
// (*.hcl), in the current directory or the closest one above it, as git
// finds .git. Its error says where keel looked and what to do.
func Find(dir string) (string, error) {
	if rest, ok := strings.CutPrefix(dir, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, rest)
		}
	}
	if dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("no profile directory %s (--envs-dir or KEEL_ENVS_DIR): correct it, "+
				"or leave it out to use the envs directory of the project keel runs in", dir)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the profiles' directory: %w", err)
	}
	for d := wd; ; {
		candidate := filepath.Join(d, DirName)
		if fi, err := os.Stat(candidate); err == nil && fi.IsDir() {
			if names, _ := Names(candidate); len(names) > 0 {
				return candidate, nil
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return "", fmt.Errorf("no %s directory of profiles (NAME.hcl) in %s or any directory above it: "+
		"run keel inside the project whose envs/ holds the profiles, or pass --envs-dir DIR (or set KEEL_ENVS_DIR)", DirName, wd)
}

// Load reads profile name from dir, or from the directory Find finds when
// dir is "".
func Load(dir, name string) (*Profile, error) {
	dir, err := Find(dir)
	if err != nil {
		return nil, err
	}
	known, err := Names(dir)
	if err != nil {
		return nil, err
	}
	if !nameRE.MatchString(name) || !contains(known, name) {
		return nil, fmt.Errorf("unknown env %q: the envs in %s are: %s", name, dir, strings.Join(known, ", "))
	}
	file := filepath.Join(dir, name+".hcl")
	parser := hclparse.NewParser()
	f, diags := parser.ParseHCLFile(file)
	if diags.HasErrors() {
		return nil, hclerr.Wrap(diags)
	}
	p := &Profile{Name: name, File: file}
	if diags := gohcl.DecodeBody(f.Body, nil, &p.Settings); diags.HasErrors() {
		return nil, hclerr.Wrap(diags)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p.Root = filepath.Dir(abs)
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return p, nil
}

// None is the profile of no environment, for a command that runs without
// --env (keel inspect --url): keel's defaults, no url_env, schemas from the
// database, relative paths from the current directory.
func None() *Profile {
	p := &Profile{Settings: Settings{URLEnv: "-", Apply: ApplyAuto}}
	_ = p.validate() // sets the defaults; nothing to refuse
	p.URLEnv = ""
	if wd, err := os.Getwd(); err == nil {
		p.Root = wd
	}
	return p
}

// The engines a plan's statements of tables, enums and schemas can come from.
const (
	EngineEmbedded = "embedded"
	EngineAtlas    = "atlas"
)

// CheckEngine accepts an engine's name ("" is the default, embedded).
func CheckEngine(name string) error {
	switch name {
	case "", EngineEmbedded, EngineAtlas:
		return nil
	}
	return fmt.Errorf("expected %q (keel's own, the default) or %q (an Atlas CLI binary)", EngineEmbedded, EngineAtlas)
}

// AtlasBinPath is the profile's atlas_bin, relative to Root when it is a
// relative path with a directory part ("bin/atlas"); a bare name is looked
// up on PATH.
func (p *Profile) AtlasBinPath() string {
	b := p.AtlasBin
	if b == "" || filepath.IsAbs(b) || !strings.ContainsRune(b, filepath.Separator) {
		return b
	}
	return filepath.Join(p.Root, b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *Profile) validate() error {
	switch p.Apply {
	case ApplyAuto, ApplyReview:
	default:
		return fmt.Errorf("apply = %q: expected \"auto\" or \"review\"", p.Apply)
	}
	if p.URLEnv == "" {
		return errors.New("url_env is empty: name the environment variable that holds the database URL")
	}
	for _, a := range []struct{ name, value string }{{"default_url", p.DefaultURL}, {"dev_url", p.DevURL}, {"schema", p.Schema}} {
		if err := connstr.Check(a.value); err != nil {
			return fmt.Errorf("%s: %w", a.name, err)
		}
		if connstr.HasPassword(a.value) {
			return fmt.Errorf("%s holds a password (in the URL, a password= parameter or a keyword/value password): "+
				"a password never sits in a profile; move the connection string into an environment variable", a.name)
		}
	}
	if p.Schema == "" {
		p.Schema = "schema.hcl"
	}
	if err := CheckEngine(p.Engine); err != nil {
		return fmt.Errorf("engine = %q: %w", p.Engine, err)
	}
	if p.TLS == "" {
		p.TLS = "disable"
	}
	if _, ok := pg.SSLModeRank(p.TLS); !ok {
		return fmt.Errorf("tls = %q: expected one of disable, allow, prefer, require, verify-ca, verify-full", p.TLS)
	}
	if p.LockWait == "" {
		p.LockWait = "10s"
	}
	d, err := time.ParseDuration(p.LockWait)
	if err != nil || d < 0 {
		return fmt.Errorf("lock_wait = %q: expected a duration such as \"30s\"", p.LockWait)
	}
	p.lockWait = d
	p.timeouts = plan.DefaultTimeouts
	for _, t := range []struct {
		name, value string
		into        *time.Duration
	}{{"lock_timeout", p.LockTimeout, &p.timeouts.Lock}, {"statement_timeout", p.StatementTimeout, &p.timeouts.Statement}} {
		if t.value == "" {
			continue
		}
		d, err := time.ParseDuration(t.value)
		if err != nil || d < 0 {
			return fmt.Errorf("%s = %q: expected a duration such as \"5s\"", t.name, t.value)
		}
		*t.into = d
	}
	if p.LockRetries != nil {
		if *p.LockRetries < 0 {
			return fmt.Errorf("lock_retries = %d: expected 0 or more", *p.LockRetries)
		}
		p.timeouts.Retries = *p.LockRetries
	}
	for _, code := range p.Deny {
		c, err := plan.ParseHazardCode(code)
		if err != nil {
			return fmt.Errorf("deny: %w", err)
		}
		p.deny = append(p.deny, c)
	}
	if slices.Contains(p.Schemas, plan.KeelSchema) {
		return fmt.Errorf("schemas: %q is keel's own schema (its apply history); it cannot be managed", plan.KeelSchema)
	}
	return nil
}

// LockWaitDuration is how long an apply waits for another apply's lock.
func (p *Profile) LockWaitDuration() time.Duration { return p.lockWait }

// Timeouts are the statement timeouts and lock retries of the env.
func (p *Profile) Timeouts() plan.Timeouts { return p.timeouts }

// Denied are the hazard codes the env refuses unless allowed.
func (p *Profile) Denied() []plan.HazardCode { return p.deny }

// sslRank is the strength of an sslmode (pg.SSLModes); an unknown one ranks
// below all.
func sslRank(mode string) int {
	r, _ := pg.SSLModeRank(mode)
	return r
}

// CheckTLS checks a connection's sslmode against the profile's requirement
// before anything connects. from says where the sslmode came from when the
// connection string does not give it (pg.DB.SSLModeFrom: "PGSSLMODE", a
// service, "libpq's default"). It returns an error when the sslmode is
// weaker than required, and a warning (or "") for a remote host below
// verify-full.
func (p *Profile) CheckTLS(sslmode, from, host string) (warning string, err error) {
	if sslRank(sslmode) < sslRank(p.TLS) {
		has := "the database URL has sslmode=" + sslmode
		if from != "" {
			has = fmt.Sprintf("the connection has sslmode=%s (from %s: the database URL gives none)", sslmode, from)
		}
		return "", fmt.Errorf("env %s requires TLS (tls = %q in %s) but %s: "+
			"add sslmode=verify-full (or at least sslmode=%s) to the URL", p.Name, p.TLS, p.File, has, p.TLS)
	}
	if sslRank(p.TLS) >= sslRank("require") && sslRank(sslmode) < sslRank("verify-full") && !pg.IsLocalHost(host) {
		return fmt.Sprintf("warning: env %s connects to %s with sslmode=%s, which does not verify the server's certificate; use sslmode=verify-full", p.Name, host, sslmode), nil
	}
	return "", nil
}

// URL returns the database URL: the environment variable's value, else the
// profile's default. It errors when neither is set.
func (p *Profile) URL() (string, error) {
	if v := os.Getenv(p.URLEnv); v != "" {
		return v, nil
	}
	if p.DefaultURL != "" {
		return p.DefaultURL, nil
	}
	return "", fmt.Errorf("env %s: %s is not set: export it with the database URL, or pass --url", p.Name, p.URLEnv)
}

// SchemaPath returns the desired-state path, resolved against the project
// root, or the desired database's connection string.
func (p *Profile) SchemaPath() string {
	if filepath.IsAbs(p.Schema) || strings.Contains(p.Schema, "://") || connstr.IsKeywordValue(p.Schema) {
		return p.Schema
	}
	return filepath.Join(p.Root, p.Schema)
}

// NormalizeRefused says why the desired state may not be normalized on the
// target's server, or "" when it may. In an env with apply = "review" (prod)
// normalizing runs the desired state's SQL (the files' statements, or what
// the engine writes from HCL) on the production server, in a throwaway
// database but with the same role: that needs dev_url, or an explicit
// normalize_on_target = true.
func (p *Profile) NormalizeRefused() string {
	if p.Apply != ApplyReview || p.NormalizeOnTarget {
		return ""
	}
	return fmt.Sprintf("env %s applies reviewed plans (apply = %q in %s), so keel does not normalize the desired state on its server: "+
		"that runs the desired state's SQL there, in a throwaway database but as the same role. "+
		"Set dev_url in the profile (or pass --dev-url, or KEEL_DEV_URL) to a scratch PostgreSQL server of the same major version, "+
		"such as a CI service container, or set normalize_on_target = true in the profile to allow it", p.Name, p.Apply, p.File)
}
