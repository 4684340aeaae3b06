package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// devProfile writes a profile "checked" whose throwaway databases go to the
// test server as its superuser, and returns the profiles' directory.
func devProfile(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "envs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "url_env = \"KEEL_TEST_UNSET_URL\"\ndev_url = \"" + pgtest.ServerURL() + "\"\napply = \"auto\"\n"
	if err := os.WriteFile(filepath.Join(dir, "checked.hcl"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func extensionCount(t *testing.T, dbURL string) int {
	return pgtest.QueryValue[int](t, dbURL, "SELECT count(*)::int FROM pg_extension WHERE extname <> 'plpgsql'")
}

func TestDoctorFreshDatabase(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	code, out, errs := keel(t, "doctor", "--env", "dev", "--url", u, "--schema", "../../schema.hcl")
	if code != 0 {
		t.Fatalf("doctor exit %d:\n%s%s", code, out, errs)
	}
	for _, want := range []string{"ok    connection: PostgreSQL", "ok    extension uuid-ossp", "ok    tls:", "0 failed."} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}

	code, out, errs = keel(t, "doctor", "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--format", "json")
	if code != 0 {
		t.Fatalf("doctor --format json exit %d:\n%s%s", code, out, errs)
	}
	var rep struct {
		Target struct {
			Host     string `json:"host"`
			Database string `json:"database"`
		} `json:"target"`
		OK     bool `json:"ok"`
		Counts struct{ OK, Warn, Fail int }
		Checks []struct{ Name, Status, Message, Fix string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("doctor --format json is not JSON: %v\n%s", err, out)
	}
	if !rep.OK || rep.Counts.Fail != 0 || rep.Counts.OK != len(rep.Checks) || rep.Target.Host == "" || rep.Target.Database == "" {
		t.Fatalf("unexpected report: %+v", rep)
	}
	found := false
	for _, c := range rep.Checks {
		if c.Name == "" || c.Status != "ok" || c.Message == "" {
			t.Errorf("check %+v: want a name, status ok and a message", c)
		}
		found = found || c.Name == "extension uuid-ossp"
	}
	if !found {
		t.Errorf("no check of uuid-ossp: %+v", rep.Checks)
	}
	if tableExists(t, u, "public.users") || extensionCount(t, u) != 0 {
		t.Fatal("doctor changed the database")
	}
}

// A role without CREATE on the database and on schema public: doctor names
// the missing privileges, apply refuses with the same message and creates
// nothing, plan warns and still plans.
func TestDoctorAndApplyWithoutPrivileges(t *testing.T) {
	t.Parallel()
	role := pgtest.NewRole(t)
	u, name := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "REVOKE CREATE ON DATABASE "+name+" FROM PUBLIC", "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
	envs := devProfile(t)
	asRole := pgtest.AsRole(t, u, role)
	args := []string{"--env", "checked", "--url", asRole, "--schema", "../../schema.hcl"}

	code, out, errs := keelIn(t, envs, append([]string{"doctor"}, args...)...)
	if code != 1 {
		t.Fatalf("doctor exit %d, want 1:\n%s%s", code, out, errs)
	}
	dbLine := `fail  privilege CREATE on database ` + name + `: role "` + role + `" lacks CREATE on database`
	schemaLine := `fail  privilege CREATE on schema public: role "` + role + `" lacks CREATE on schema "public"`
	for _, want := range []string{dbLine, schemaLine, "GRANT CREATE ON DATABASE", "ok    plan:"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}

	code, out, errs = keelIn(t, envs, append([]string{"apply"}, args...)...)
	if code != 1 {
		t.Fatalf("apply exit %d, want 1:\n%s%s", code, out, errs)
	}
	for _, want := range []string{"refusing to apply, nothing was executed", dbLine, schemaLine} {
		if !strings.Contains(errs, want) {
			t.Errorf("apply error lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(out, "Applying") {
		t.Errorf("apply started:\n%s", out)
	}
	if tableExists(t, u, "public.users") || extensionCount(t, u) != 0 {
		t.Fatal("the refused apply created something")
	}

	code, out, errs = keelIn(t, envs, append([]string{"plan"}, args...)...)
	if code != 0 {
		t.Fatalf("plan exit %d, want 0:\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "warning: privilege CREATE on database "+name) || !strings.Contains(out, `CREATE EXTENSION IF NOT EXISTS "uuid-ossp"`) {
		t.Fatalf("plan should warn and still plan:\nstdout:\n%s\nstderr:\n%s", out, errs)
	}
}

// An extension the server does not have: doctor names it, apply refuses and
// creates nothing.
func TestDoctorAndApplyMissingExtension(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	desired := writeFile(t, "schema.hcl", `
schema "public" {}
extension "keel_no_such_extension" {
  schema = schema.public
}
table "t" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`)
	code, out, errs := keel(t, "doctor", "--env", "dev", "--url", u, "--schema", desired)
	if code != 1 {
		t.Fatalf("doctor exit %d, want 1:\n%s%s", code, out, errs)
	}
	want := `fail  extension keel_no_such_extension: extension "keel_no_such_extension" (declared at ` + desired + `:3) is not available on the server`
	if !strings.Contains(out, want) {
		t.Errorf("doctor output lacks %q:\n%s", want, out)
	}
	code, out, errs = keel(t, "apply", "--env", "dev", "--url", u, "--schema", desired)
	if code != 1 {
		t.Fatalf("apply exit %d, want 1:\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, want) || !strings.Contains(errs, "nothing was executed") {
		t.Errorf("apply error lacks %q:\n%s", want, errs)
	}
	if tableExists(t, u, "public.t") || extensionCount(t, u) != 0 {
		t.Fatal("the refused apply created something")
	}
}

func TestDoctorBadInput(t *testing.T) {
	t.Parallel()
	u, name := pgtest.NewDatabase(t)
	truncated := writeFile(t, "broken.hcl", "schema \"public\" {}\ntable \"t\" {\n  schema = schema.public\n  column \"id\" {\n")
	unknownColumn := writeFile(t, "ref.hcl", `schema "public" {}
table "t" {
  schema = schema.public
  column "id" {
    type = int
  }
  primary_key {
    columns = [column.missing]
  }
}
`)
	unknownTable := writeFile(t, "fk.hcl", `schema "public" {}
table "t" {
  schema = schema.public
  column "id" {
    type = int
  }
  foreign_key "t_fk" {
    columns     = [column.id]
    ref_columns = [table.nope.column.id]
  }
}
`)
	noDB := pgtest.WithDatabase(t, u, name+"_missing")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unreachable server", []string{"--url", "postgres://root@127.0.0.1:1/x"}, []string{"127.0.0.1:1", "connection refused", "start PostgreSQL there"}},
		{"password never shown", []string{"--url", "postgres://app:s3cr3t-pw@127.0.0.1:1/x"}, []string{"127.0.0.1"}},
		{"unknown database", []string{"--url", noDB}, []string{`database "` + name + `_missing" does not exist`, "CREATE DATABASE"}},
		{"truncated HCL", []string{"--url", u, "--schema", truncated}, []string{truncated + ":4:"}},
		{"unknown column", []string{"--url", u, "--schema", unknownColumn}, []string{unknownColumn + ":8:", `"missing"`}},
		{"unknown table", []string{"--url", u, "--schema", unknownTable}, []string{unknownTable + ":9:", `"nope"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"doctor", "--env", "dev", "--schema", "../../schema.hcl"}, tc.args...)
			code, out, errs := keel(t, args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s%s", code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out+errs, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errs)
				}
			}
			if strings.Contains(out+errs, "s3cr3t-pw") {
				t.Fatalf("output shows the password:\n%s%s", out, errs)
			}
		})
	}
	code, out, errs := keel(t, "doctor", "--env", "nope", "--url", u)
	if code != 1 || !strings.Contains(errs, `unknown env "nope"`) {
		t.Fatalf("unknown env: exit %d:\n%s%s", code, out, errs)
	}
}
