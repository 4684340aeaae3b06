package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"keel/planner/plan"
)

// Line renders one check on one line: status, name, what was found and,
// when there is one, the fix.
func (c Check) Line() string {
	s := fmt.Sprintf("%-4s  %s: %s", c.Status, c.Name, c.Message)
	if c.Fix != "" {
		s += "; fix: " + c.Fix
	}
	return s
}

// counts returns how many checks have each status.
func (r *Report) counts() (ok, warn, fail int) {
	for _, c := range r.Checks {
		switch c.Status {
		case OK:
			ok++
		case Warn:
			warn++
		case Fail:
			fail++
		}
	}
	return ok, warn, fail
}

// WriteText writes the report for a reader: a heading, one line per check,
// and a count.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Checks of %s\n", r.Target)
	for _, c := range r.Checks {
		b.WriteString(c.Line())
		b.WriteByte('\n')
	}
	ok, warn, fail := r.counts()
	fmt.Fprintf(&b, "%d ok, %d %s, %d failed.\n", ok, warn, plural(warn, "warning", "warnings"), fail)
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonReport is the JSON form of a report.
type jsonReport struct {
	Target plan.Target `json:"target"`
	OK     bool        `json:"ok"`
	Counts counts      `json:"counts"`
	Checks []Check     `json:"checks"`
}

type counts struct {
	OK   int `json:"ok"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
}

// WriteJSON writes the report as one JSON object: target, ok (no check
// failed), counts and checks.
func WriteJSON(w io.Writer, r *Report) error {
	ok, warn, fail := r.counts()
	checks := r.Checks
	if checks == nil {
		checks = []Check{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonReport{Target: r.Target, OK: fail == 0, Counts: counts{ok, warn, fail}, Checks: checks})
}

// Error is the failed checks of a report, as an error.
type Error struct {
	Report *Report
}

func (e *Error) Error() string {
	f := e.Report.Failures()
	var b strings.Builder
	if len(f) == 1 {
		fmt.Fprintf(&b, "1 check failed on %s:", e.Report.Target)
	} else {
		fmt.Fprintf(&b, "%d checks failed on %s:", len(f), e.Report.Target)
	}
	for _, c := range f {
		b.WriteString("\n  ")
		b.WriteString(c.Line())
	}
	return b.String()
}

// Err returns an *Error when a check failed, else nil.
func (r *Report) Err() error {
	if !r.Failed() {
		return nil
	}
	return &Error{Report: r}
}

// WriteWarnings writes each failed check as a warning line, for commands
// that go on anyway (keel plan).
func WriteWarnings(w io.Writer, r *Report) error {
	var b strings.Builder
	for _, c := range r.Failures() {
		fmt.Fprintf(&b, "warning: %s: %s", c.Name, c.Message)
		if c.Fix != "" {
			b.WriteString("; fix: " + c.Fix)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
