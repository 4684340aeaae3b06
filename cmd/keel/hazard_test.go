package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"keel/internal/pgtest"
	"keel/planner/plan"
	"keel/planner/planfile"

	"github.com/jackc/pgx/v5"
)

// jsonOf runs plan --format json and decodes it.
func jsonOf(t *testing.T, out string) (doc struct {
	Hazards []plan.Hazard `json:"hazards"`
	Steps   []plan.Step   `json:"steps"`
	Allowed []string      `json:"allowed_hazards"`
}) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("plan --format json is not JSON: %v\n%s", err, out)
	}
	return doc
}

func findHazard(hs []plan.Hazard, code plan.HazardCode, object string) *plan.Hazard {
	for i := range hs {
		if hs[i].Code == code && hs[i].Object == object {
			return &hs[i]
		}
	}
	return nil
}

const accountsHCL = `
schema "public" {}
table "accounts" {
  schema = schema.public
  column "id" {
    type = %s
  }
  primary_key {
    columns = [column.id]
  }
  %s
}
%s
`

func TestDroppingATableWithRowsIsDeniedInProd(t *testing.T) {
	t.Parallel()
	base, _ := pgtest.NewDatabase(t)
	envs, _ := prodEnv(t, "deny = [\"data-loss\"]\nconcurrent_indexes = true\n")
	u := withPassword(t, base, "require")
	pgtest.Exec(t, base,
		"CREATE TABLE accounts (id int PRIMARY KEY)",
		"CREATE TABLE legacy (id int, note text)",
		"INSERT INTO legacy SELECT g, 'x' FROM generate_series(1, 250) g",
		"ANALYZE legacy")
	desired := writeFile(t, "schema.hcl", fmt.Sprintf(accountsHCL, "int", "", ""))

	code, out, errs := keelIn(t, envs, "plan", "--env", "prod", "--url", u, "--schema", desired, "--format", "json")
	if code != 3 {
		t.Fatalf("plan with a denied hazard: exit %d, want 3:\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "--allow-hazard data-loss") {
		t.Errorf("the refusal does not say how to allow it:\n%s", errs)
	}
	h := findHazard(jsonOf(t, out).Hazards, plan.HazardDataLoss, "table public.legacy")
	if h == nil || h.Rows == nil || *h.Rows != 250 || h.Bytes == nil || h.Severity != plan.SeverityDanger {
		t.Fatalf("JSON lacks data-loss on public.legacy with 250 rows: %+v\n%s", h, out)
	}
	// The size is the table's own (read for the tables the plan changes).
	if size := pgtest.QueryValue[int64](t, base, "SELECT pg_total_relation_size('legacy')"); *h.Bytes != size || size == 0 {
		t.Fatalf("data-loss on public.legacy: %d bytes, PostgreSQL says %d", *h.Bytes, size)
	}
	_, md, _ := keelIn(t, envs, "plan", "--env", "prod", "--url", u, "--schema", desired, "--format", "markdown")
	if !strings.Contains(md, "| **danger** | `data-loss` | 1 | `table public.legacy` |") || !strings.Contains(md, "~250 rows") || !strings.Contains(md, "```sql") {
		t.Fatalf("markdown lacks the hazard row or the SQL:\n%s", md)
	}

	planPath := filepath.Join(t.TempDir(), "plan.json")
	code, out, errs = keelIn(t, envs, "plan", "--env", "prod", "--url", u, "--schema", desired, "--allow-hazard", "data-loss", "--out", planPath)
	if code != 0 || !strings.Contains(out, "Allowed by the planner (--allow-hazard): data-loss") {
		t.Fatalf("plan --allow-hazard: exit %d:\n%s%s", code, out, errs)
	}
	var file planfile.File
	raw, _ := os.ReadFile(planPath)
	if err := json.Unmarshal(raw, &file); err != nil || len(file.Plan.Allowed) != 1 || file.Plan.Allowed[0] != plan.HazardDataLoss {
		t.Fatalf("the plan file does not record the allowance: %v\n%s", err, raw)
	}
	if code, _, errs := keelIn(t, envs, "approve", planPath, "--by", "alice"); code != 0 {
		t.Fatal(errs)
	}
	if code, out, errs := keelIn(t, envs, "apply", "--env", "prod", "--url", u, "--schema", desired, "--plan", planPath); code != 0 {
		t.Fatalf("apply of the allowed plan: exit %d:\n%s%s", code, out, errs)
	}
	if tableExists(t, base, "public.legacy") {
		t.Fatal("legacy was not dropped")
	}
}

func TestIntegerToBigintIsATableRewrite(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE accounts (id int PRIMARY KEY)", "INSERT INTO accounts SELECT generate_series(1, 10)")
	desired := writeFile(t, "schema.hcl", fmt.Sprintf(accountsHCL, "bigint", "", ""))
	code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", desired, "--format", "json")
	if code != 0 {
		t.Fatalf("plan: %s", errs)
	}
	doc := jsonOf(t, out)
	if findHazard(doc.Hazards, plan.HazardTableRewrite, "column public.accounts.id") == nil {
		t.Fatalf("integer -> bigint is not flagged table-rewrite:\n%s", out)
	}
	if findHazard(doc.Hazards, plan.HazardDataLoss, "column public.accounts.id") != nil {
		t.Fatalf("integer -> bigint is flagged data-loss, but it widens:\n%s", out)
	}
}

func TestNewIndexOnExistingTableIsBuiltConcurrentlyInProd(t *testing.T) {
	t.Parallel()
	base, _ := pgtest.NewDatabase(t)
	envs, _ := prodEnv(t, "concurrent_indexes = true\n")
	u := withPassword(t, base, "require")
	pgtest.Exec(t, base, "CREATE TABLE accounts (id int PRIMARY KEY, email text)", "INSERT INTO accounts SELECT g, 'u' || g FROM generate_series(1, 100) g")
	withIndex := fmt.Sprintf(accountsHCL, "int", `column "email" {
    type = text
    null = true
  }
  index "accounts_email" {
    unique  = true
    columns = [column.email]
  }`, `table "audit" {
  schema = schema.public
  column "at" {
    type = timestamptz
  }
}`)
	desired := writeFile(t, "schema.hcl", withIndex)
	planPath := filepath.Join(t.TempDir(), "plan.json")
	code, out, errs := keelIn(t, envs, "plan", "--env", "prod", "--url", u, "--schema", desired, "--out", planPath)
	if code != 0 {
		t.Fatalf("plan: %s%s", out, errs)
	}
	if !strings.Contains(out, "After the transaction commits") || !strings.Contains(out, `CREATE UNIQUE INDEX CONCURRENTLY "accounts_email"`) {
		t.Fatalf("the index is not built concurrently after the transaction:\n%s", out)
	}
	if !strings.Contains(out, "a unique index fails if the rows hold duplicates: no rows do now") {
		t.Errorf("the unique index's may-fail hazard does not count duplicates:\n%s", out)
	}
	keelIn(t, envs, "approve", planPath, "--by", "alice")
	if code, out, errs := keelIn(t, envs, "apply", "--env", "prod", "--url", u, "--schema", desired, "--plan", planPath); code != 0 {
		t.Fatalf("apply: exit %d:\n%s%s", code, out, errs)
	}
	if !pgtest.QueryValue[bool](t, base, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email'::regclass") {
		t.Fatal("the index is not valid")
	}
	if code, out, _ := keelIn(t, envs, "plan", "--env", "prod", "--url", u, "--schema", desired, "--detailed-exitcode"); code != 0 {
		t.Fatalf("re-plan: exit %d:\n%s", code, out)
	}
}

// holdLock takes a lock on table in an open transaction and returns the
// holder's pid; the lock is released when the test ends.
func holdLock(t *testing.T, dbURL, table, mode string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SET application_name = 'long report'", "BEGIN", "LOCK TABLE " + table + " IN " + mode + " MODE"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return pid
}

// Another session holds a lock on a table the plan changes: apply gives up
// after lock_timeout x (retries + 1), names the holder, and leaves nothing.
// What keel controls is asserted (the timeout it set, the tries it made),
// not the wall-clock time of the whole apply.
// ACCESS EXCLUSIVE already blocks reading the table's definition; SHARE lets
// keel read it and blocks the ALTER TABLE inside the plan's transaction.
func TestLockTimeoutRollsBackAndNamesTheHolder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ mode, lockName, outcome string }{
		{"ACCESS EXCLUSIVE", "AccessExclusiveLock", "nothing was changed"},
		{"SHARE", "ShareLock", "the transaction was rolled back"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			u, _ := pgtest.NewDatabase(t)
			dir := devEnv(t, "lock_timeout = \"500ms\"\nlock_retries = 2\n")
			pgtest.Exec(t, u, "CREATE TABLE accounts (id int PRIMARY KEY)")
			desired := writeFile(t, "schema.hcl", fmt.Sprintf(accountsHCL, "int", `column "email" {
    type = text
    null = true
  }`, `table "audit" {
  schema = schema.public
  column "at" {
    type = timestamptz
  }
}`))
			holder := holdLock(t, u, "accounts", tc.mode)
			code, out, errs := keelIn(t, dir, "apply", "--env", "dev", "--url", u, "--schema", desired)
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s%s", code, out, errs)
			}
			for _, want := range []string{"lock timeout", "500ms", "3 times", fmt.Sprintf("pid %d", holder), `application_name "long report"`, tc.lockName, tc.outcome} {
				if !strings.Contains(errs, want) {
					t.Errorf("the error lacks %q:\n%s", want, errs)
				}
			}
			if tableExists(t, u, "public.audit") {
				t.Fatal("the new table exists: part of the plan remained")
			}
		})
	}
}

