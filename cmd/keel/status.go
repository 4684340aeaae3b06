package main

import (
	"context"
	"fmt"
	"time"

	"keel/planner"
	"keel/planner/apply"
)

type statusCmd struct {
	target
	Last int `default:"5" help:"How many past applies to show."`
}

func (c *statusCmd) Run(ctx context.Context, r *resolved, s *streams) error {
	conn, err := r.open(ctx, "status")
	if err != nil {
		return err
	}
	defer conn.Close()
	entries, err := apply.History(ctx, conn, c.Last)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "Env %s: %s\n\n", r.profile.Name, r.db)
	if len(entries) == 0 {
		fmt.Fprintln(s.out, "No applies recorded (keel.history is empty or missing).")
	} else {
		fmt.Fprintln(s.out, "Last applies, newest first:")
		for _, e := range entries {
			fmt.Fprintf(s.out, "  #%d %s  %-7s env=%s statements=%d by=%s", e.ID, e.StartedAt.Local().Format(time.DateTime), e.Outcome, e.Env, e.Statements, e.OSUser)
			if e.Approver != "" {
				fmt.Fprintf(s.out, " approved-by=%s", e.Approver)
			}
			fmt.Fprintf(s.out, " plan=%s\n", short(e.PlanDigest))
			if e.Error != "" {
				fmt.Fprintf(s.out, "      error: %s\n", firstLine(e.Error))
			}
		}
	}
	if err := r.ready(); err != nil {
		return err
	}
	p, _, err := planner.Generate(ctx, conn, r.desired, r.opts)
	if err != nil {
		return err
	}
	if p.Matches() {
		fmt.Fprintln(s.out, "\nThe database matches the desired state.")
		return nil
	}
	if len(p.Unplanned) > 0 {
		fmt.Fprintf(s.out, "\nThe database differs from the desired state: %s pending, and %d difference(s) keel cannot plan (keel plan --env %s shows them).\n",
			p.Summary(), len(p.Unplanned), r.profile.Name)
		return &codeError{code: exitChanges}
	}
	fmt.Fprintf(s.out, "\nThe database differs from the desired state: %s pending (keel plan --env %s shows them).\n", p.Summary(), r.profile.Name)
	return &codeError{code: exitChanges}
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
