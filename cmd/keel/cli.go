package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"keel/doctor"
	"keel/envs"
	"keel/internal/connstr"
	"keel/internal/trace"
	"keel/planner"
	"keel/planner/atlascli"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"

	"github.com/alecthomas/kong"
)

// version is keel's version: keel --version prints it and plan files record
// it. A build sets it with -ldflags "-X main.version=1.2.3".
var version = "0.1.0"

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // changes pending (plan --detailed-exitcode, status)
	exitPolicy  = 3 // refused by the environment's policy; nothing executed
)

// codeError carries a specific exit code up to Run.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// cli is the kong grammar.
type cli struct {
	EnvsDir string           `name:"envs-dir" env:"KEEL_ENVS_DIR" help:"Directory of environment profiles (default: envs/ in the current directory or the nearest one above it that has one)."`
	Version kong.VersionFlag `help:"Print keel's version and exit."`

	Plan     planCmd     `cmd:"" help:"Show the SQL that brings the database to the desired state; changes nothing."`
	Apply    applyCmd    `cmd:"" help:"Apply: at once (apply = \"auto\"), or a reviewed plan file (apply = \"review\")."`
	Approve  approveCmd  `cmd:"" help:"Approve a plan file, by name or signed with a key: prints what is approved, then records it."`
	Show     showCmd     `cmd:"" help:"Print a plan file in any format, with its approvals and whether each verifies."`
	Keygen   keygenCmd   `cmd:"" help:"Make an approver's ed25519 key pair."`
	Status   statusCmd   `cmd:"" help:"Show the last applies and whether the database matches the desired state."`
	Inspect  inspectCmd  `cmd:"" help:"Print the database's current state as HCL that keel reads back."`
	Validate validateCmd `cmd:"" help:"Check the desired-state files without a database: every block and attribute understood, references and types."`
	Doctor   doctorCmd   `cmd:"" help:"Check that the database can take the plan: connection, TLS, privileges, extensions, history and lock."`
	Help     helpCmd     `cmd:"" help:"Show the help of keel or of a command."`
	Usage    usageCmd    `cmd:"" default:"1" hidden:"" help:"Show keel's help (what keel alone runs)."`
}

// streams are the writers commands print to.
type streams struct {
	out, err io.Writer
	// in is where a confirmation is read from; terminal says whether a
	// person is there to answer (stdin is a terminal).
	in       io.Reader
	terminal bool
}

// Run runs the CLI with args and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// The cache's entries written in the background are on disk before
	// keel returns.
	defer source.Flush()
	var c cli
	exited := -1
	parser, err := kong.New(&c,
		kong.Name("keel"),
		kong.Description("keel: a declarative schema tool for PostgreSQL. Plans, reviews and applies schema.hcl."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exited = code }),
		kong.UsageOnError(),
		kong.Vars{"version": "keel " + version},
		kong.Help(helpPrinter),
	)
	if err != nil {
		fmt.Fprintln(stderr, "keel:", err)
		return exitError
	}
	kctx, err := parser.Parse(args)
	if exited >= 0 {
		return exited
	}
	if err != nil {
		fmt.Fprintln(stderr, "keel:", err)
		return exitError
	}
	// KEEL_TRACE: where the run spends its time, on stderr.
	if os.Getenv("KEEL_TRACE") != "" {
		ctx = trace.With(ctx, stderr)
	}
	kctx.BindTo(ctx, (*context.Context)(nil))
	st := &streams{out: stdout, err: stderr, in: os.Stdin, terminal: isTerminal(os.Stdin)}
	// One resolution of the target for every command that has one.
	if t, ok := kctx.Selected().Target.Addr().Interface().(targeted); ok {
		if err := kctx.BindToProvider(func() (*resolved, error) { return t.flags().resolve(&c, st) }); err != nil {
			fmt.Fprintln(stderr, "keel:", err)
			return exitError
		}
	}
	err = kctx.Run(&c, st)
	if err == nil {
		return exitOK
	}
	code := exitError
	var (
		ce *codeError
		re *plan.RefusedError
	)
	switch {
	case errors.As(err, &ce):
		code = ce.code
		if ce.err == nil {
			return code
		}
	case errors.As(err, &re):
		code = exitPolicy
	}
	fmt.Fprintln(stderr, "keel:", withSource(err.Error()))
	return code
}

