package main

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// A mistake in the desired state shows the line of the file it is on, with
// a caret under the column, and is not reported as a failed check of the
// database (nor does it send the user to keel doctor): for HCL the parser's
// and keel's grammar errors, for SQL the server's error at its position.
func TestSchemaErrorsShowTheLine(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	hcl := writeFile(t, "schema.hcl", "schema \"public\" {}\ntable \"t\" {\n  schema = schema.public\n  column \"id\" { typ = int }\n}\n")
	sql := writeFile(t, "schema.sql", "CREATE TABLE a (x int); CREATE TABLE b (\n\ty int,\n\tz intt\n);\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "--schema", hcl}, "schema.hcl:4:17: unknown attribute \"typ\" in table \"t\", column \"id\"" +
			"; did you mean \"type\"?\n  4 |   column \"id\" { typ = int }\n    |                 ^\n"},
		{[]string{"plan", "--env", "dev", "--url", u, "--schema", hcl}, "\n  4 |   column \"id\" { typ = int }\n    |                 ^\n"},
		{[]string{"plan", "--env", "dev", "--url", u, "--schema", sql}, "schema.sql:3:4: ERROR: type \"intt\" does not exist (SQLSTATE 42704)\n" +
			"  3 | \tz intt\n    | \t  ^\n"},
	} {
		code, out, errs := keel(t, c.args...)
		if code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, want 1 and %q in:\n%s%s", c.args[0], code, c.want, out, errs)
		}
		if strings.Contains(errs, "check failed") || strings.Contains(errs, "doctor") {
			t.Errorf("%s reports a mistake in the files as a problem of the database:\n%s", c.args[0], errs)
		}
	}
	// A position on the first line of a statement that follows another on
	// the same line counts from the line's start.
	first := writeFile(t, "first.sql", "CREATE TABLE a (x int); CREATE TABLE b (y intt);\n")
	if code, _, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", first); code != 1 ||
		!strings.Contains(errs, "first.sql:1:43: ERROR") || !strings.Contains(errs, "\n    | "+strings.Repeat(" ", 42)+"^") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
}
