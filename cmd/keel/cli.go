package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/alecthomas/kong"
	"keel/envs"
	"keel/planner"
)

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan --detailed-exitcode: changes pending
	exitPolicy  = 3 // refused by the environment's policy; nothing executed
)

// exitError carries a specific exit code up to Run.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// cli is the kong grammar.
type cli struct {
	EnvsDir string `name:"envs-dir" default:"envs" env:"KEEL_ENVS_DIR" help:"Directory of environment profiles." type:"path"`

	Plan    planCmd    `cmd:"" help:"Show the SQL that brings the database to the desired state; changes nothing."`
	Apply   applyCmd   `cmd:"" help:"Plan and apply in one transaction (environments with apply = \"auto\")."`
	Inspect inspectCmd `cmd:"" help:"Print the database's current state as HCL that keel reads back."`
}

// target are the flags that pick the database and desired state.
type target struct {
	Env    string `required:"" help:"Environment profile: a file envs/NAME.hcl."`
	URL    string `name:"url" help:"Database URL; overrides the profile's."`
	Schema string `help:"Desired state: an .hcl or .sql file, a directory of them, or a postgres:// URL; overrides the profile's."`
}

// io holds the writers commands print to.
type streams struct {
	out, err io.Writer
}

// Run runs the CLI with args and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c cli
	exited := -1
	parser, err := kong.New(&c,
		kong.Name("keel"),
		kong.Description("keel: a declarative schema tool for PostgreSQL. Plans, reviews and applies schema.hcl."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exited = code }),
		kong.UsageOnError(),
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
	kctx.BindTo(ctx, (*context.Context)(nil))
	err = kctx.Run(&c, &streams{out: stdout, err: stderr})
	if err == nil {
		return exitOK
	}
	var ce *codeError
	if errors.As(err, &ce) {
		if ce.err != nil {
			fmt.Fprintln(stderr, "keel:", ce.err)
		}
		return ce.code
	}
	fmt.Fprintln(stderr, "keel:", err)
	return exitError
}

// resolved is what a command needs: the profile, the database, the desired state.
type resolved struct {
	profile *envs.Profile
	db      *planner.DB
	desired planner.Desired
	opts    planner.Options
}

func (t *target) resolve(root *cli) (*resolved, error) {
	p, err := envs.Load(root.EnvsDir, t.Env)
	if err != nil {
		return nil, err
	}
	raw := t.URL
	if raw == "" {
		if raw, err = p.URL(); err != nil {
			return nil, err
		}
	}
	db, err := planner.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	path := t.Schema
	if path == "" {
		path = p.SchemaPath()
	}
	desired, err := planner.OpenDesired(path)
	if err != nil {
		return nil, err
	}
	r := &resolved{profile: p, db: db, desired: desired, opts: planner.Options{Schemas: p.Schemas}}
	if p.DevURL != "" {
		dev, err := planner.ParseURL(p.DevURL)
		if err != nil {
			return nil, fmt.Errorf("%s: dev_url: %w", p.File, err)
		}
		r.opts.Dev = planner.DevDatabase{Server: dev}
	}
	return r, nil
}

type planCmd struct {
	target
	Format           string `enum:"text,sql" default:"text" help:"Output: text (statements, summary, objects not managed) or sql (statements only, for psql)."`
	DetailedExitcode bool   `name:"detailed-exitcode" help:"Exit 2 when there are changes, 0 when there are none."`
}

func (c *planCmd) Run(ctx context.Context, root *cli, s *streams) error {
	r, err := c.resolve(root)
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
	if c.DetailedExitcode && !plan.Empty() {
		return &codeError{code: exitChanges}
	}
	return nil
}

type applyCmd struct {
	target
}

func (c *applyCmd) Run(ctx context.Context, root *cli, s *streams) error {
	r, err := c.resolve(root)
	if err != nil {
		return err
	}
	if r.profile.Apply != envs.ApplyAuto {
		return &codeError{code: exitPolicy, err: fmt.Errorf(
			"env %s applies only reviewed plans (apply = %q in %s); nothing was executed",
			r.profile.Name, r.profile.Apply, r.profile.File)}
	}
	plan, err := planner.Generate(ctx, r.db, r.desired, r.opts)
	if err != nil {
		return err
	}
	if plan.Empty() {
		return planner.RenderText(s.out, plan)
	}
	fmt.Fprintf(s.out, "Applying %d statements to %s in one transaction (%s)\n", len(plan.Steps), plan.Target, plan.Summary())
	err = planner.Apply(ctx, r.db, plan, func(i int, st planner.Step) {
		fmt.Fprintf(s.out, "-- %d/%d: %s\n%s;\n", i, len(plan.Steps), st.Comment, st.SQL)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "\nApplied: %s.\n", plan.Summary())
	return nil
}