// kill -9 of keel in the middle of an apply leaves the database as it was,
// and the next plan is the same as the first.
func TestKilledApplyLeavesNothing(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	bin := filepath.Join(t.TempDir(), "keel")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building keel: %v\n%s", err, out)
	}
	dir := devEnv(t, "lock_timeout = \"5m\"\nstatement_timeout = \"10m\"\n")
	pgtest.Exec(t, u, "CREATE TABLE accounts (id int PRIMARY KEY)", "INSERT INTO accounts VALUES (1), (2)")
	var tables strings.Builder
	for i := 1; i <= 19; i++ {
		fmt.Fprintf(&tables, "table \"t%02d\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n  primary_key {\n    columns = [column.id]\n  }\n}\n", i)
	}
	// accounts gains a foreign key to t19, so its ALTER comes after the new tables.
	desired := writeFile(t, "schema.hcl", fmt.Sprintf(accountsHCL, "int", `column "t19_id" {
    type = int
    null = true
  }
  foreign_key "accounts_t19" {
    columns     = [column.t19_id]
    ref_columns = [table.t19.column.id]
  }`, tables.String()))
	_, firstPlan, _ := keelIn(t, dir, "plan", "--env", "dev", "--url", u, "--schema", desired, "--format", "sql")
	if n := len(regexp.MustCompile(`(?m)^-- \d+/20: `).FindAllString(firstPlan, -1)); n != 20 {
		t.Fatalf("the plan has %d statements, want 20:\n%s", n, firstPlan)
	}
	before := snapshot(t, u)

	// SHARE lets keel read accounts' definition, and blocks its ALTER TABLE.
	holdLock(t, u, "accounts", "SHARE")
	cmd := exec.Command(bin, "--envs-dir", dir, "apply", "--env", "dev", "--url", u, "--schema", desired, "--auto-approve")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until keel's apply is blocked on accounts, part-way through the plan.
	deadline := time.Now().Add(60 * time.Second)
	for !pgtest.QueryValue[bool](t, u, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'keel apply%' AND wait_event_type = 'Lock')") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("keel never blocked on the lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	// The server notices the dead client and rolls its transaction back.
	for pgtest.QueryValue[bool](t, u, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'keel apply%')") {
		if time.Now().After(deadline) {
			t.Fatal("keel's session never ended")
		}
		pgtest.Exec(t, u, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'keel apply%'")
		time.Sleep(50 * time.Millisecond)
	}
	if after := snapshot(t, u); after != before {
		t.Fatalf("the database changed:\nbefore %s\nafter  %s", before, after)
	}
	_, again, _ := keelIn(t, dir, "plan", "--env", "dev", "--url", u, "--schema", desired, "--format", "sql")
	if again != firstPlan {
		t.Fatalf("the next plan differs from the first:\n%s\nvs\n%s", again, firstPlan)
	}
}

