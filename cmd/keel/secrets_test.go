package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"keel/internal/pgtest"
)

// The leak test: every command and format, against a server that asks for a
// scram-sha-256 password, with the password in every form keel reads (and
// two it must refuse), never shows the password, nor a piece of it, in its
// output, its plan files or keel.history.

const (
	// leakPassword is the role's password: it holds every character that
	// URLs and connection strings treat specially, and no four characters
	// in a row that keel's output could hold by chance.
	leakPassword = `Pw7@Lk:Qz/Ht?Yr#Jm%4Bn' Cv"Ds`
	// leakWrongPassword is a wrong one, just as special.
	leakWrongPassword = `Wq3@Zg:Mv/Kp?Tb#Ln%2Fj' Gh"Rs`
	// leakAtPassword is a password whose unencoded '@' still leaves a URL
	// that parses: pgx reads password "Kp4Wz" on host "Rt8Mn@127.0.0.1".
	leakAtPassword = "Kp4Wz@Rt8Mn"
	leakRole       = "keel_secret"
)

// leakCheck looks for the passwords in what keel wrote, and counts.
type leakCheck struct {
	needles []string

	mu                        sync.Mutex
	combinations, leaks, hits int
	leaked                    []string
}

// newLeakCheck looks for each password as it is, percent-encoded and
// escaped for a keyword/value string, and for every four characters in a
// row of those: what a wrong reading of a connection string (both sides of
// an '@', say) could show.
func newLeakCheck(passwords ...string) *leakCheck {
	seen := map[string]bool{}
	for _, p := range passwords {
		for _, form := range []string{p, percentEncode(p), escapeKV(p)} {
			seen[form] = true
			for i := 0; i+4 <= len(form); i++ {
				seen[form[i:i+4]] = true
			}
		}
	}
	l := &leakCheck{}
	for n := range seen {
		l.needles = append(l.needles, n)
	}
	sort.Slice(l.needles, func(i, j int) bool { return len(l.needles[i]) > len(l.needles[j]) })
	return l
}

// check counts one combination and fails the test for each place (stdout,
// stderr, a plan file, keel.history) that shows a password or a piece of it.
func (l *leakCheck) check(t *testing.T, combination string, places map[string]string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.combinations++
	leaked := false
	for where, text := range places {
		var found []string
		for _, n := range l.needles {
			if strings.Contains(text, n) {
				found = append(found, n)
			}
		}
		if len(found) == 0 {
			continue
		}
		leaked = true
		l.hits += strings.Count(text, found[0])
		t.Errorf("LEAK in %s: %s shows %q:\n%s", combination, where, found[0], text)
	}
	if leaked {
		l.leaks++
		l.leaked = append(l.leaked, combination)
	}
}

