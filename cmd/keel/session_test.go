package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"keel/internal/pgtest"
)

const keysHCL = `
schema "public" {}
table "a_invites" {
  schema = schema.public
  column "code" {
    type = text
  }
  column "email" {
    type = text
  }
  primary_key {
    columns = [column.code]
  }
  foreign_key "a_invites_email_fk" {
    columns     = [column.email]
    ref_columns = [table.b_accounts.column.email]
  }
}
table "b_accounts" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "email" {
    type = text
  }
  primary_key {
    columns = [column.id]
  }
  index "b_accounts_email_key" {
    unique  = true
    columns = [column.email]
  }
}
%s
`

// With concurrent_indexes, a new unique index that a new foreign key needs
// is built inside the transaction, before the key: built concurrently after
// the transaction, it would not exist when the key is added (42830), and
// every apply would fail. Both for a key on a new table and on an existing one.
func TestUniqueIndexNeededByAForeignKeyStaysInTheTransaction(t *testing.T) {
	t.Parallel()
	for name, setup := range map[string]string{
		"key on a new table":       "CREATE TABLE b_accounts (id int PRIMARY KEY, email text NOT NULL)",
		"key on an existing table": "CREATE TABLE b_accounts (id int PRIMARY KEY, email text NOT NULL); CREATE TABLE a_invites (code text PRIMARY KEY, email text NOT NULL)",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u, _ := pgtest.NewDatabase(t)
			pgtest.Exec(t, u, setup, "INSERT INTO b_accounts VALUES (1, 'a@example.com')")
			dir := devEnv(t, "concurrent_indexes = true\n")
			desired := writeFile(t, "schema.hcl", fmt.Sprintf(keysHCL, `table "c_notes" {
  schema = schema.public
  column "id" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
  index "c_notes_id_idx" {
    columns = [column.id]
  }
}`))
			code, out, errs := keelIn(t, dir, "apply", "--env", "dev", "--url", u, "--schema", desired)
			if code != 0 {
				t.Fatalf("apply exited %d:\n%s%s", code, out, errs)
			}
			if !strings.Contains(out, "built inside the transaction, not concurrently: foreign key public.a_invites.a_invites_email_fk needs it there") {
				t.Errorf("the plan does not say why the index is built in the transaction:\n%s", out)
			}
			if strings.Contains(out, "CREATE UNIQUE INDEX CONCURRENTLY") {
				t.Errorf("the unique index the key needs is built concurrently:\n%s", out)
			}
			if !pgtest.QueryValue[bool](t, u, "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'a_invites_email_fk')") {
				t.Fatal("the foreign key was not created")
			}
			if code, out, errs := keelIn(t, dir, "plan", "--env", "dev", "--url", u, "--schema", desired, "--detailed-exitcode"); code != 0 {
				t.Fatalf("re-plan exited %d:\n%s%s", code, out, errs)
			}
		})
	}
}

// notesHCL is one table, notes (id int, its primary key).
const notesHCL = `
schema "public" {}
table "notes" {
  schema = schema.public
  column "id" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
}
`

// A role that may use an existing schema keel (created by an administrator)
// but may not create schemas in the database applies: keel creates only what
// is missing of its history, and doctor agrees.
func TestLeastPrivilegeRoleApplies(t *testing.T) {
	t.Parallel()
	role := pgtest.NewRole(t)
	u, name := pgtest.NewDatabase(t)
	pgtest.Exec(t, u,
		"REVOKE CREATE ON DATABASE "+name+" FROM PUBLIC",
		"CREATE SCHEMA keel",
		"GRANT USAGE, CREATE ON SCHEMA keel TO "+role,
		"GRANT USAGE, CREATE ON SCHEMA public TO "+role)
	asRole := pgtest.AsRole(t, u, role)
	dir := devEnv(t, "dev_url = \""+pgtest.ServerURL()+"\"\n")
	desired := writeFile(t, "schema.hcl", notesHCL)
	code, out, _ := keelIn(t, dir, "doctor", "--env", "dev", "--url", asRole, "--schema", desired)
	if !strings.Contains(out, "ok    history") {
		t.Errorf("doctor's history check is not ok (exit %d):\n%s", code, out)
	}
	code, out, errs := keelIn(t, dir, "apply", "--env", "dev", "--url", asRole, "--schema", desired)
	if code != 0 {
		t.Fatalf("apply as a role without CREATE on the database exited %d:\n%s%s", code, out, errs)
	}
	if n := historyRows(t, u); n != 1 {
		t.Fatalf("%d history rows, want 1", n)
	}
}

// sessions is how many sessions the server has seen on the database, once
// every one of them ended (the count is reported when a session ends).
func sessions(t *testing.T, name string) int {
	t.Helper()
	server := pgtest.ServerURL()
	deadline := time.Now().Add(30 * time.Second)
	for pgtest.QueryValue[bool](t, server, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = $1)", name) {
		if time.Now().After(deadline) {
			t.Fatal("sessions on the database did not end")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var n int
	for i := 0; i < 50; i++ {
		n = pgtest.QueryValue[int](t, server, "SELECT sessions::int FROM pg_stat_database WHERE datname = $1", name)
		if m := pgtest.QueryValue[int](t, server, "SELECT sessions::int FROM pg_stat_database WHERE datname = $1", name); m == n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return n
}

// A plan opens one connection to the target, whatever it finds: the
// inspection, the cache's questions and the doctor's checks all go through
// it. A plan that normalizes (the cache is cold) creates the throwaway
// database through a second one, to inspect the target meanwhile. (The
// first normalization on a server creates the first scratch database
// through one more, once: a plan of another state on another database
// makes it first; the second and third scratch databases, for runs at the
// same time, are created through a connection to the first.)
func TestAPlanOpensOneConnectionToTheTarget(t *testing.T) {
	t.Parallel()
	u, name := pgtest.NewDatabase(t)
	dir := devEnv(t, "")
	other, _ := pgtest.NewDatabase(t)
	first := writeFile(t, "first.hcl", "schema \"public\" {}\ntable \"first\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n}\n")
	if code, out, errs := keelIn(t, dir, "plan", "--env", "dev", "--url", other, "--schema", first); code != 0 {
		t.Fatalf("the plan that makes the scratch database exited %d:\n%s%s", code, out, errs)
	}
	// The database's name in a comment: the file is new to the cache.
	desired := writeFile(t, "schema.hcl", "# "+name+`
schema "public" {}
table "notes" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`)
	for _, step := range []struct {
		what string
		args []string
		want int
	}{
		{"a plan with changes (the cache is cold)", []string{"plan"}, 2},
		{"apply", []string{"apply"}, 1},
		{"a plan with no changes (the cache is warm)", []string{"plan", "--detailed-exitcode"}, 1},
		{"status", []string{"status"}, 1},
	} {
		before := sessions(t, name)
		code, out, errs := keelIn(t, dir, append(step.args, "--env", "dev", "--url", u, "--schema", desired)...)
		if code != 0 {
			t.Fatalf("%s exited %d:\n%s%s", step.what, code, out, errs)
		}
		if n := sessions(t, name) - before; n != step.want {
			t.Errorf("%s opened %d connections to the target, want %d", step.what, n, step.want)
		}
	}
}
