package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// runHere runs the CLI in-process without --envs-dir: profiles are found
// from the current directory.
func runHere(args ...string) (code int, stdout, stderr string) {
	var out, errw bytes.Buffer
	code = Run(context.Background(), args, &out, &errw)
	return code, out.String(), errw.String()
}

// unsetLibpq unsets the libpq variables and points the password and service
// files at none, so that the machine's own do not count.
func unsetLibpq(t *testing.T) {
	for _, v := range []string{"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSSLMODE", "PGSERVICE",
		"PGSSLROOTCERT", "PGCONNECT_TIMEOUT", "KEEL_ENVS_DIR", "KEEL_DEV_URL"} {
		unsetenv(t, v)
	}
	dir := t.TempDir()
	t.Setenv("PGPASSFILE", filepath.Join(dir, "no-pgpass"))
	t.Setenv("PGSERVICEFILE", filepath.Join(dir, "no-service.conf"))
}

// unsetenv unsets v for the test (an empty PGPORT is an error to the
// server binaries the test cluster runs).
func unsetenv(t *testing.T, v string) {
	t.Setenv(v, "")
	os.Unsetenv(v)
}

const connEnvSchema = `schema "public" {}
table "walked" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`

// A host that does not resolve: every command says so once, in the same
// words, with the same fix.
func TestConnectionErrorsAlike(t *testing.T) {
	t.Parallel()
	const bad = "postgres://nosuchhost.invalid/db?connect_timeout=5"
	var lines []string
	for _, cmd := range []string{"plan", "apply", "status", "doctor", "inspect"} {
		args := []string{cmd, "--env", "dev", "--url", bad}
		if cmd != "inspect" {
			args = append(args, "--schema", "../../schema.hcl")
		}
		code, out, errs := keel(t, args...)
		all := out + errs
		if code != exitError {
			t.Errorf("%s: exit %d, want 1:\n%s", cmd, code, all)
		}
		if n := strings.Count(all, "lookup nosuchhost.invalid"); n != 1 {
			t.Errorf("%s: the lookup error is printed %d times, want once:\n%s", cmd, n, all)
		}
		var line string
		for _, l := range strings.Split(all, "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "fail  connection:") {
				line = l
			}
		}
		// Without a DNS server to say so, the lookup times out instead.
		fix := "fix: no host is named nosuchhost.invalid: correct the host in the URL"
		if !strings.Contains(line, "no such host") {
			fix = "fix: "
		}
		if !strings.Contains(line, fix) {
			t.Errorf("%s: no connection line with its fix (%q):\n%s", cmd, fix, all)
		}
		lines = append(lines, line)
	}
	for i := range lines {
		if lines[i] != lines[0] {
			t.Errorf("the connection error differs between commands:\n%s\n%s", lines[0], lines[i])
		}
	}
	// The dev_url server's connection fails in the same words, named.
	u, _ := pgtest.NewDatabase(t)
	for _, cmd := range []string{"plan", "status"} {
		_, out, errs := keel(t, cmd, "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--dev-url", bad)
		if !strings.Contains(errs, "fail  connection to the dev_url server: connecting to") ||
			strings.Contains(errs, "no such host") && !strings.Contains(errs, "fix: no host is named nosuchhost.invalid: correct the host in dev_url") ||
			strings.Count(out+errs, "lookup nosuchhost.invalid") != 1 {
			t.Errorf("%s with an unreachable dev_url:\n%s%s", cmd, out, errs)
		}
	}
}

// keel inspect needs no profile, from any directory; plan and apply find
// the profiles walking up to the directory holding envs/, and a profile's
// schema is relative to that directory.
func TestProfilesFoundFromAnyDirectory(t *testing.T) {
	unsetLibpq(t)
	u, _ := pgtest.NewDatabase(t)
	t.Chdir(t.TempDir())
	wd, _ := os.Getwd()
	if code, out, errs := runHere("inspect", "--url", u); code != exitOK || !strings.Contains(out, `schema "public"`) {
		t.Errorf("inspect --url outside a project: exit %d:\n%s%s", code, out, errs)
	}
	code, out, errs := runHere("plan", "--env", "dev", "--url", u)
	if code != exitError || !strings.Contains(errs, "no envs directory") || !strings.Contains(errs, wd) || !strings.Contains(errs, "--envs-dir") {
		t.Errorf("plan outside a project: exit %d, want 1 and an error saying where keel looked and what to do:\n%s%s", code, out, errs)
	}
	if code, _, errs := runHere("inspect"); code != exitError || !strings.Contains(errs, "--url") {
		t.Errorf("inspect with no database at all: exit %d:\n%s", code, errs)
	}

	project := t.TempDir()
	deep := filepath.Join(project, "services", "api")
	for _, d := range []string{filepath.Join(project, "envs"), deep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(project, "envs", "dev.hcl"):  "url_env = \"KEEL_CONNENV_UNSET\"\napply = \"auto\"\nschema = \"db/schema.hcl\"\n",
		filepath.Join(project, "db", "schema.hcl"): connEnvSchema,
	}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(deep)
	code, out, errs = runHere("plan", "--env", "dev", "--url", u, "--format", "sql")
	if code != exitOK || !strings.Contains(out, `CREATE TABLE "public"."walked"`) {
		t.Errorf("plan two directories below envs/: exit %d, want the project's db/schema.hcl planned:\n%s%s", code, out, errs)
	}
	if code, _, errs := runHere("plan", "--url", u); code != exitError || !strings.Contains(errs, "--env") {
		t.Errorf("plan without --env: exit %d, want 1:\n%s", code, errs)
	}
}