func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// escapeKV escapes a value for a quoted keyword/value string.
func escapeKV(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

// connForm is a way of writing the connection string of a database on the
// test cluster.
type connForm struct {
	name string
	// conn returns the connection string of database db.
	conn func(db string) string
	// refusal is what keel must say when it cannot connect with the form
	// ("" when it can).
	refusal []string
}

func leakForms(c *pgtest.Cluster) []connForm {
	return []connForm{
		{name: "percent-encoded URL", conn: func(db string) string {
			return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", leakRole, percentEncode(leakPassword), c.Host, c.Port, db)
		}},
		{name: "password parameter", conn: func(db string) string {
			return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable&password=%s", leakRole, c.Host, c.Port, db, percentEncode(leakPassword))
		}},
		{name: "keyword-value", conn: func(db string) string {
			return fmt.Sprintf("host=%s port=%d dbname=%s user=%s sslmode=disable password='%s'", c.Host, c.Port, db, leakRole, escapeKV(leakPassword))
		}},
		{name: "unencoded @", refusal: []string{"ambiguous", "%40"}, conn: func(db string) string {
			return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", leakRole, leakPassword, c.Host, c.Port, db)
		}},
		{name: "unencoded @ that parses", refusal: []string{"ambiguous", "%40"}, conn: func(db string) string {
			return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", leakRole, leakAtPassword, c.Host, c.Port, db)
		}},
		{name: "wrong password", refusal: []string{"password authentication failed", "28P01"}, conn: func(db string) string {
			return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", leakRole, percentEncode(leakWrongPassword), c.Host, c.Port, db)
		}},
	}
}

const leakSchemaV1 = `
schema "public" {}
extension "uuid-ossp" {
  schema = schema.public
}
table "accounts" {
  schema = schema.public
  column "id" {
    type    = uuid
    default = sql("uuid_generate_v4()")
  }
  column "email" {
    type = text
  }
  primary_key {
    columns = [column.id]
  }
}
`

const leakSchemaV2 = leakSchemaV1 + `
table "invoices" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  primary_key {
    columns = [column.id]
  }
}
`

// leakSchemaFails adds a NOT NULL column without a default: applying it to
// accounts with a row fails, and keel.history records the failure.
const leakSchemaFails = `
schema "public" {}
extension "uuid-ossp" {
  schema = schema.public
}
table "accounts" {
  schema = schema.public
  column "id" {
    type    = uuid
    default = sql("uuid_generate_v4()")
  }
  column "email" {
    type = text
  }
  column "owner" {
    type = integer
  }
  primary_key {
    columns = [column.id]
  }
}
`

// The same as leakSchemaV1, as SQL for a desired database.
const leakSchemaV1SQL = `CREATE EXTENSION "uuid-ossp" SCHEMA public;
CREATE TABLE public.accounts (id uuid DEFAULT uuid_generate_v4() PRIMARY KEY, email text NOT NULL)`

// leakRun runs keel in one group of combinations and checks each run.
type leakRun struct {
	t     *testing.T
	lc    *leakCheck
	envs  string
	group string
	// form is the connection string form under test: keel must refuse
	// every command that uses one with a refusal.
	form connForm
	// admin is the target database's superuser connection string, for
	// reading keel.history; plans are the plan files written so far.
	admin string
	plans []string
}

// keel runs a command with the form under test: it checks its output, the
// plan files and keel.history for the passwords, and its exit code against
// want, or, for a form keel must refuse, exit 1 and the refusal.
func (r *leakRun) keel(want int, args ...string) (stdout, stderr string) {
	r.t.Helper()
	if r.form.refusal == nil {
		return r.keelExit(want, args...)
	}
	out, errs := r.keelExit(exitError, args...)
	for _, w := range r.form.refusal {
		if strings.Contains(out+errs, w) {
			return out, errs
		}
	}
	r.t.Errorf("%s: keel %s does not say any of %q:\n%s%s", r.group, strings.Join(redactArgs(args), " "), r.form.refusal, out, errs)
	return out, errs
}

// keelExit runs keel with args, checks its output, the plan files and
// keel.history for the passwords, and its exit code against want.
func (r *leakRun) keelExit(want int, args ...string) (stdout, stderr string) {
	r.t.Helper()
	code, out, errs := keelIn(r.t, r.envs, args...)
	places := map[string]string{"stdout": out, "stderr": errs, "keel.history": leakHistory(r.t, r.admin)}
	for _, p := range r.plans {
		if b, err := os.ReadFile(p); err == nil {
			places["plan file "+filepath.Base(p)] = string(b)
		}
	}
	combination := r.group + ": keel " + strings.Join(redactArgs(args), " ")
	r.lc.check(r.t, combination, places)
	if code != want {
		r.t.Errorf("%s: exit %d, want %d:\n%s%s", combination, code, want, out, errs)
	}
	return out, errs
}

// redactArgs names a combination without its connection strings.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if i > 0 && (args[i-1] == "--url" || args[i-1] == "--schema" || args[i-1] == "--dev-url") && !strings.HasSuffix(a, ".hcl") {
			out[i] = "CONN"
		}
		if strings.HasSuffix(a, ".hcl") || strings.HasSuffix(a, ".json") {
			out[i] = filepath.Base(a)
		}
	}
	return out
}

