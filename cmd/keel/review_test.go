package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"keel/internal/pgtest"
)

const testPassword = "s3cr3t-pw"

// prodEnvs numbers the URL variables of prodEnv's profiles.
var prodEnvs atomic.Int64

// prodEnv writes a review-mode profile "prod" (and an auto "staging") into a
// temporary envs directory whose URL variable is unique to the test, and
// returns the directory and the variable's name. The profile normalizes on
// the target's server (normalize_on_target = true): the tests have one server.
func prodEnv(t *testing.T, extra string) (dir, urlEnv string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "envs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Unique in the process: the temporary directory's own name is not
	// (it is 001 for every test's first), and tests running beside each
	// other set and unset their variables.
	urlEnv = fmt.Sprintf("KEEL_TEST_URL_%d", prodEnvs.Add(1))
	prod := fmt.Sprintf("url_env = %q\napply = \"review\"\ntls = \"require\"\nlock_wait = \"0s\"\nnormalize_on_target = true\n%s", urlEnv, extra)
	staging := fmt.Sprintf("url_env = %q\napply = \"auto\"\n", urlEnv)
	for name, body := range map[string]string{"prod.hcl": prod, "staging.hcl": staging} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, urlEnv
}

// setEnv sets a variable whose name is unique to the test (so parallel tests
// do not interfere, which t.Setenv cannot promise) and unsets it afterwards.
func setEnv(t *testing.T, name, value string) {
	t.Helper()
	if err := os.Setenv(name, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Unsetenv(name) })
}

// withPassword returns dbURL with a password (trust auth ignores it) and sslmode.
func withPassword(t *testing.T, dbURL, sslmode string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := ""
	if u.User != nil {
		name = u.User.Username()
	}
	if name == "" {
		cur, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		name = cur.Username
	}
	if _, has := u.User.Password(); !has {
		u.User = url.UserPassword(name, testPassword)
	}
	q := u.Query()
	q.Set("sslmode", sslmode)
	u.RawQuery = q.Encode()
	return u.String()
}

// snapshot describes what a user could see changing in the database: columns
// of public and keel tables, extensions, history rows.
func snapshot(t *testing.T, dbURL string) string {
	t.Helper()
	return pgtest.QueryValue[string](t, dbURL, `
SELECT coalesce((SELECT string_agg(n.nspname || '.' || c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY 1)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
  WHERE n.nspname IN ('public', 'keel') AND a.attnum > 0 AND NOT a.attisdropped), '') || '|' ||
coalesce((SELECT string_agg(extname || extversion, ',' ORDER BY 1) FROM pg_extension), '') || '|' ||
CASE WHEN to_regclass('keel.history') IS NULL THEN 'no history'
     ELSE (xpath('/row/c/text()', query_to_xml('SELECT count(*) AS c FROM keel.history', false, true, '')))[1]::text END`)
}

func historyRows(t *testing.T, dbURL string) int {
	t.Helper()
	if !pgtest.QueryValue[bool](t, dbURL, "SELECT to_regclass('keel.history') IS NOT NULL") {
		return 0
	}
	return pgtest.QueryValue[int](t, dbURL, "SELECT count(*)::int FROM keel.history")
}

func TestProdRefusesWeakTLS(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	envs, _ := prodEnv(t, "")
	for _, mode := range []string{"disable", "allow", "prefer"} {
		code, out, errs := keelIn(t, envs, "plan", "--env", "prod", "--url", withPassword(t, u, mode), "--schema", "../../schema.hcl")
		if code != 1 {
			t.Fatalf("sslmode=%s: exit %d, want 1:\n%s%s", mode, code, out, errs)
		}
		if !strings.Contains(errs, "sslmode="+mode) || !strings.Contains(errs, "sslmode=verify-full") {
			t.Errorf("sslmode=%s: the message does not say which sslmode to use:\n%s", mode, errs)
		}
		if strings.Contains(out+errs, testPassword) {
			t.Fatalf("output shows the password:\n%s%s", out, errs)
		}
	}
	code, _, errs := keelIn(t, envs, "plan", "--env", "prod", "--url", withPassword(t, u, "require"), "--schema", "../../schema.hcl")
	if code != 0 {
		t.Fatalf("sslmode=require on localhost: exit %d: %s", code, errs)
	}
}

