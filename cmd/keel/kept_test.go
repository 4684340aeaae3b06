package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/source"
)

// removeEntry removes the cache entry under key from the tests' cache
// directory: the next plan of those files finds nothing in the cache.
func removeEntry(t *testing.T, key string) {
	t.Helper()
	cache := source.DefaultCache()
	if cache == nil {
		t.Skip("no cache directory (KEEL_CACHE=off)")
	}
	if err := os.Remove(filepath.Join(cache.Dir, key+".json")); err != nil {
		t.Fatalf("the cache entry of the files applied: %v", err)
	}
}

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
	removeEntry(t, key)
	fresh := writeFile(t, "schema.hcl", body)
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", fresh, "--detailed-exitcode")
	if code != 0 || !strings.Contains(out, "No changes") || !strings.Contains(out, "kept in the database (keel.normalized_states, for these files)") ||
		!tableExists(t, u, `public."kept""; DROP TABLE kept; --"`) {
		t.Fatalf("plan with an empty cache: exit %d, want 0, no changes and the state from what the apply kept:\n%s%s", code, out, errs)
	}
	// A column added by hand is planned away from it.
	pgtest.Exec(t, u, `ALTER TABLE kept ADD COLUMN by_hand text`)
	removeEntry(t, key)
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

// A database keel never applied (adopted with keel inspect) has no schema
// keel to keep a normalized state in: an apply of HCL files that finds it
// matching makes it, says so, and keeps the state there, touching nothing
// else; a plan of the same files with an empty cache then starts from it.
func TestAnApplyOfNoChangesAdoptsADatabaseKeelNeverApplied(t *testing.T) {
	t.Parallel()
	u, name := pgtest.NewDatabase(t)
	pgtest.Exec(t, u,
		`CREATE TABLE adopted (id bigint PRIMARY KEY, note text DEFAULT 'x')`,
		`COMMENT ON TABLE adopted IS '`+name+`'`,
		`INSERT INTO adopted (id) VALUES (1)`)
	// Bytes of this test's own: no other test's plan puts them in the cache.
	body := `schema "public" {}
table "adopted" {
  schema  = schema.public
  comment = "` + name + `"
  column "id" {
    type = bigint
  }
  column "note" {
    type    = text
    null    = true
    default = "x"
  }
  primary_key {
    columns = [column.id]
  }
}
`
	// SQL files are not kept: their apply of no changes makes nothing.
	asSQL := writeFile(t, "schema.sql", `CREATE TABLE adopted (id bigint PRIMARY KEY, note text DEFAULT 'x');
COMMENT ON TABLE adopted IS '`+name+`';
`)
	code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", asSQL)
	if code != 0 || !strings.Contains(out, "No changes") || strings.Contains(out, "keel made its schema") ||
		pgtest.QueryValue[bool](t, u, "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'keel')") {
		t.Fatalf("apply of no changes from SQL files: exit %d, want 0, no changes and no schema keel:\n%s%s", code, out, errs)
	}
	inspected := writeFile(t, "schema.hcl", body)
	code, out, errs = keel(t, "apply", "--env", "dev", "--url", u, "--schema", inspected)
	if code != 0 || errs != "" || !strings.Contains(out, "No changes") ||
		!strings.Contains(out, "keel made its schema keel in this database, as a first apply does: keel.history, keel.managed_schemas and the normalized state in keel.normalized_states") {
		t.Fatalf("apply of no changes to a database keel never applied: exit %d, want 0, no changes and schema keel made:\n%s%s", code, out, errs)
	}
	if got := pgtest.QueryValue[string](t, u, "SELECT string_agg(name, ',') FROM keel.managed_schemas"); got != "public" {
		t.Errorf("managed schemas %q, want public", got)
	}
	if n := historyRows(t, u); n != 0 {
		t.Errorf("%d history rows, want none: nothing ran", n)
	}
	if n := pgtest.QueryValue[int](t, u, "SELECT count(*)::int FROM adopted WHERE note = 'x'"); n != 1 {
		t.Errorf("the table's row: %d, want 1 as it was", n)
	}
	removeEntry(t, pgtest.QueryValue[string](t, u, "SELECT key FROM keel.normalized_states"))
	fresh := writeFile(t, "schema.hcl", body)
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", fresh, "--detailed-exitcode")
	if code != 0 || !strings.Contains(out, "No changes") || !strings.Contains(out, "kept in the database (keel.normalized_states, for these files)") {
		t.Fatalf("plan with an empty cache: exit %d, want 0, no changes and the state from what the apply kept:\n%s%s", code, out, errs)
	}
	// Once schema keel exists, an apply of no changes says nothing of it.
	code, out, errs = keel(t, "apply", "--env", "dev", "--url", u, "--schema", fresh)
	if code != 0 || !strings.Contains(out, "No changes") || strings.Contains(out, "keel made its schema") {
		t.Fatalf("second apply of no changes: exit %d, want 0 and no schema made:\n%s%s", code, out, errs)
	}
}

