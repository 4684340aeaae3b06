package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keel/internal/pgsql"
	"keel/internal/pgtest"
)

// keel runs the CLI in-process with the repository's profiles and returns
// its exit code and output.
func keel(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return keelIn(t, "../../envs", args...)
}

// keelIn runs the CLI in-process with the profiles in envsDir.
func keelIn(t *testing.T, envsDir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errw bytes.Buffer
	args = append([]string{"--envs-dir", envsDir}, args...)
	code = Run(context.Background(), args, &out, &errw)
	return code, out.String(), errw.String()
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func tableExists(t *testing.T, dbURL, name string) bool {
	return pgtest.QueryValue[bool](t, dbURL, "SELECT to_regclass($1) IS NOT NULL", name)
}

func TestFreshDatabasePlanApplyConverge(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)

	code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--format", "sql")
	if code != 0 {
		t.Fatalf("plan exit %d: %s", code, errs)
	}
	ext := strings.Index(out, `CREATE EXTENSION IF NOT EXISTS "uuid-ossp"`)
	tbl := strings.Index(out, "CREATE TABLE")
	if ext < 0 || tbl < 0 || ext > tbl {
		t.Fatalf("want CREATE EXTENSION uuid-ossp before the first CREATE TABLE, got:\n%s", out)
	}
	// A script psql runs: statements (a function's body or a view's query
	// over several lines) each ending in ';'.
	if stmts, err := pgsql.Split(out); err != nil || len(stmts) < 10 || !strings.HasSuffix(strings.TrimSpace(out), ";") {
		t.Errorf("--format sql is not a script of statements (%d, %v):\n%s", len(stmts), err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "CREATE TABLE") && !strings.HasSuffix(line, ";") {
			t.Errorf("--format sql line does not end in ';': %q", line)
		}
	}
	if tableExists(t, u, "public.users") || pgtest.QueryValue[int](t, u, "SELECT count(*)::int FROM pg_extension WHERE extname = 'uuid-ossp'") != 0 {
		t.Fatal("plan changed the database")
	}

	code, out, errs = keel(t, "apply", "--env", "dev", "--url", u, "--schema", "../../schema.hcl")
	if code != 0 {
		t.Fatalf("apply exit %d: %s\n%s", code, errs, out)
	}
	if pgtest.QueryValue[int](t, u, "SELECT count(*)::int FROM pg_extension WHERE extname = 'uuid-ossp'") != 1 {
		t.Fatal("uuid-ossp not installed")
	}
	def := pgtest.QueryValue[string](t, u, "SELECT column_default FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'id'")
	if !strings.Contains(def, "uuid_generate_v4()") {
		t.Fatalf("users.id default = %q, want uuid_generate_v4()", def)
	}
	// The default works: a user can be inserted without an id.
	pgtest.Exec(t, u, "INSERT INTO users (display_name) VALUES ('Kim')")

	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--detailed-exitcode")
	if code != 0 {
		t.Fatalf("re-plan exit %d, want 0 (no changes):\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "No changes") || strings.Contains(out, "verified this match") {
		t.Fatalf("re-plan output does not say No changes, checked in full:\n%s", out)
	}
	// The next plan and status answer from the match the re-plan recorded,
	// and say so; a column added by hand is planned away.
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--detailed-exitcode")
	if code != 0 || !strings.Contains(out, "No changes") || !strings.Contains(out, "From keel's match record: an earlier plan verified this match against PostgreSQL's catalog at") {
		t.Fatalf("plan after a match: exit %d, want 0 and the match from its record:\n%s%s", code, out, errs)
	}
	code, out, errs = keel(t, "status", "--env", "dev", "--url", u, "--schema", "../../schema.hcl")
	if code != 0 || !strings.Contains(out, "The database matches the desired state.") || !strings.Contains(out, "verified this match") {
		t.Fatalf("status after a match: exit %d:\n%s%s", code, out, errs)
	}
	pgtest.Exec(t, u, "ALTER TABLE users ADD COLUMN by_hand int")
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, `DROP COLUMN "by_hand"`) || strings.Contains(out, "target record") {
		t.Fatalf("plan after a column was added by hand: exit %d, want 2 and the column dropped, the database read:\n%s%s", code, out, errs)
	}
	// That plan read the database; status and the next plan take its
	// schema from the target record it left, and say so.
	code, out, errs = keel(t, "status", "--env", "dev", "--url", u, "--schema", "../../schema.hcl")
	if code != 2 || !strings.Contains(out, "The database's schema from keel's target record: read from PostgreSQL's catalog at") {
		t.Fatalf("status after a plan read the database: exit %d, want 2 and the schema from the target record:\n%s%s", code, out, errs)
	}
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, `DROP COLUMN "by_hand"`) || !strings.Contains(out, "The database's schema from keel's target record") {
		t.Fatalf("plan after a plan read the database: exit %d, want 2, the column dropped and the schema from the target record:\n%s%s", code, out, errs)
	}
	// Another column by hand: the next plan reads that table again (and
	// the two that refer to it) over the record, and says so.
	pgtest.Exec(t, u, "ALTER TABLE users ADD COLUMN by_hand_too int")
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, `DROP COLUMN "by_hand_too"`) || !strings.Contains(out, "the catalog rows of 3 tables changed since, and they were read again") {
		t.Fatalf("plan after another column by hand: exit %d, want 2, the columns dropped and 3 tables read again:\n%s%s", code, out, errs)
	}
	// A comment on the schema is no table's: the plan reads it all.
	pgtest.Exec(t, u, "COMMENT ON SCHEMA public IS 'by hand'")
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, `DROP COLUMN "by_hand_too"`) || strings.Contains(out, "target record") {
		t.Fatalf("plan after a comment on the schema: exit %d, want 2 and the columns dropped, the database read:\n%s%s", code, out, errs)
	}
}