// The libpq variables and files fill in what a URL leaves out, for the
// target and for dev_url, against a server that asks for a password; the
// password, from PGPASSWORD or .pgpass, shows nowhere: not in output, plan
// files or keel.history. A wrong one is refused saying where it came from.
func TestLibpqEnvironment(t *testing.T) {
	unsetLibpq(t)
	c := pgtest.StartCluster(t)
	const (
		role   = "keel_env"
		secret = "Vt4-libpq-Secret"
		wrong  = "Qm8-wrong-Secret"
	)
	c.CreateRole(t, role, secret)
	c.CreateDatabase(t, "envdb", role)
	admin := c.AdminURL("envdb")
	port := strconv.Itoa(c.Port)
	dir := t.TempDir()
	schema := filepath.Join(dir, "schema.hcl")
	if err := os.WriteFile(schema, []byte(connEnvSchema), 0o644); err != nil {
		t.Fatal(err)
	}
	envsDir := filepath.Join(dir, "envs")
	if err := os.Mkdir(envsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	profile := fmt.Sprintf("url_env = \"KEEL_CONNENV_URL\"\napply = \"review\"\ndev_url = \"postgres://%s@127.0.0.1:%s/postgres\"\n", role, port)
	if err := os.WriteFile(filepath.Join(envsDir, "ci.hcl"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(dir, "plan.json")
	var seen strings.Builder
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := keelIn(t, envsDir, args...)
		seen.WriteString(out + errs)
		if code != want {
			t.Errorf("keel %s: exit %d, want %d:\n%s%s", strings.Join(args, " "), code, want, out, errs)
		}
		return out + errs
	}

	// PGHOST, PGPORT, PGUSER, PGPASSWORD: the URL names the database only.
	t.Setenv("PGHOST", "127.0.0.1")
	t.Setenv("PGPORT", port)
	t.Setenv("PGUSER", role)
	t.Setenv("PGPASSWORD", secret)
	t.Setenv("PGSSLMODE", "disable")
	run(exitOK, "inspect", "--url", "postgres:///envdb")
	t.Setenv("PGDATABASE", "envdb")
	run(exitOK, "inspect") // the environment alone

	// .pgpass gives the password of the profile's URL and of its dev_url,
	// which hold none.
	for _, v := range []string{"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"} {
		unsetenv(t, v)
	}
	passfile := filepath.Join(dir, "pgpass")
	if err := os.WriteFile(passfile, []byte("127.0.0.1:"+port+":*:"+role+":"+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGPASSFILE", passfile)
	t.Setenv("KEEL_CONNENV_URL", fmt.Sprintf("postgres://%s@127.0.0.1:%s/envdb", role, port))
	run(exitOK, "plan", "--env", "ci", "--schema", schema, "--out", planFile)
	run(exitOK, "approve", planFile, "--by", "reviewer")
	run(exitOK, "apply", "--env", "ci", "--schema", schema, "--plan", planFile)
	run(exitOK, "status", "--env", "ci", "--schema", schema)
	run(exitOK, "doctor", "--env", "ci", "--schema", schema)
	if !tableExists(t, admin, "public.walked") {
		t.Fatal("apply with the password from .pgpass did not create the table")
	}

	// A wrong password in .pgpass: refused, saying where it came from.
	if err := os.WriteFile(passfile, []byte("127.0.0.1:"+port+":*:"+role+":"+wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run(exitError, "status", "--env", "ci", "--schema", schema); !strings.Contains(out, "rejected the password for user \""+role+"\", taken from "+passfile) {
		t.Errorf("a wrong password from .pgpass: the error does not say where it came from:\n%s", out)
	}
	// None at all: the fix says where to put it.
	t.Setenv("PGPASSFILE", filepath.Join(dir, "none"))
	if out := run(exitError, "inspect", "--env", "ci"); !strings.Contains(out, "none was given") {
		t.Errorf("no password: the error does not say so:\n%s", out)
	}

	// A service in pg_service.conf names the server; .pgpass the password.
	if err := os.WriteFile(passfile, []byte("127.0.0.1:"+port+":*:"+role+":"+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGPASSFILE", passfile)
	services := filepath.Join(dir, "pg_service.conf")
	if err := os.WriteFile(services, []byte(fmt.Sprintf("[keel]\nhost=127.0.0.1\nport=%s\nuser=%s\ndbname=envdb\n", port, role)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGSERVICEFILE", services)
	if out := run(exitOK, "inspect", "--url", "service=keel"); !strings.Contains(out, `table "walked"`) {
		t.Errorf("inspect through the service does not show the table:\n%s", out)
	}

	history := leakHistory(t, admin)
	plan, _ := os.ReadFile(planFile)
	for where, text := range map[string]string{"output": seen.String(), "keel.history": history, "the plan file": string(plan)} {
		for _, s := range []string{secret, wrong} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows a password from the environment or .pgpass:\n%s", where, text)
			}
		}
	}
	if history == "" {
		t.Error("keel.history is empty: the apply was not recorded")
	}
}
