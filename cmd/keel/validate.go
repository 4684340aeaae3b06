package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"keel/envs"
	"keel/internal/connstr"
	"keel/internal/pgsql"
	"keel/planner/source"
)

type validateCmd struct {
	Schema string `help:"The desired state to check: an .hcl or .sql file or a directory of them (default: the --env profile's schema, else schema.hcl)."`
	Env    string `help:"Take the desired state from this profile (envs/NAME.hcl)."`
}

// Run checks the desired-state files without a database: every block and
// attribute of the HCL is one keel understands, references resolve, types
// are known (extension types declared); SQL files split into statements.
func (c *validateCmd) Run(root *cli, s *streams) error {
	path := c.Schema
	switch {
	case path != "":
	case c.Env != "":
		p, err := envs.Load(root.EnvsDir, c.Env)
		if err != nil {
			return err
		}
		path = p.SchemaPath()
	default:
		path = "schema.hcl"
	}
	d, err := source.OpenDesired(path)
	if err != nil {
		return err
	}
	switch d := d.(type) {
	case *source.HCL:
		if _, err := d.Parsed(); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%s: ok\n", strings.Join(d.Files, ", "))
	case *source.SQLFiles:
		n := 0
		for _, f := range d.Files {
			src, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("reading %s: %w", f, err)
			}
			stmts, err := pgsql.Split(string(src))
			if err != nil {
				return fmt.Errorf("%s:%w", f, err)
			}
			n += len(stmts)
		}
		fmt.Fprintf(s.out, "%s: %d statements; SQL is checked by PostgreSQL only when it runs (keel plan)\n", strings.Join(relative(d.Files), ", "), n)
	default:
		return fmt.Errorf("%s is a database: there is nothing to validate without connecting (keel plan reads it)", connstr.Redact(path))
	}
	return nil
}

func relative(files []string) []string {
	wd, _ := os.Getwd()
	out := make([]string, len(files))
	for i, f := range files {
		if r, err := filepath.Rel(wd, f); err == nil && !strings.HasPrefix(r, "..") {
			f = r
		}
		out[i] = f
	}
	return out
}