// target are the flags that pick the environment, database and desired state.
type target struct {
	Env      string `required:"" help:"Environment profile: a file NAME.hcl in envs/ (found from the current directory up) or --envs-dir."`
	URL      string `name:"url" help:"Database URL; overrides the profile's. What a URL leaves out comes from PGHOST, PGUSER, PGPASSWORD, ..., pg_service.conf and .pgpass, as in psql."`
	Schema   string `help:"Desired state: an .hcl or .sql file or a directory of them, or a database URL; overrides the profile's."`
	DevURL   string `name:"dev-url" env:"KEEL_DEV_URL" help:"A database on the server where the desired state is normalized in a throwaway database; overrides the profile's dev_url."`
	Engine   string `help:"What plans the statements of tables, enums and schemas: embedded (keel's, the default) or atlas (an Atlas CLI binary); overrides the profile's engine."`
	AtlasBin string `name:"atlas-bin" help:"The Atlas binary for --engine atlas; overrides the profile's atlas_bin (default: $KEEL_ATLAS_BIN, else atlas on PATH)."`

	// noEnv lets the command run without --env (keel inspect --url).
	noEnv bool
}

// flags returns the target flags of a command that has them.
func (t *target) flags() *target { return t }

// targeted is a command that works on a target: its Run takes a *resolved.
type targeted interface{ flags() *target }

// resolved is what a command needs: the profile, the database, the desired
// state (opened when first asked for: inspect needs none). Every command
// that works on a target gets it from the same resolve, bound by kong.
type resolved struct {
	profile *envs.Profile
	db      *pg.DB
	opts    planner.Options
	// schemaPath is the desired state as given: a path, or a database's
	// connection string; desiredPath is it as shown (no password).
	schemaPath, desiredPath string
	desired                 source.Desired
	streams                 *streams
	// engine is the engine the command plans with (envs.EngineEmbedded or
	// envs.EngineAtlas); atlasErr says why the Atlas binary cannot be used
	// when it is asked for (doctor reports it; planning refuses).
	engine   string
	atlasErr error
	// atlasBin is the Atlas binary named by --atlas-bin or the profile
	// ("": KEEL_ATLAS_BIN or PATH), atlasFrom which of them named it.
	atlasBin, atlasFrom string
}

// resolve reads the profile (none without --env, where the command allows
// it) and the connection strings. What a URL leaves out comes from the libpq
// environment and files (PGHOST, ..., pg_service.conf, .pgpass), as psql
// reads them; the profile's URL is required all the same.
func (t *target) resolve(root *cli, s *streams) (*resolved, error) {
	p := envs.None()
	if t.Env != "" || !t.noEnv {
		var err error
		if p, err = envs.Load(root.EnvsDir, t.Env); err != nil {
			return nil, err
		}
	}
	raw := t.URL
	if raw == "" && p.Name != "" {
		var err error
		if raw, err = p.URL(); err != nil {
			return nil, err
		}
	}
	if raw == "" && !pg.EnvironmentNamesDatabase() {
		return nil, errors.New("which database? pass --url URL, or --env NAME for a profile's, " +
			"or set the libpq variables (PGHOST, PGDATABASE, ... or PGSERVICE)")
	}
	db, err := pg.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	warning, err := p.CheckTLS(db.SSLMode(), db.SSLModeFrom(), db.Target().Host)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		fmt.Fprintln(s.err, "keel:", warning)
	}
	path := t.Schema
	if path == "" {
		path = p.SchemaPath()
	}
	r := &resolved{profile: p, db: db, schemaPath: path, desiredPath: connstr.Redact(path), streams: s, opts: planner.Options{
		Schemas: p.Schemas, ConcurrentIndexes: p.ConcurrentIndexes, Timeouts: p.Timeouts(),
		Dev: source.DevDatabase{Cache: source.DefaultCache()}, MatchRecords: true,
	}}
	switch {
	case t.DevURL != "":
		dev, err := pg.ParseURL(t.DevURL)
		if err != nil {
			return nil, fmt.Errorf("--dev-url: %w", err)
		}
		r.opts.Dev.Server = dev
	case p.DevURL != "":
		dev, err := pg.ParseURL(p.DevURL)
		if err != nil {
			return nil, fmt.Errorf("%s: dev_url: %w", p.File, err)
		}
		r.opts.Dev.Server = dev
	}
	if err := r.chooseEngine(t); err != nil {
		return nil, err
	}
	return r, nil
}

