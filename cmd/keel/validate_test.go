package main

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// A typo in schema.hcl is an error with its position, never a plan: with
// `colum "email"` in an existing table, the engine would drop the column,
// and dev would apply that at once.
func TestATypoIsAnErrorNotADropColumn(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE accounts (id int PRIMARY KEY, email text)", "INSERT INTO accounts VALUES (1, 'a@example.com')")
	typo := writeFile(t, "schema.hcl", `schema "public" {}
table "accounts" {
  schema = schema.public
  column "id" {
    type = int
  }
  colum "email" {
    type = text
    null = true
  }
  primary_key {
    columns = [column.id]
  }
}
`)
	before := snapshot(t, u)
	for _, cmd := range []string{"plan", "apply"} {
		code, out, errs := keel(t, cmd, "--env", "dev", "--url", u, "--schema", typo)
		if code != 1 || !strings.Contains(errs, `schema.hcl:7:3: unknown block "colum" in table "accounts"; did you mean "column"?`) {
			t.Fatalf("%s: exit %d, want 1 with the typo's position:\n%s%s", cmd, code, out, errs)
		}
		if strings.Contains(errs, "check failed") {
			t.Errorf("%s reports the schema error as a failed check on the database:\n%s", cmd, errs)
		}
	}
	if after := snapshot(t, u); after != before {
		t.Fatalf("the database changed: %s -> %s", before, after)
	}
	if n := pgtest.QueryValue[int](t, u, "SELECT count(email)::int FROM accounts"); n != 1 {
		t.Fatal("the column lost its value")
	}
}

// keel validate checks files without a database: exit 0 and "ok", or 1
// and every problem with its position.
func TestValidate(t *testing.T) {
	t.Parallel()
	if code, out, errs := keel(t, "validate", "--schema", "../../schema.hcl"); code != 0 || !strings.Contains(out, "schema.hcl: ok") {
		t.Fatalf("validate of the example: exit %d:\n%s%s", code, out, errs)
	}
	bad := writeFile(t, "schema.hcl", "schema \"public\" {}\naggregate \"v\" {\n}\ntable \"t\" {\n  schema = schema.public\n  column \"a\" {\n    type = int\n    nul = true\n  }\n}\n")
	code, out, errs := keel(t, "validate", "--schema", bad)
	if code != 1 || !strings.Contains(errs, "schema.hcl:2:1: aggregate blocks are not supported yet") ||
		!strings.Contains(errs, `schema.hcl:8:5: unknown attribute "nul" in table "t", column "a"; did you mean "null"?`) {
		t.Fatalf("validate of a bad file: exit %d, want 1 naming both problems:\n%s%s", code, out, errs)
	}
	undeclared := writeFile(t, "schema.hcl", "schema \"public\" {}\ntable \"t\" {\n  schema = schema.public\n  column \"e\" {\n    type = citext\n  }\n}\n")
	if code, out, errs := keel(t, "validate", "--schema", undeclared); code != 1 || !strings.Contains(errs, "citext") {
		t.Fatalf("validate of an undeclared extension type: exit %d:\n%s%s", code, out, errs)
	}
	sqlFile := writeFile(t, "schema.sql", "CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n")
	if code, out, errs := keel(t, "validate", "--schema", sqlFile); code != 0 || !strings.Contains(out, "2 statements") {
		t.Fatalf("validate of a SQL file: exit %d:\n%s%s", code, out, errs)
	}
}
