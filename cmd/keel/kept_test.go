package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/source"
)

// keel apply keeps the normalized desired state in the database; a plan of
// the same files whose cache holds nothing for them (a fresh CI runner)
// takes it from there, says so, and finds the database matching.
func TestAnApplyKeepsTheNormalizedStateForAnEmptyCache(t *testing.T) {
	t.Parallel()
	u, name := pgtest.NewDatabase(t)
	// Bytes of this test's own: no other test's plan puts them in the cache.
	// A hostile name goes through the kept state too.
	body := `schema "public" {}
table "kept" {
  schema  = schema.public
  comment = "` + name + `"
  column "id" {
    type = bigint
  }
  column "total" {
    type    = numeric(10,2)
    default = 0
  }
  primary_key {
    columns = [column.id]
  }
}
table "kept\"; DROP TABLE kept; --" {
  schema = schema.public
  column "a\"b" {
    type    = text
    default = "it's"
  }
}
`
	applied := writeFile(t, "schema.hcl", body)
	code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", applied)
	if code != 0 || errs != "" || !strings.Contains(out, "Applied:") {
		t.Fatalf("apply: exit %d, want 0 with nothing on stderr:\n%s%s", code, out, errs)
	}
	key := pgtest.QueryValue[string](t, u, "SELECT key FROM keel.normalized_states")
	// An empty cache for these files: their entry gone, the files at
	// another path (the pointer to their last entry is by path).
	cache := source.DefaultCache()
	if cache == nil {
		t.Skip("no cache directory (KEEL_CACHE=off)")
	}
	if err := os.Remove(filepath.Join(cache.Dir, key+".json")); err != nil {
		t.Fatalf("the applied files' cache entry: %v", err)
	}
	fresh := writeFile(t, "schema.hcl", body)
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", fresh, "--detailed-exitcode")
	if code != 0 || !strings.Contains(out, "No changes") || !strings.Contains(out, "kept in the database (keel.normalized_states, for these files)") ||
		!tableExists(t, u, `public."kept""; DROP TABLE kept; --"`) {
		t.Fatalf("plan with an empty cache: exit %d, want 0, no changes and the state from what the apply kept:\n%s%s", code, out, errs)
	}
	// A column added by hand is planned away from it.
	pgtest.Exec(t, u, `ALTER TABLE kept ADD COLUMN by_hand text`)
	if err := os.Remove(filepath.Join(cache.Dir, key+".json")); err != nil {
		t.Fatalf("the cache entry the plan took: %v", err)
	}
	again := writeFile(t, "schema.hcl", body)
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", again, "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, `DROP COLUMN "by_hand"`) || !strings.Contains(out, "kept in the database") {
		t.Fatalf("plan with an empty cache after a column by hand: exit %d, want 2 and the column dropped:\n%s%s", code, out, errs)
	}
	// An apply that finds the database matching keeps the state as well.
	pgtest.Exec(t, u, `ALTER TABLE kept DROP COLUMN by_hand`, `DELETE FROM keel.normalized_states`)
	code, out, errs = keel(t, "apply", "--env", "dev", "--url", u, "--schema", again)
	if code != 0 || !strings.Contains(out, "No changes") || pgtest.QueryValue[string](t, u, "SELECT key FROM keel.normalized_states") != key {
		t.Fatalf("an apply of no changes: exit %d, want 0 and the state kept again:\n%s%s", code, out, errs)
	}
}