// A view in a schema keel does not manage depends on a column the plan
// drops: the plan says that PostgreSQL would refuse it and lists it as a
// difference keel cannot plan; the apply refuses before anything runs.
func TestDropBlockedByAViewIsFlagged(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE accounts (id int PRIMARY KEY, email text)", "CREATE SCHEMA reports", "CREATE VIEW reports.emails AS SELECT email FROM public.accounts")
	desired := writeFile(t, "schema.hcl", fmt.Sprintf(accountsHCL, "int", "", ""))
	code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", desired, "--format", "json")
	if code != 1 || !strings.Contains(out, `"unplanned_differences"`) {
		t.Fatalf("plan: exit %d, want 1 with the view listed:\n%s%s", code, out, errs)
	}
	h := findHazard(jsonOf(t, out).Hazards, plan.HazardMayFail, "column public.accounts.email")
	if h == nil || h.Severity != plan.SeverityDanger || !strings.Contains(h.Message, "view reports.emails") {
		t.Fatalf("no may-fail hazard naming the view: %+v\n%s", h, out)
	}
	if code, _, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", desired); code == 0 || !strings.Contains(errs, "nothing was run") {
		t.Fatalf("apply: exit %d, want a refusal before anything runs:\n%s", code, errs)
	}
	if !tableExists(t, u, "reports.emails") || pgtest.QueryValue[int](t, u, "SELECT count(*)::int FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'email'") != 1 {
		t.Fatal("the refused apply changed something")
	}
}

