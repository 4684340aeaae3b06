package planner_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/apply"
	"keel/planner/inspect"
	"keel/planner/source"
)

// The catalog's signature stays through data changes, ANALYZE, VACUUM and
// a rolled-back ALTER and a role made for another database, and changes
// with a comment, a grant, a comment removed or a granted role renamed: an
// apply made
// in the plan's process checks staleness with it when it is the
// plan's, and inspects in full (refusing a stale plan) when it is not. Not
// parallel: it counts the checks the signature answered.
func TestApplyChecksStalenessBySignature(t *testing.T) {
	ctx := context.Background()
	granted := pgtest.NewRole(t)
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE notes (id int)")
	conn := connOf(t, parseURL(t, u))
	signature := func() string {
		t.Helper()
		s, err := inspect.CatalogSignature(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := signature()
	pgtest.Exec(t, u, "INSERT INTO notes SELECT g FROM generate_series(1, 1000) g", "ANALYZE notes", "VACUUM notes")
	pgtest.Exec(t, u, "BEGIN; ALTER TABLE notes ADD COLUMN gone int; ROLLBACK")
	if after := signature(); after != before {
		t.Fatal("data changes, ANALYZE, VACUUM or a rolled-back ALTER changed the catalog's signature")
	}
	// Removing the comment deletes a row and writes none.
	for _, ddl := range []string{"COMMENT ON TABLE notes IS 'x'", "GRANT SELECT ON notes TO PUBLIC", "COMMENT ON TABLE notes IS NULL"} {
		pgtest.Exec(t, u, ddl)
		if now := signature(); now == before {
			t.Fatalf("%s left the catalog's signature as it was", ddl)
		} else {
			before = now
		}
	}
	// The roles it covers are those the database refers to: one made
	// for another database (other tests make them all the time) leaves
	// it, renaming one granted a privilege here changes it.
	pgtest.Exec(t, u, "GRANT SELECT ON notes TO "+granted)
	before = signature()
	if unrelated := pgtest.NewRole(t); signature() != before {
		t.Fatalf("creating role %s, which nothing in the database refers to, changed the catalog's signature", unrelated)
	}
	pgtest.Exec(t, pgtest.ServerURL(), "ALTER ROLE "+granted+" RENAME TO "+granted+"_renamed")
	renamed := signature()
	pgtest.Exec(t, pgtest.ServerURL(), "ALTER ROLE "+granted+"_renamed RENAME TO "+granted)
	if renamed == before {
		t.Fatal("renaming a role granted SELECT on a table left the catalog's signature as it was")
	}

	// Applied at once: the signature answers the staleness check.
	p := planForSQL(t, u, "CREATE TABLE notes (id int, body text);\n")
	if p.CatalogSignature == "" {
		t.Fatal("the plan has no catalog signature")
	}
	pgtest.Exec(t, u, "INSERT INTO notes VALUES (1001)", "ANALYZE notes")
	n := apply.FreshBySignature()
	applyPlan(t, u, p)
	if apply.FreshBySignature() != n+1 {
		t.Fatal("the staleness check did not use the catalog's signature")
	}
	// A change in between (committed after the plan's signature was read,
	// as one committed while the plan read the database): the full check
	// refuses, naming it.
	p = planForSQL(t, u, "CREATE TABLE notes (id int, body text, tags text);\n")
	pgtest.Exec(t, u, "ALTER TABLE notes ADD COLUMN late int")
	n = apply.FreshBySignature()
	err := apply.Apply(ctx, conn, p, nil, "test", apply.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "stale") || !strings.Contains(err.Error(), "column public.notes.late (added)") {
		t.Fatalf("apply: %v, want the plan refused as stale, naming the column", err)
	}
	if apply.FreshBySignature() != n {
		t.Fatal("a changed catalog passed the signature check")
	}
}

// An apply in the plan's process whose statements change a few tables
// checks its result by reading only those (and the tables referring to
// them) again, on the state the plan was read from: PostgreSQL's catalog
// of them alone when it is the desired state's, else the engine's reading
// of them too. The result is right, and a desired state the statements do
// not reach is still refused, also in a table they do not touch, and
// rolled back. A change to an enum is checked in full. Not parallel: it
// counts the checks.
func TestApplyChecksTheChangedTablesOnTheirOwn(t *testing.T) {
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	const base = "CREATE TYPE mood AS ENUM ('ok', 'sad');\n" +
		"CREATE TABLE \"we\"\"ird t\" (id int PRIMARY KEY, m mood);\n" +
		"CREATE TABLE refs (id int PRIMARY KEY, w int REFERENCES \"we\"\"ird t\" (id));\n" +
		"CREATE TABLE other (id int PRIMARY KEY);\n"
	pgtest.Exec(t, u, base)
	conn := connOf(t, parseURL(t, u))
	desired := func(sql string) source.Desired { return desiredSQL(t, sql) }
	columns := func(table string) string {
		return pgtest.QueryValue[string](t, u, "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped", table)
	}

	// A column added to the table with a hostile name: checked on its own.
	next := strings.Replace(base, "m mood)", "m mood, \"no\"\"te\" text)", 1)
	p, want, err := planner.Generate(ctx, conn, desired(next), planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// (The first apply in the database makes keel's history table in its
	// transaction: PostgreSQL's catalog is then read whole.)
	n, answered := apply.PartialChecks(), apply.CatalogAnswers()
	if err := apply.Apply(ctx, conn, p, want, "test", apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if apply.PartialChecks() != n+1 || apply.CatalogAnswers() != answered {
		t.Fatal("the result was not checked on the changed tables alone")
	}
	if got := columns(`"we""ird t"`); got != `id,m,no"te` {
		t.Fatalf("columns after apply: %s", got)
	}
	// The next: PostgreSQL's catalog of the changed tables answers alone.
	next = strings.Replace(next, "\"no\"\"te\" text)", "\"no\"\"te\" text, \"la\"\"ter\" text)", 1)
	if p, want, err = planner.Generate(ctx, conn, desired(next), planner.Options{}); err != nil {
		t.Fatal(err)
	}
	n, answered = apply.PartialChecks(), apply.CatalogAnswers()
	if err := apply.Apply(ctx, conn, p, want, "test", apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if apply.CatalogAnswers() != answered+1 || apply.PartialChecks() != n {
		t.Fatal("the result was not checked on the changed tables' catalog alone")
	}
	if got := columns(`"we""ird t"`); got != `id,m,no"te,la"ter` {
		t.Fatalf("columns after apply: %s", got)
	}

	// The statements of one change, checked against a desired state that
	// also has a column on a table they do not touch: refused, nothing
	// changed.
	more := strings.Replace(next, "\"la\"\"ter\" text)", "\"la\"\"ter\" text, extra int)", 1)
	p, _, err = planner.Generate(ctx, conn, desired(more), planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	beyond, err := planner.Normalize(ctx, conn, desired(strings.Replace(more, "CREATE TABLE other (id int PRIMARY KEY);", "CREATE TABLE other (id int PRIMARY KEY, late int);", 1)), planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, answered = apply.PartialChecks(), apply.CatalogAnswers()
	err = apply.Apply(ctx, conn, p, beyond, "test", apply.ApplyOptions{})
	var ve *apply.VerifyError
	if !errors.As(err, &ve) || !strings.Contains(strings.Join(ve.Remaining, "\n"), `"public"."other"`) {
		t.Fatalf("apply: %v, want a VerifyError naming public.other", err)
	}
	if apply.PartialChecks() != n+1 || apply.CatalogAnswers() != answered {
		t.Fatal("the result was not checked on the changed tables alone, the engine's reading of them included")
	}
	if got := columns(`"we""ird t"`); got != `id,m,no"te,la"ter` {
		t.Fatalf("columns after a refused apply: %s", got)
	}

	// An enum's new value: checked in full.
	p, want, err = planner.Generate(ctx, conn, desired(strings.Replace(next, "('ok', 'sad')", "('ok', 'sad', 'glad')", 1)), planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n = apply.PartialChecks()
	if err := apply.Apply(ctx, conn, p, want, "test", apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if apply.PartialChecks() != n {
		t.Fatal("a change to an enum was checked on tables alone")
	}
}
