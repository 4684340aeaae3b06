package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// traceLine is one phase KEEL_TRACE writes: the seconds since the run
// started, then the phase.
var traceLine = regexp.MustCompile(`^keel trace: +([0-9]+\.[0-9]{3}) s  (.+)$`)

// phases returns the phases of stderr's trace lines, in order, and fails
// the test when their times go back or another line is not a trace line.
func phases(t *testing.T, stderr string) []string {
	t.Helper()
	var got []string
	last := -1.0
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		m := traceLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("stderr line %q is not a trace line:\n%s", l, stderr)
		}
		at, _ := strconv.ParseFloat(m[1], 64)
		if at < last {
			t.Fatalf("trace goes back in time at %q:\n%s", l, stderr)
		}
		last = at
		got = append(got, m[2])
	}
	return got
}

// inOrder reports whether want are among got in that order.
func inOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && strings.HasPrefix(g, want[i]) {
			i++
		}
	}
	return i == len(want)
}

// KEEL_TRACE says on stderr where a plan and an apply spend their time, in
// order, with nothing of the connection string; without it nothing is said.
// (Not parallel: it sets the environment.)
func TestTraceSaysWhereTheTimeGoes(t *testing.T) {
	u, name := pgtest.NewDatabase(t)
	withPassword := strings.Replace(u, "://", "://root:s3cret-pw@", 1)
	if strings.Contains(u, "@") {
		withPassword = u // the server's URL has its own credentials
	}
	// Bytes of this test's own (the database's name): nothing is cached for them.
	schema := writeFile(t, "schema.hcl", `schema "public" {}
table "traced" {
  schema  = schema.public
  comment = "`+name+`"
  column "id" {
    type = bigint
  }
}
table "tr\"aced; --" {
  schema = schema.public
  column "a" {
    type = text
  }
}
`)
	t.Setenv("KEEL_TRACE", "1")
	code, out, errs := keel(t, "plan", "--env", "dev", "--url", withPassword, "--schema", schema)
	if code != 0 || !strings.Contains(out, "2 to create") {
		t.Fatalf("plan: exit %d, want 0 and two tables to create:\n%s%s", code, out, errs)
	}
	got := phases(t, errs)
	want := []string{"plan: started", "desired state: files parsed (2 tables)", "plan: computed (", "plan: done"}
	if !inOrder(got, want) || !inOrder(got, []string{"target: read", "plan: computed"}) ||
		!(inOrder(got, []string{"desired state: loaded and read back in the scratch database"}) ||
			inOrder(got, []string{"desired state: read back from the throwaway database"})) {
		t.Fatalf("plan's trace %q, want %q in order, the target read and the desired state read back before the plan", got, want)
	}
	if strings.Contains(errs, "s3cret-pw") || strings.Contains(errs, "traced") {
		t.Fatalf("the trace names the connection or an object:\n%s", errs)
	}
	code, out, errs = keel(t, "apply", "--env", "dev", "--url", withPassword, "--schema", schema)
	if code != 0 || !strings.Contains(out, "Applied:") {
		t.Fatalf("apply: exit %d, want 0:\n%s%s", code, out, errs)
	}
	if got := phases(t, errs); !inOrder(got, []string{"plan: started", "desired state: from the cache", "plan: computed (",
		"apply: run, checked against the catalog and committed", "apply: normalized state kept"}) {
		t.Fatalf("apply's trace %q: want the plan from the cache, the run and the state kept, in order", got)
	}
	t.Setenv("KEEL_TRACE", "")
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", schema, "--detailed-exitcode")
	if code != 0 || errs != "" {
		t.Fatalf("plan without KEEL_TRACE: exit %d, want 0 and nothing on stderr:\n%s%s", code, out, errs)
	}
}