// devEnv writes an auto-apply profile "dev" with the extra settings and
// returns its directory.
func devEnv(t *testing.T, extra string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "envs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "url_env = \"KEEL_UNSET_URL\"\napply = \"auto\"\n" + extra
	if err := os.WriteFile(filepath.Join(dir, "dev.hcl"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Every narrowing the catalog can show is data-loss, a conversion
// PostgreSQL does not make on its own is may-fail, and widenings are
// neither.
func TestNarrowingAndConversionHazards(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, `CREATE TABLE t (a numeric, b timestamptz, c text, d bit varying(10), e numeric, f text,
  g interval, h numeric(10,2), i int, j timestamptz, k text[], l numeric[], m bigint, n time(3))`)
	desired := writeFile(t, "schema.sql", `CREATE TABLE t (a numeric(10,2), b timestamptz(0), c integer, d bit varying(5),
  e integer, f varchar(5), g interval day to second, h numeric, i bigint, j date, k int[], l numeric(5,1)[],
  m numeric(12,0), n time(0));`)
	code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", desired, "--format", "json")
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errs)
	}
	doc := jsonOf(t, out)
	for col, want := range map[string]plan.HazardCode{
		"a": plan.HazardDataLoss, "b": plan.HazardDataLoss, "c": plan.HazardMayFail, "d": plan.HazardDataLoss,
		"e": plan.HazardDataLoss, "f": plan.HazardDataLoss, "g": plan.HazardDataLoss, "j": plan.HazardDataLoss,
		"k": plan.HazardMayFail, "l": plan.HazardDataLoss, "m": plan.HazardDataLoss, "n": plan.HazardDataLoss,
	} {
		if findHazard(doc.Hazards, want, "column public.t."+col) == nil {
			t.Errorf("column %s: no %s hazard", col, want)
		}
	}
	for _, col := range []string{"h", "i"} {
		for _, code := range []plan.HazardCode{plan.HazardDataLoss, plan.HazardMayFail} {
			if findHazard(doc.Hazards, code, "column public.t."+col) != nil {
				t.Errorf("column %s widens, but is flagged %s", col, code)
			}
		}
	}
	if t.Failed() {
		t.Logf("plan:\n%s", out)
	}
}
