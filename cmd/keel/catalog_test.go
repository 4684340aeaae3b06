package main

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// A difference PostgreSQL's catalog shows and no statement changes is
// never silent: plan lists it with both sides and exits 1 (2 with
// --detailed-exitcode), apply refuses before anything runs, status does
// not say the database matches.
func TestDifferencesKeelCannotPlan(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	schema := "../../schema.hcl"
	if code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", schema); code != 0 {
		t.Fatalf("apply: exit %d:\n%s%s", code, out, errs)
	}
	// A typed table, made by hand: keel cannot plan it away.
	pgtest.Exec(t, u, "CREATE TYPE users_t AS (id uuid, email text, display_name varchar(100), created_at timestamptz, updated_at timestamptz)",
		"ALTER TABLE users OF users_t")
	code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", schema)
	if code != 1 || strings.Contains(out, "No changes") || !strings.Contains(out, "Differences keel cannot plan (2)") ||
		!strings.Contains(out, "  table public.users\n") || !strings.Contains(out, "live:    table of public.users_t") ||
		!strings.Contains(out, "type public.users_t") {
		t.Fatalf("plan: exit %d, want 1 listing the typed table and its type:\n%s%s", code, out, errs)
	}
	if code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", schema, "--detailed-exitcode"); code != 2 {
		t.Fatalf("plan --detailed-exitcode: exit %d, want 2:\n%s%s", code, out, errs)
	}
	if code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", schema, "--format", "json"); code != 1 ||
		!strings.Contains(out, `"unplanned_differences": [`) || !strings.Contains(out, `"object": "table public.users"`) {
		t.Fatalf("plan --format json: exit %d:\n%s%s", code, out, errs)
	}
	before := snapshot(t, u)
	code, out, errs = keel(t, "apply", "--env", "dev", "--url", u, "--schema", schema)
	if code == 0 || !strings.Contains(errs, "nothing was run") || !strings.Contains(out, "Differences keel cannot plan") {
		t.Fatalf("apply: exit %d, want a refusal:\n%s%s", code, out, errs)
	}
	if after := snapshot(t, u); after != before {
		t.Fatalf("the database changed: %s -> %s", before, after)
	}
	code, out, errs = keel(t, "status", "--env", "dev", "--url", u, "--schema", schema)
	if code != 2 || strings.Contains(out, "matches") || !strings.Contains(out, "2 difference(s) keel cannot plan") {
		t.Fatalf("status: exit %d:\n%s%s", code, out, errs)
	}
}