// A role that may not create schema keel applies no changes as before: the
// apply succeeds, says what to grant for the state to be kept, and makes
// nothing.
func TestAnApplyOfNoChangesWithoutCreateOnTheDatabase(t *testing.T) {
	t.Parallel()
	role := pgtest.NewRole(t)
	u, name := pgtest.NewDatabase(t)
	pgtest.Exec(t, u,
		"REVOKE CREATE ON DATABASE "+name+" FROM PUBLIC",
		"CREATE TABLE notes (id int PRIMARY KEY)",
		"ALTER TABLE notes OWNER TO "+role)
	dir := devEnv(t, "dev_url = \""+pgtest.ServerURL()+"\"\n")
	desired := writeFile(t, "schema.hcl", notesHCL)
	code, out, errs := keelIn(t, dir, "apply", "--env", "dev", "--url", pgtest.AsRole(t, u, role), "--schema", desired)
	if code != 0 || !strings.Contains(out, "No changes") || strings.Contains(out, "keel made its schema") ||
		!strings.Contains(errs, "keel cannot make its schema to keep the normalized state in") || !strings.Contains(errs, "GRANT CREATE ON DATABASE") {
		t.Fatalf("apply of no changes without CREATE on the database: exit %d, want 0, no schema made and the grant named:\n%s%s", code, out, errs)
	}
	if pgtest.QueryValue[bool](t, u, "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'keel')") {
		t.Error("schema keel was made")
	}
}

// In a review env a database keel never applied is adopted by applying an
// approved plan of no changes: the apply makes schema keel and keeps the
// state there, as in dev.
func TestAnApprovedPlanOfNoChangesAdoptsADatabase(t *testing.T) {
	t.Parallel()
	base, name := pgtest.NewDatabase(t)
	pgtest.Exec(t, base, "CREATE TABLE notes (id int PRIMARY KEY)", "COMMENT ON TABLE notes IS '"+name+"'")
	envs, urlEnv := prodEnv(t, "")
	setEnv(t, urlEnv, withPassword(t, base, "require"))
	desired := writeFile(t, "schema.hcl", strings.Replace(notesHCL, "schema = schema.public\n", "schema = schema.public\n  comment = \""+name+"\"\n", 1))
	planPath := filepath.Join(t.TempDir(), "plan.json")
	if code, out, errs := keelIn(t, envs, "plan", "--env", "prod", "--schema", desired, "--out", planPath); code != 0 || !strings.Contains(out, "No changes") {
		t.Fatalf("plan --out: exit %d, want 0 and no changes:\n%s%s", code, out, errs)
	}
	if code, out, errs := keelIn(t, envs, "approve", planPath, "--by", "alice"); code != 0 {
		t.Fatalf("approve: %s%s", out, errs)
	}
	code, out, errs := keelIn(t, envs, "apply", "--env", "prod", "--schema", desired, "--plan", planPath)
	if code != 0 || !strings.Contains(out, "keel made its schema keel in this database") {
		t.Fatalf("apply of the approved plan of no changes: exit %d, want 0 and schema keel made:\n%s%s", code, out, errs)
	}
	if n := pgtest.QueryValue[int](t, base, "SELECT count(*)::int FROM keel.normalized_states"); n != 1 {
		t.Errorf("%d kept states, want 1", n)
	}
}