// chooseEngine picks the engine: --engine, else the profile's, else the
// embedded one. For the Atlas engine it finds the binary; when there is
// none, planning refuses with why (doctor reports it first).
func (r *resolved) chooseEngine(t *target) error {
	r.engine = r.profile.Engine
	if t.Engine != "" {
		if err := envs.CheckEngine(t.Engine); err != nil {
			return fmt.Errorf("--engine %q: %w", t.Engine, err)
		}
		r.engine = t.Engine
	}
	if r.engine == "" {
		r.engine = envs.EngineEmbedded
	}
	r.atlasBin, r.atlasFrom = t.AtlasBin, "--atlas-bin"
	if r.atlasBin == "" && r.profile.AtlasBin != "" {
		r.atlasBin, r.atlasFrom = r.profile.AtlasBinPath(), "the profile's atlas_bin ("+r.profile.File+")"
	}
	if r.engine != envs.EngineAtlas {
		return nil
	}
	b, err := atlascli.Find(r.atlasBin, r.atlasFrom)
	if err != nil {
		r.atlasErr = err
		return nil
	}
	r.opts.Atlas = &b
	return nil
}

// atlas finds the Atlas binary the flags and profile name, whatever the
// engine (keel plan --cross-check uses both).
func (r *resolved) atlas() (*atlascli.Binary, error) {
	if r.opts.Atlas != nil {
		return r.opts.Atlas, nil
	}
	b, err := atlascli.Find(r.atlasBin, r.atlasFrom)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// desiredState opens the desired state, once.
func (r *resolved) desiredState() (source.Desired, error) {
	if r.desired == nil {
		d, err := source.OpenDesired(r.schemaPath)
		if err != nil {
			return nil, err
		}
		r.desired = source.Memo(d)
	}
	return r.desired, nil
}

// normalizeRefused says why the desired state may not be normalized on the
// target's server (an env with apply = "review" and no dev_url), or "".
func (r *resolved) normalizeRefused() string {
	if r.opts.Dev.Server != nil || r.desired == nil || !source.Normalizes(r.desired) {
		return ""
	}
	return r.profile.NormalizeRefused()
}

// ready opens the desired state and refuses, before anything connects,
// what the env's policy forbids.
func (r *resolved) ready() error {
	if r.atlasErr != nil {
		return r.atlasErr
	}
	if _, err := r.desiredState(); err != nil {
		return err
	}
	if why := r.normalizeRefused(); why != "" {
		return &plan.RefusedError{Reason: why}
	}
	return nil
}

// open connects to the target: the one connection the command holds there.
// Its application_name names the command, the env and when it started.
func (r *resolved) open(ctx context.Context, command string) (*pg.Conn, error) {
	app := strings.Join(strings.Fields(fmt.Sprintf("keel %s %s %s", command, r.profile.Name, time.Now().UTC().Format(time.RFC3339))), " ")
	conn, err := r.db.Open(ctx, app)
	if err != nil {
		// The doctor's connection check says why and what to do.
		return nil, doctor.ConnectionFailed(r.db, err).Err()
	}
	return conn, nil
}
