package planner_test

import (
	"context"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/apply"
	"keel/planner/inspect"
)

// The catalog's signature stays through data changes, ANALYZE, VACUUM and
// a rolled-back ALTER, and changes with a comment or a grant: an apply made
// in the plan's process checks staleness with it when it is the
// plan's, and inspects in full (refusing a stale plan) when it is not. Not
// parallel: it counts the checks the signature answered.
func TestApplyChecksStalenessBySignature(t *testing.T) {
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE notes (id int)")
	conn := connOf(t, parseURL(t, u))
	signature := func() string {
		t.Helper()
		s, err := inspect.CatalogSignature(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := signature()
	pgtest.Exec(t, u, "INSERT INTO notes SELECT g FROM generate_series(1, 1000) g", "ANALYZE notes", "VACUUM notes")
	pgtest.Exec(t, u, "BEGIN; ALTER TABLE notes ADD COLUMN gone int; ROLLBACK")
	if after := signature(); after != before {
		t.Fatal("data changes, ANALYZE, VACUUM or a rolled-back ALTER changed the catalog's signature")
	}
	for _, ddl := range []string{"COMMENT ON TABLE notes IS 'x'", "GRANT SELECT ON notes TO PUBLIC"} {
		pgtest.Exec(t, u, ddl)
		if now := signature(); now == before {
			t.Fatalf("%s left the catalog's signature as it was", ddl)
		} else {
			before = now
		}
	}

	// Applied at once: the signature answers the staleness check.
	p := planForSQL(t, u, "CREATE TABLE notes (id int, body text);\n")
	if p.CatalogSignature == "" {
		t.Fatal("the plan has no catalog signature")
	}
	pgtest.Exec(t, u, "INSERT INTO notes VALUES (1001)", "ANALYZE notes")
	n := apply.FreshBySignature()
	applyPlan(t, u, p)
	if apply.FreshBySignature() != n+1 {
		t.Fatal("the staleness check did not use the catalog's signature")
	}
	// A change in between: the full check refuses, naming it.
	p = planForSQL(t, u, "CREATE TABLE notes (id int, body text, tags text);\n")
	pgtest.Exec(t, u, "ALTER TABLE notes ADD COLUMN late int")
	n = apply.FreshBySignature()
	err := apply.Apply(ctx, conn, p, nil, "test", apply.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "stale") || !strings.Contains(err.Error(), "column public.notes.late (added)") {
		t.Fatalf("apply: %v, want the plan refused as stale, naming the column", err)
	}
	if apply.FreshBySignature() != n {
		t.Fatal("a changed catalog passed the signature check")
	}
}