const oneMore = `
table "coupons" {
  schema = schema.public
  column "code" {
    type = text
  }
  column "user_id" {
    type = uuid
  }
  primary_key {
    columns = [column.code]
  }
  index "coupons_user_id_idx" {
    columns = [column.user_id]
  }
}
`

func TestOneMoreTablePlansAppliesConverges(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	if code, _, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", "../../schema.hcl"); code != 0 {
		t.Fatalf("apply: %s", errs)
	}
	base, err := os.ReadFile("../../schema.hcl")
	if err != nil {
		t.Fatal(err)
	}
	next := writeFile(t, "schema.hcl", string(base)+oneMore)

	code, out, _ := keel(t, "plan", "--env", "dev", "--url", u, "--schema", next, "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan exit %d, want 2:\n%s", code, out)
	}
	if !strings.Contains(out, `CREATE TABLE "public"."coupons"`) || !strings.Contains(out, `CREATE INDEX "coupons_user_id_idx"`) {
		t.Fatalf("plan misses the new table or index:\n%s", out)
	}
	if !strings.Contains(out, "1 to create, 0 to alter, 0 to drop") {
		t.Fatalf("plan summary wrong:\n%s", out)
	}
	if code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", next); code != 0 {
		t.Fatalf("apply exit %d: %s%s", code, out, errs)
	}
	if code, out, _ := keel(t, "plan", "--env", "dev", "--url", u, "--schema", next, "--detailed-exitcode"); code != 0 {
		t.Fatalf("re-plan exit %d, want 0:\n%s", code, out)
	}
}

func TestFailedApplyLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	first := writeFile(t, "a.hcl", `
schema "public" {}
table "accounts" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`)
	if code, _, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", first); code != 0 {
		t.Fatalf("apply: %s", errs)
	}
	pgtest.Exec(t, u, "INSERT INTO accounts VALUES (1), (2)")
	// The new table comes first (the new column references it), then the
	// NOT NULL column fails on the existing rows.
	second := writeFile(t, "b.hcl", `
schema "public" {}
table "accounts" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "owner_id" {
    type = int
  }
  foreign_key "accounts_owner_fk" {
    columns     = [column.owner_id]
    ref_columns = [table.owners.column.id]
  }
}
table "owners" {
  schema = schema.public
  column "id" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
}
`)
	code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", second, "--auto-approve")
	if code != 1 {
		t.Fatalf("apply exit %d, want 1:\n%s%s", code, out, errs)
	}
	for _, want := range []string{"statement 2 of 2", "SQLSTATE 23502", `column "owner_id"`, "rolled back"} {
		if !strings.Contains(errs, want) {
			t.Errorf("error does not mention %q:\n%s", want, errs)
		}
	}
	if tableExists(t, u, "public.owners") {
		t.Fatal("table owners exists after the failed apply: the plan was half-applied")
	}
	if n := pgtest.QueryValue[int](t, u, "SELECT count(*)::int FROM accounts"); n != 2 {
		t.Fatalf("accounts has %d rows, want 2", n)
	}
}