// TestReviewedProdApply walks the reviewed workflow and every refusal; after
// each refusal the database is exactly as it was.
func TestReviewedProdApply(t *testing.T) {
	t.Parallel()
	base, _ := pgtest.NewDatabase(t)
	envs, urlEnv := prodEnv(t, "")
	u := withPassword(t, base, "require")
	setEnv(t, urlEnv, u) // the profile reads the URL from the environment
	var seen strings.Builder
	run := func(args ...string) (int, string, string) {
		code, out, errs := keelIn(t, envs, args...)
		seen.WriteString(out + errs)
		return code, out, errs
	}
	refused := func(what string, args ...string) string {
		t.Helper()
		before := snapshot(t, base)
		code, out, errs := run(args...)
		if code != 3 {
			t.Fatalf("%s: exit %d, want 3:\n%s%s", what, code, out, errs)
		}
		if after := snapshot(t, base); after != before {
			t.Fatalf("%s: the database changed on refusal:\nbefore %s\nafter  %s", what, before, after)
		}
		return errs
	}

	// Start from the example schema, applied in an auto env.
	if code, out, errs := run("apply", "--env", "staging", "--schema", "../../schema.hcl"); code != 0 {
		t.Fatalf("staging apply: %s%s", out, errs)
	}
	schemaFile, err := os.ReadFile("../../schema.hcl")
	if err != nil {
		t.Fatal(err)
	}
	next := writeFile(t, "schema.hcl", string(schemaFile)+oneMore)

	msg := refused("ad-hoc prod apply", "apply", "--env", "prod", "--schema", next)
	if !strings.Contains(msg, "--out plan.json") || !strings.Contains(msg, "keel approve") {
		t.Errorf("the refusal does not say how to get a reviewed plan:\n%s", msg)
	}

	planPath := filepath.Join(t.TempDir(), "plan.json")
	if code, out, errs := run("plan", "--env", "prod", "--schema", next, "--out", planPath); code != 0 {
		t.Fatalf("plan --out: exit %d: %s%s", code, out, errs)
	}
	raw, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]any
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format", "keel_version", "env", "created_at", "plan", "digest"} {
		if _, ok := file[k]; !ok {
			t.Errorf("plan file lacks %q", k)
		}
	}
	if !strings.Contains(string(raw), `CREATE TABLE \"public\".\"coupons\"`) || !strings.Contains(string(raw), `"from"`) {
		t.Fatalf("plan file lacks the statements or the fingerprint:\n%s", raw)
	}

	refused("unapproved plan", "apply", "--env", "prod", "--schema", next, "--plan", planPath)

	if code, out, errs := run("approve", planPath, "--by", "alice"); code != 0 {
		t.Fatalf("approve: %s%s", out, errs)
	}
	approved, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(approved), `CREATE INDEX \"coupons_user_id_idx\"`, `CREATE UNIQUE INDEX \"coupons_user_id_idx\"`, 1)
	if tampered == string(approved) {
		t.Fatal("test bug: nothing to tamper with")
	}
	if err := os.WriteFile(planPath, []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg := refused("tampered plan", "apply", "--env", "prod", "--schema", next, "--plan", planPath); !strings.Contains(msg, "changed after it was written") {
		t.Errorf("tampering is not named:\n%s", msg)
	}
	if err := os.WriteFile(planPath, approved, 0o644); err != nil {
		t.Fatal(err)
	}

	pgtest.Exec(t, base, "ALTER TABLE users ADD COLUMN nickname text")
	if msg := refused("stale plan", "apply", "--env", "prod", "--schema", next, "--plan", planPath); !strings.Contains(msg, "stale") || !strings.Contains(msg, "column public.users.nickname (added)") {
		t.Errorf("the stale refusal does not name the column that changed:\n%s", msg)
	}
	pgtest.Exec(t, base, "ALTER TABLE users DROP COLUMN nickname")
	// A change the schema engine does not see makes the plan stale too.
	pgtest.Exec(t, base, "ALTER TABLE users SET (fillfactor = 70)")
	if msg := refused("stale catalog", "apply", "--env", "prod", "--schema", next, "--plan", planPath); !strings.Contains(msg, "stale") || !strings.Contains(msg, "storage parameter public.users.fillfactor (added)") {
		t.Errorf("a storage parameter set since the plan does not make it stale:\n%s", msg)
	}
	pgtest.Exec(t, base, "ALTER TABLE users RESET (fillfactor)")

	changedDesired := writeFile(t, "schema.hcl", string(schemaFile)+strings.Replace(oneMore, `"coupons"`, `"vouchers"`, 1))
	if msg := refused("desired state changed", "apply", "--env", "prod", "--schema", changedDesired, "--plan", planPath); !strings.Contains(msg, "no longer matches") {
		t.Errorf("the refusal does not say the desired state changed:\n%s", msg)
	}

	histBefore := historyRows(t, base)
	code, out, errs := run("apply", "--env", "prod", "--schema", next, "--plan", planPath)
	if code != 0 {
		t.Fatalf("approved, fresh plan: exit %d:\n%s%s", code, out, errs)
	}
	if !tableExists(t, base, "public.coupons") {
		t.Fatal("the approved plan did not create coupons")
	}
	if n := historyRows(t, base); n != histBefore+1 {
		t.Fatalf("history rows %d, want %d", n, histBefore+1)
	}
	if approver := pgtest.QueryValue[string](t, base, "SELECT approver FROM keel.history ORDER BY id DESC LIMIT 1"); approver != "alice" {
		t.Fatalf("history approver %q, want alice", approver)
	}
	if code, out, _ := run("plan", "--env", "prod", "--schema", next, "--detailed-exitcode"); code != 0 {
		t.Fatalf("re-plan after the approved apply: exit %d:\n%s", code, out)
	}
	if msg := refused("the same plan again", "apply", "--env", "prod", "--schema", next, "--plan", planPath); !strings.Contains(msg, "already applied") {
		t.Errorf("re-applying is not named:\n%s", msg)
	}

	code, out, _ = run("status", "--env", "prod", "--schema", next)
	if code != 0 || !strings.Contains(out, "approved-by=alice") || !strings.Contains(out, "matches the desired state") {
		t.Fatalf("status: exit %d:\n%s", code, out)
	}
	if code, _, _ := run("status", "--env", "prod", "--schema", "../../schema.hcl"); code != 2 {
		t.Fatalf("status against an older desired state: exit %d, want 2", code)
	}

	history := pgtest.QueryValue[string](t, base, "SELECT string_agg(row_to_json(h)::text, ' ') FROM keel.history h")
	planText, _ := os.ReadFile(planPath)
	for what, text := range map[string]string{"output": seen.String(), "plan file": string(planText), "history": history} {
		if strings.Contains(text, testPassword) {
			t.Errorf("the password appears in the %s", what)
		}
	}
}