// leakHistory returns the rows of keel.history, one JSON object a line.
func leakHistory(t *testing.T, admin string) string {
	t.Helper()
	if !pgtest.QueryValue[bool](t, admin, "SELECT to_regclass('keel.history') IS NOT NULL") {
		return ""
	}
	return pgtest.QueryValue[string](t, admin, "SELECT coalesce(string_agg(row_to_json(h)::text, E'\\n' ORDER BY id), '') FROM keel.history h")
}

// leakEnvs writes profiles dev (apply = "auto") and prod (apply = "review")
// reading the URL from urlEnv, plus the extra profiles given, and returns
// their directory.
func leakEnvs(t *testing.T, urlEnv string, extra map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "envs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"dev.hcl":  fmt.Sprintf("url_env = %q\napply = \"auto\"\n", urlEnv),
		"prod.hcl": fmt.Sprintf("url_env = %q\napply = \"review\"\nlock_wait = \"0s\"\nnormalize_on_target = true\n", urlEnv),
	}
	for name, body := range extra {
		files[name] = body
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPasswordsNeverLeak runs every command and format of keel against a
// server that asks for a password, with the target's connection string (by
// --url or the profile's url_env) and the desired database's (--schema) in
// every form, and checks that no password, nor four characters of one,
// shows in stdout, stderr, a plan file or keel.history.
func TestPasswordsNeverLeak(t *testing.T) {
	t.Parallel()
	c := pgtest.StartCluster(t)
	if !c.HasExtension(t, "uuid-ossp") {
		t.Fatal("the test cluster cannot install uuid-ossp: install postgresql-contrib for its server")
	}
	c.CreateRole(t, leakRole, leakPassword)
	lc := newLeakCheck(leakPassword, leakWrongPassword, leakAtPassword)
	v1 := writeFile(t, "v1.hcl", leakSchemaV1)
	v2 := writeFile(t, "v2.hcl", leakSchemaV2)
	fails := writeFile(t, "fails.hcl", leakSchemaFails)
	forms := leakForms(c)
	form := map[string]connForm{}
	for _, f := range forms {
		form[f.name] = f
	}
	good := form["percent-encoded URL"]
	var (
		dbMu sync.Mutex
		dbN  int
	)
	newDB := func(t *testing.T) (name, admin string) {
		dbMu.Lock()
		dbN++
		name = fmt.Sprintf("leak_%d", dbN)
		dbMu.Unlock()
		c.CreateDatabase(t, name, leakRole)
		return name, c.AdminURL(name)
	}

	t.Run("combinations", func(t *testing.T) {
		for _, f := range forms {
			for _, viaEnv := range []bool{false, true} {
				f, viaEnv := f, viaEnv
				via := "--url"
				if viaEnv {
					via = "url_env"
				}
				t.Run("target "+f.name+" by "+via, func(t *testing.T) {
					t.Parallel()
					db, admin := newDB(t)
					urlEnv := fmt.Sprintf("KEEL_LEAK_URL_%d", os.Getpid()) + strings.NewReplacer(" ", "_", "-", "_", "@", "AT").Replace(strings.ToUpper(f.name+"_"+via))
					r := &leakRun{t: t, lc: lc, envs: leakEnvs(t, urlEnv, nil), group: "target " + f.name + " by " + via, form: f, admin: admin}
					target := func(env string) []string {
						if viaEnv {
							return []string{"--env", env}
						}
						return []string{"--env", env, "--url", f.conn(db)}
					}
					if viaEnv {
						setEnv(t, urlEnv, f.conn(db))
					}
					runTargetCombinations(t, r, target, good.conn(db), v1, v2, fails)
				})
			}
		}
		for _, f := range forms {
			f := f
			t.Run("desired "+f.name, func(t *testing.T) {
				t.Parallel()
				db, admin := newDB(t)
				src, srcAdmin := newDB(t)
				pgtest.Exec(t, srcAdmin, leakSchemaV1SQL)
				r := &leakRun{t: t, lc: lc, envs: leakEnvs(t, "KEEL_LEAK_UNSET_URL", nil), group: "desired " + f.name, form: f, admin: admin}
				runDesiredCombinations(t, r, good.conn(db), f.conn(src), srcAdmin)
			})
		}
		for _, f := range forms {
			f := f
			t.Run("dev-url "+f.name, func(t *testing.T) {
				t.Parallel()
				db, admin := newDB(t)
				r := &leakRun{t: t, lc: lc, envs: leakEnvs(t, "KEEL_LEAK_UNSET_URL", nil), group: "--dev-url " + f.name, form: f, admin: admin}
				for _, format := range []string{"text", "json"} {
					r.keel(exitOK, "plan", "--env", "prod", "--url", good.conn(db), "--schema", v1, "--dev-url", f.conn("postgres"), "--format", format)
				}
				r.keel(exitOK, "doctor", "--env", "prod", "--url", good.conn(db), "--schema", v1, "--dev-url", f.conn("postgres"), "--format", "json")
			})
		}
		t.Run("profiles", func(t *testing.T) {
			t.Parallel()
			db, admin := newDB(t)
			u := good.conn(db)
			for _, tc := range []struct {
				name, attr, value string
				args              []string
				want              string
			}{
				{"devkv", "dev_url", form["keyword-value"].conn("postgres"), []string{"--url", u, "--schema", v1}, "dev_url holds a password"},
				{"devquery", "dev_url", form["password parameter"].conn("postgres"), []string{"--url", u, "--schema", v1}, "dev_url holds a password"},
				{"devurl", "dev_url", good.conn("postgres"), []string{"--url", u, "--schema", v1}, "dev_url holds a password"},
				{"devat", "dev_url", form["unencoded @ that parses"].conn("postgres"), []string{"--url", u, "--schema", v1}, "%40"},
				{"defaulturl", "default_url", u, []string{"--schema", v1}, "default_url holds a password"},
				{"schemakv", "schema", form["keyword-value"].conn(db), []string{"--url", u}, "schema holds a password"},
				{"schemaurl", "schema", good.conn(db), []string{"--url", u}, "schema holds a password"},
				{"schemaat", "schema", form["unencoded @"].conn(db), []string{"--url", u}, "%40"},
			} {
				profile := fmt.Sprintf("url_env = \"KEEL_LEAK_UNSET_URL\"\napply = \"auto\"\n%s = %q\n", tc.attr, tc.value)
				r := &leakRun{t: t, lc: lc, envs: leakEnvs(t, "KEEL_LEAK_UNSET_URL", map[string]string{tc.name + ".hcl": profile}),
					group: "profile " + tc.attr + " " + tc.name, admin: admin}
				if _, errs := r.keelExit(exitError, append([]string{"plan", "--env", tc.name}, tc.args...)...); !strings.Contains(errs, tc.want) {
					t.Errorf("profile %s: the error does not say %q:\n%s", tc.name, tc.want, errs)
				}
			}
		})
	})

	lc.mu.Lock()
	defer lc.mu.Unlock()
	t.Logf("%d combinations, %d leaks (%d occurrences)", lc.combinations, lc.leaks, lc.hits)
	if lc.leaks > 0 {
		t.Errorf("leaking combinations:\n  %s", strings.Join(lc.leaked, "\n  "))
	}
}

// runTargetCombinations runs every command and format with the target's
// connection string in the form under test. goodConn is the target in a form
// keel connects with, to prepare what a refused form cannot.
func runTargetCombinations(t *testing.T, r *leakRun, target func(env string) []string, goodConn, v1, v2, fails string) {
	dir := t.TempDir()
	devPlan, prodPlan := filepath.Join(dir, "dev-plan.json"), filepath.Join(dir, "prod-plan.json")
	r.plans = []string{devPlan, prodPlan}
	cmd := func(name string, env string, rest ...string) []string {
		return append(append([]string{name}, target(env)...), rest...)
	}
	ok := r.form.refusal == nil
	if !ok {
		// A reviewed plan made with a connection string that works, to
		// apply with this one.
		r.keelExit(exitOK, "plan", "--env", "prod", "--url", goodConn, "--schema", v1, "--out", prodPlan)
		r.keelExit(exitOK, "approve", prodPlan, "--by", "reviewer")
	}
	for _, format := range []string{"text", "sql", "json", "markdown"} {
		r.keel(exitOK, cmd("plan", "dev", "--schema", v1, "--format", format)...)
	}
	r.keel(exitOK, cmd("plan", "dev", "--schema", v1, "--out", devPlan)...)
	for _, format := range []string{"text", "json"} {
		r.keel(exitOK, cmd("doctor", "dev", "--schema", v1, "--format", format)...)
	}
	r.keel(exitChanges, cmd("status", "dev", "--schema", v1)...)
	r.keel(exitOK, append([]string{"inspect"}, target("dev")...)...)
	r.keel(exitOK, cmd("apply", "dev", "--schema", v1)...)
	if ok {
		r.keel(exitOK, cmd("plan", "prod", "--schema", v2, "--out", prodPlan)...)
		r.keel(exitOK, "approve", prodPlan, "--by", "reviewer")
	}
	r.keel(exitOK, cmd("apply", "prod", "--schema", v2, "--plan", prodPlan)...)
	r.keel(exitOK, cmd("status", "dev", "--schema", v2)...)
	if !ok {
		return
	}
	// A failed apply: its error goes into keel.history, and status shows it.
	pgtest.Exec(t, r.admin, "INSERT INTO accounts (email) VALUES ('a@example.com')")
	if _, errs := r.keel(exitError, cmd("apply", "dev", "--schema", fails, "--auto-approve")...); !strings.Contains(errs, "SQLSTATE 23502") {
		t.Errorf("%s: the failing apply did not fail on the NOT NULL column:\n%s", r.group, errs)
	}
	if out, _ := r.keel(exitChanges, cmd("status", "dev", "--schema", fails)...); !strings.Contains(out, "failed") {
		t.Errorf("%s: status does not show the failed apply:\n%s", r.group, out)
	}
}

// runDesiredCombinations runs the commands that read a desired state, with
// the desired database's connection string in the form under test and the
// target's in a form keel connects with.
func runDesiredCombinations(t *testing.T, r *leakRun, targetConn, desiredConn, desiredAdmin string) {
	dir := t.TempDir()
	prodPlan := filepath.Join(dir, "prod-plan.json")
	r.plans = []string{prodPlan}
	cmd := func(name, env string, rest ...string) []string {
		return append([]string{name, "--env", env, "--url", targetConn, "--schema", desiredConn}, rest...)
	}
	for _, format := range []string{"text", "sql", "json", "markdown"} {
		r.keel(exitOK, cmd("plan", "dev", "--format", format)...)
	}
	r.keel(exitOK, cmd("plan", "prod", "--out", prodPlan)...)
	for _, format := range []string{"text", "json"} {
		r.keel(exitOK, cmd("doctor", "dev", "--format", format)...)
	}
	r.keel(exitChanges, cmd("status", "dev")...)
	if r.form.refusal == nil {
		if b, err := os.ReadFile(prodPlan); err != nil || !strings.Contains(string(b), `"desired": "`) || !strings.Contains(string(b), "xxxxx") {
			t.Errorf("%s: the plan file does not name the desired database with its password masked (%v):\n%s", r.group, err, b)
		}
		r.keel(exitOK, "approve", prodPlan, "--by", "reviewer")
		// The desired database changes after the review: apply refuses,
		// naming it.
		pgtest.Exec(t, desiredAdmin, "ALTER TABLE accounts ADD COLUMN note text")
		if _, errs := r.keel(exitPolicy, cmd("apply", "prod", "--plan", prodPlan)...); !strings.Contains(errs, "no longer matches") {
			t.Errorf("%s: apply of a plan whose desired database changed does not say so:\n%s", r.group, errs)
		}
	}
	r.keel(exitOK, cmd("apply", "dev")...)
	r.keel(exitOK, cmd("status", "dev")...)
}
