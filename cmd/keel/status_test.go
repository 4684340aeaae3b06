package main

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// status shows the whole error of a failed apply (the statement and the
// server's message, on the lines after the first), refuses a --last that
// shows nothing, and its hint to run keel plan keeps the --schema given.
func TestStatusShowsTheWholeErrorAndTheSchemaGiven(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE accounts (id int PRIMARY KEY)", "INSERT INTO accounts VALUES (1)")
	desired := writeFile(t, "schema.hcl", `schema "public" {}
table "accounts" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "owner" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
}
`)
	if code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", desired, "--auto-approve"); code != 1 {
		t.Fatalf("apply: exit %d, want 1 (a NOT NULL column on a table with rows):\n%s%s", code, out, errs)
	}
	code, out, errs := keel(t, "status", "--env", "dev", "--url", u, "--schema", desired)
	if code != exitChanges {
		t.Fatalf("status: exit %d:\n%s%s", code, out, errs)
	}
	for _, want := range []string{"failed", "SQLSTATE 23502", `ALTER TABLE "public"."accounts" ADD COLUMN "owner" integer NOT NULL`,
		"(keel plan --env dev --schema " + desired + " shows them)"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	for _, last := range []string{"0", "-2"} {
		if code, out, errs := keel(t, "status", "--env", "dev", "--url", u, "--schema", desired, "--last="+last); code != 1 || !strings.Contains(errs, "--last "+last+": give how many past applies to show, 1 or more") {
			t.Errorf("--last %s: exit %d:\n%s%s", last, code, out, errs)
		}
	}
}