func TestSignedApprovals(t *testing.T) {
	t.Parallel()
	base, _ := pgtest.NewDatabase(t)
	keys := t.TempDir()
	for _, k := range []string{"alice", "mallory"} {
		if code, out, errs := keel(t, "keygen", "--out", filepath.Join(keys, k)); code != 0 {
			t.Fatalf("keygen: %s%s", out, errs)
		}
	}
	pub, err := os.ReadFile(filepath.Join(keys, "alice.pub"))
	if err != nil {
		t.Fatal(err)
	}
	envs, urlEnv := prodEnv(t, fmt.Sprintf("approvers = [%q]\n", strings.TrimSpace(string(pub))))
	setEnv(t, urlEnv, withPassword(t, base, "require"))

	planPath := filepath.Join(t.TempDir(), "plan.json")
	if code, _, errs := keelIn(t, envs, "plan", "--env", "prod", "--schema", "../../schema.hcl", "--out", planPath); code != 0 {
		t.Fatalf("plan: %s", errs)
	}
	pristine, _ := os.ReadFile(planPath)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unsigned", []string{"--by", "alice"}, "not signed"},
		{"signed by a key not listed", []string{"--by", "mallory", "--key", filepath.Join(keys, "mallory")}, "not one of the profile's approvers"},
	} {
		if err := os.WriteFile(planPath, pristine, 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := keelIn(t, envs, append([]string{"approve", planPath}, tc.args...)...); code != 0 {
			t.Fatalf("%s: approve: %s", tc.name, errs)
		}
		code, out, errs := keelIn(t, envs, "apply", "--env", "prod", "--schema", "../../schema.hcl", "--plan", planPath)
		if code != 3 || !strings.Contains(errs, tc.want) {
			t.Fatalf("%s: exit %d, want 3 with %q:\n%s%s", tc.name, code, tc.want, out, errs)
		}
		if tableExists(t, base, "public.users") {
			t.Fatalf("%s: the refused plan changed the database", tc.name)
		}
	}
	if err := os.WriteFile(planPath, pristine, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := keelIn(t, envs, "approve", planPath, "--by", "alice", "--key", filepath.Join(keys, "alice")); code != 0 {
		t.Fatalf("approve: %s", errs)
	}
	if code, out, errs := keelIn(t, envs, "apply", "--env", "prod", "--schema", "../../schema.hcl", "--plan", planPath); code != 0 {
		t.Fatalf("signed by a listed key: exit %d:\n%s%s", code, out, errs)
	}
}

func TestPlanForAnotherEnvOrDatabase(t *testing.T) {
	t.Parallel()
	a, _ := pgtest.NewDatabase(t)
	b, _ := pgtest.NewDatabase(t)
	envs, _ := prodEnv(t, "")
	ua, ub := withPassword(t, a, "require"), withPassword(t, b, "require")
	stagingPlan := filepath.Join(t.TempDir(), "staging.json")
	prodPlanA := filepath.Join(t.TempDir(), "prod-a.json")
	for _, p := range []struct{ env, url, out string }{{"staging", ua, stagingPlan}, {"prod", ua, prodPlanA}} {
		if code, _, errs := keelIn(t, envs, "plan", "--env", p.env, "--url", p.url, "--schema", "../../schema.hcl", "--out", p.out); code != 0 {
			t.Fatalf("plan: %s", errs)
		}
		if code, _, errs := keelIn(t, envs, "approve", p.out, "--by", "alice"); code != 0 {
			t.Fatalf("approve: %s", errs)
		}
	}
	for _, tc := range []struct{ name, url, plan, want string }{
		{"another env", ua, stagingPlan, `for env "staging"`},
		{"another database", ub, prodPlanA, "not database"},
	} {
		code, out, errs := keelIn(t, envs, "apply", "--env", "prod", "--url", tc.url, "--schema", "../../schema.hcl", "--plan", tc.plan)
		if code != 3 || !strings.Contains(errs, tc.want) {
			t.Fatalf("%s: exit %d, want 3 with %q:\n%s%s", tc.name, code, tc.want, out, errs)
		}
	}
	if tableExists(t, a, "public.users") || tableExists(t, b, "public.users") {
		t.Fatal("a refused plan changed a database")
	}
}

// Ten applies of the same approved plan at once: one executes, nine are
// turned away naming the holder of the apply lock.
func TestConcurrentApplies(t *testing.T) {
	t.Parallel()
	base, _ := pgtest.NewDatabase(t)
	envs, _ := prodEnv(t, "")
	u := withPassword(t, base, "require")
	planPath := filepath.Join(t.TempDir(), "plan.json")
	if code, _, errs := keelIn(t, envs, "plan", "--env", "prod", "--url", u, "--schema", "../../schema.hcl", "--out", planPath); code != 0 {
		t.Fatalf("plan: %s", errs)
	}
	if code, _, errs := keelIn(t, envs, "approve", planPath, "--by", "alice"); code != 0 {
		t.Fatalf("approve: %s", errs)
	}
	type result struct {
		code int
		errs string
	}
	results := make([]result, 10)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, errs := keelIn(t, envs, "apply", "--env", "prod", "--url", u, "--schema", "../../schema.hcl", "--plan", planPath)
			results[i] = result{code, errs}
		}()
	}
	wg.Wait()
	applied, named := 0, 0
	for _, r := range results {
		switch {
		case r.code == 0:
			applied++
		case strings.Contains(r.errs, "holds the apply lock") && strings.Contains(r.errs, "pid ") && strings.Contains(r.errs, "keel apply prod"):
			named++
		default:
			t.Errorf("exit %d without naming the lock holder:\n%s", r.code, r.errs)
		}
	}
	if applied != 1 || named != 9 {
		t.Fatalf("%d applied and %d named the holder, want 1 and 9", applied, named)
	}
	if n := historyRows(t, base); n != 1 {
		t.Fatalf("%d history rows, want 1", n)
	}
}

