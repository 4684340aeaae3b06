package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"keel/planner"
	"keel/planner/apply"
)

type statusCmd struct {
	target
	Last int `default:"5" help:"How many past applies to show."`
}

func (c *statusCmd) Run(ctx context.Context, r *resolved, s *streams) error {
	if c.Last < 1 {
		return fmt.Errorf("--last %d: give how many past applies to show, 1 or more", c.Last)
	}
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
				// The whole error: the statement and the server's detail
				// and hint are on the lines after the first.
				fmt.Fprintf(s.out, "      error: %s\n", strings.ReplaceAll(strings.TrimRight(e.Error, "\n"), "\n", "\n             "))
			}
		}
	}
	if err := r.ready(); err != nil {
		return err
	}
	// Only shown: no fingerprints (and the same match record as keel plan's).
	r.opts.NoFingerprints = true
	p, _, err := planner.Generate(ctx, conn, r.desired, r.opts)
	if rep, ok := r.otherConnection(err); ok {
		return rep.Err()
	}
	if err != nil {
		return err
	}
	// Where the database's schema came from, when not read now.
	defer func() {
		if note := p.TargetNote(); note != "" {
			fmt.Fprintf(s.out, "%s.\n", note)
		}
		if note := p.DesiredNote(); note != "" {
			fmt.Fprintf(s.out, "%s.\n", note)
		}
	}()
	if p.Matches() {
		fmt.Fprintln(s.out, "\nThe database matches the desired state.")
		if note := p.MatchNote(); note != "" {
			fmt.Fprintf(s.out, "%s.\n", note)
		}
		return nil
	}
	if len(p.Unplanned) > 0 {
		fmt.Fprintf(s.out, "\nThe database differs from the desired state: %s pending, and %d difference(s) keel cannot plan (%s shows them).\n",
			p.Summary(), len(p.Unplanned), c.planHint(r))
		return &codeError{code: exitChanges}
	}
	fmt.Fprintf(s.out, "\nThe database differs from the desired state: %s pending (%s shows them).\n", p.Summary(), c.planHint(r))
	return &codeError{code: exitChanges}
}

// planHint is the keel plan command that shows what status found, with the
// --schema the user gave (shown without a password when it is a URL).
func (c *statusCmd) planHint(r *resolved) string {
	hint := "keel plan --env " + shellQuote(r.profile.Name)
	if c.Schema != "" {
		hint += " --schema " + shellQuote(r.desiredPath)
	}
	return hint
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}