func TestNotManagedObjectsAreListedAndKept(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	desired := writeFile(t, "s.hcl", `
schema "public" {}
table "items" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "name" {
    type = text
  }
}
`)
	pgtest.Exec(t, u,
		"CREATE TABLE items (id int NOT NULL)",
		"CREATE TYPE floatrange AS RANGE (subtype = float8)",
		"CREATE AGGREGATE total(int) (sfunc = int4pl, stype = int)",
		"CREATE RULE items_notify AS ON INSERT TO items DO ALSO NOTIFY items",
	)
	code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", desired)
	if code != 0 {
		t.Fatalf("plan: %s", errs)
	}
	for _, want := range []string{"Not managed by keel, left as they are (3)", "range type public.floatrange", "aggregate public.total(integer)", "rule public.items.items_notify"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "DROP") {
		t.Fatalf("plan drops something:\n%s", out)
	}
	if code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", desired); code != 0 {
		t.Fatalf("apply exit %d: %s%s", code, out, errs)
	}
	if v := pgtest.QueryValue[int](t, u, "SELECT total(x) FROM (VALUES (40), (2)) v(x)"); v != 42 {
		t.Fatalf("total() = %d", v)
	}
	if !pgtest.QueryValue[bool](t, u, "SELECT to_regtype('floatrange') IS NOT NULL AND EXISTS (SELECT 1 FROM pg_rules WHERE rulename = 'items_notify')") {
		t.Fatal("apply removed an object keel does not manage")
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	truncated := writeFile(t, "broken.hcl", "schema \"public\" {}\ntable \"t\" {\n  schema = schema.public\n  column \"id\" {\n")
	unknownAttr := writeFile(t, "ext.hcl", "schema \"public\" {}\nextension \"citext\" {\n  schema = schema.public\n  versoin = \"1.6\"\n}\n")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"truncated HCL", []string{"plan", "--env", "dev", "--url", u, "--schema", truncated}, []string{truncated + ":"}},
		{"unknown extension attribute", []string{"plan", "--env", "dev", "--url", u, "--schema", unknownAttr}, []string{unknownAttr + ":4", `"versoin"`}},
		{"unknown env", []string{"plan", "--env", "nope", "--url", u}, []string{`unknown env "nope"`, "dev"}},
		{"missing schema file", []string{"plan", "--env", "dev", "--url", u, "--schema", "does-not-exist.hcl"}, []string{"does-not-exist.hcl"}},
		{"unreachable server, password hidden", []string{"plan", "--env", "dev", "--url", "postgres://app:s3cr3t-pw@127.0.0.1:1/x", "--schema", "../../schema.hcl"}, []string{"127.0.0.1"}},
		{"unparsable URL, password hidden", []string{"plan", "--env", "dev", "--url", "postgres://app:s3cr3t-pw@127.0.0.1:notaport/x", "--schema", "../../schema.hcl"}, []string{"cannot parse"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := keel(t, tc.args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s%s", code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("error lacks %q:\n%s", w, errs)
				}
			}
			if strings.Contains(out+errs, "s3cr3t-pw") {
				t.Fatalf("output shows the password:\n%s%s", out, errs)
			}
		})
	}
	if n := pgtest.QueryValue[int](t, u, "SELECT count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace"); n != 0 {
		t.Fatalf("bad input changed the database: %d relations in public", n)
	}
}

// In a dev env, a change reverted by hand is applied again by keel apply:
// the plan made then reads as the one applied before, but it was made from
// the database as it is now, so it is no replay (a plan file applied twice
// is: TestReviewedProdApply).
func TestApplyAgainAfterAHandRevert(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	if code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", "../../schema.hcl"); code != 0 {
		t.Fatalf("apply: %s%s", out, errs)
	}
	base, err := os.ReadFile("../../schema.hcl")
	if err != nil {
		t.Fatal(err)
	}
	next := writeFile(t, "schema.hcl", string(base)+oneMore)
	for i := 1; i <= 2; i++ {
		if code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", next); code != 0 {
			t.Fatalf("apply %d exit %d: %s%s", i, code, out, errs)
		}
		if !tableExists(t, u, "coupons") {
			t.Fatalf("apply %d: no table coupons", i)
		}
		pgtest.Exec(t, u, "DROP TABLE coupons")
	}
	if n := pgtest.QueryValue[int64](t, u, "SELECT count(DISTINCT plan_digest) FROM keel.history WHERE outcome = 'applied' AND statements > 0 AND plan_digest LIKE 'sha256:%' AND plan_digest IN (SELECT plan_digest FROM keel.history GROUP BY plan_digest HAVING count(*) = 2)"); n != 1 {
		t.Fatalf("keel.history holds %d plans applied twice, want 1 (the same plan, applied after the revert)", n)
	}
}