// TestReviewEnvDoesNotNormalizeOnTarget checks that an env with apply =
// "review" runs no desired-state SQL on the target's server unless told
// where (dev_url, --dev-url) or told it may (normalize_on_target).
func TestReviewEnvDoesNotNormalizeOnTarget(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	dir := filepath.Join(t.TempDir(), "envs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prod.hcl"), []byte("url_env = \"KEEL_UNSET_URL\"\napply = \"review\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, u)
	code, out, errs := keelIn(t, dir, "plan", "--env", "prod", "--url", u, "--schema", "../../schema.hcl")
	if code != 3 || !strings.Contains(errs, "dev_url") || !strings.Contains(errs, "normalize_on_target") {
		t.Fatalf("plan without dev_url: exit %d, want 3 naming dev_url and normalize_on_target:\n%s%s", code, out, errs)
	}
	code, out, _ = keelIn(t, dir, "doctor", "--env", "prod", "--url", u, "--schema", "../../schema.hcl")
	if code != 1 || !strings.Contains(out, "fail  throwaway database") || !strings.Contains(out, "dev_url") {
		t.Fatalf("doctor without dev_url: exit %d, want 1 with a failed throwaway database check:\n%s", code, out)
	}
	if after := snapshot(t, u); after != before {
		t.Fatalf("the refused commands changed the database: %s -> %s", before, after)
	}
	// A scratch server for normalization: here the test server itself.
	code, out, errs = keelIn(t, dir, "plan", "--env", "prod", "--url", u, "--schema", "../../schema.hcl", "--dev-url", pgtest.ServerURL(), "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan with --dev-url: exit %d, want 2:\n%s%s", code, out, errs)
	}
	// A database as the desired state is only read: nothing to normalize.
	other, _ := pgtest.NewDatabase(t)
	code, out, errs = keelIn(t, dir, "plan", "--env", "prod", "--url", u, "--schema", other, "--detailed-exitcode")
	if code != 0 {
		t.Fatalf("plan against an empty database as desired state: exit %d, want 0:\n%s%s", code, out, errs)
	}
}

// keel inspect resolves its target as every command does: the profile's TLS
// requirement applies to it.
func TestInspectHonoursTheProfilesTLS(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	envs, _ := prodEnv(t, "")
	code, out, errs := keelIn(t, envs, "inspect", "--env", "prod", "--url", withPassword(t, u, "disable"))
	if code != 1 || !strings.Contains(errs, "sslmode=disable") {
		t.Fatalf("inspect with sslmode=disable in an env that requires TLS: exit %d, want 1 naming the sslmode:\n%s%s", code, out, errs)
	}
	if code, out, errs := keelIn(t, envs, "inspect", "--env", "prod", "--url", withPassword(t, u, "require")); code != 0 {
		t.Fatalf("inspect with sslmode=require: exit %d:\n%s%s", code, out, errs)
	}
}
