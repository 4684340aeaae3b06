package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"keel/planner/plan"

	"github.com/alecthomas/kong"
)

type helpCmd struct {
	Command []string `arg:"" optional:"" help:"The command to explain."`
}

// Run prints the usage of the command named, or keel's.
func (h *helpCmd) Run(kctx *kong.Context) error { return printHelp(kctx.Kong, h.Command) }

// usageCmd is what keel alone runs: its usage.
type usageCmd struct{}

func (usageCmd) Run(kctx *kong.Context) error { return printHelp(kctx.Kong, nil) }

// printHelp prints the full help of the command that args name.
func printHelp(k *kong.Kong, args []string) error {
	ctx, err := kong.Trace(k, args)
	if err != nil {
		return err
	}
	if ctx.Error != nil {
		return ctx.Error
	}
	if len(args) == 0 {
		// Trace selected the default command: show the application.
		ctx.Path = ctx.Path[:1]
	}
	return ctx.PrintUsage(false)
}

// helpPrinter prints kong's help and, after a full one, what a line per
// flag cannot say: the forms of --schema, the hazard codes --allow-hazard
// and deny accept (from plan.HazardCodes) and the exit codes. A command
// gets the sections of the flags it has; keel's own help gets them all.
func helpPrinter(o kong.HelpOptions, ctx *kong.Context) error {
	if err := kong.DefaultHelpPrinter(o, ctx); err != nil {
		return err
	}
	if o.Summary {
		return nil
	}
	node := ctx.Selected()
	var b strings.Builder
	if node == nil || hasFlag(node, "schema") {
		b.WriteString(schemaHelp)
	}
	if node == nil || hasFlag(node, "allow-hazard") {
		b.WriteString(hazardHelp())
	}
	b.WriteString(exitCodeHelp())
	_, err := io.WriteString(ctx.Stdout, b.String())
	return err
}

// hasFlag reports whether the command node (or a parent) has the flag.
func hasFlag(node *kong.Node, name string) bool {
	for n := node; n != nil; n = n.Parent {
		for _, f := range n.Flags {
			if f.Name == name {
				return true
			}
		}
	}
	return false
}

const schemaHelp = `
Desired state (--schema):
  FILE.hcl, DIR          Atlas HCL: a file, or a directory of .hcl files
  FILE.sql, DIR          SQL statements: a file, or a directory of .sql files;
                         keel runs them in a throwaway database to read the state
  postgres://HOST/DB     a database, or "host=... dbname=...": its current
                         schema, only read
  A directory may not hold both .hcl and .sql files.
`

// hazardHelp lists every hazard code with its explanation.
func hazardHelp() string {
	codes := make([]string, 0, len(plan.HazardCodes))
	width := 0
	for c := range plan.HazardCodes {
		codes = append(codes, string(c))
		width = max(width, len(c))
	}
	sort.Strings(codes)
	var b strings.Builder
	b.WriteString("\nHazard codes (--allow-hazard CODE; a profile's deny):\n")
	for _, c := range codes {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c, plan.HazardCodes[plan.HazardCode(c)])
	}
	return b.String()
}

// exitCodes are keel's exit codes and what they mean.
var exitCodes = []struct {
	code    int
	meaning string
}{
	{exitOK, "success (with --detailed-exitcode: and no changes)"},
	{exitError, "error: bad input, unreachable database, a failed statement (nothing applied), a failed check"},
	{exitChanges, "changes pending, or differences keel cannot plan (plan --detailed-exitcode, status)"},
	{exitPolicy, "refused by the environment's policy or a plan-file check; nothing was executed"},
}

func exitCodeHelp() string {
	var b strings.Builder
	b.WriteString("\nExit codes:\n")
	for _, e := range exitCodes {
		fmt.Fprintf(&b, "  %d  %s\n", e.code, e.meaning)
	}
	return b.String()
}
