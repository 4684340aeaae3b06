package planner_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/apply"
	"keel/planner/pg"
	"keel/planner/source"
)

// functionsSQL defines functions with side effects on the database they run
// in: each call writes a row and takes a sequence value.
const functionsSQL = `
CREATE TABLE public.calls (fn text NOT NULL);
CREATE SEQUENCE public.calls_seq;
CREATE FUNCTION public.f1() RETURNS int LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.calls VALUES ('f1'); RETURN nextval('public.calls_seq'); END $$;
CREATE FUNCTION public.f2() RETURNS int LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.calls VALUES ('f2'); RETURN nextval('public.calls_seq'); END $$;
`

// TestPlanRunsNothingOnTheTarget plans a change of a default from f1() to
// f2() and a new check calling f2(), with functions that write when they
// run: planning must not call them on the target (the engine compares
// defaults by running SELECT f1() = f2(); hazard probes count rows that
// violate a check), and the plan still has the changes.
func TestPlanRunsNothingOnTheTarget(t *testing.T) {
	t.Parallel()
	target, _ := pgtest.NewDatabase(t)
	desired, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, target, functionsSQL, "CREATE TABLE public.t (a int DEFAULT public.f1())", "INSERT INTO public.t (a) VALUES (1)")
	pgtest.Exec(t, desired, functionsSQL, "CREATE TABLE public.t (a int DEFAULT public.f2() CONSTRAINT a_positive CHECK (a + public.f2() > 0))")
	before := pgtest.QueryValue[string](t, target, "SELECT (SELECT count(*) FROM public.calls) || '/' || (SELECT last_value || '/' || is_called FROM public.calls_seq)")

	p := generate(t, target, open(t, desired))

	after := pgtest.QueryValue[string](t, target, "SELECT (SELECT count(*) FROM public.calls) || '/' || (SELECT last_value || '/' || is_called FROM public.calls_seq)")
	if after != before {
		t.Fatalf("planning ran the target's functions: calls/sequence went from %s to %s", before, after)
	}
	sql := sqlOf(p)
	for _, want := range []string{"SET DEFAULT public.f2()", "a_positive"} {
		if !strings.Contains(sql, want) {
			t.Errorf("the plan lacks %q:\n%s", want, sql)
		}
	}
}

// A plan that does not bring the database to the desired state is rolled
// back whole: the result is checked inside the transaction, before COMMIT,
// and the failure is recorded.
func TestApplyThatDoesNotReachTheDesiredStateRollsBack(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	conn := connOf(t, parseURL(t, u))
	oneTable, err := source.LoadHCL(writeSchema(t, "schema \"public\" {}\ntable \"a\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	twoTables, err := source.LoadHCL(writeSchema(t, "schema \"public\" {}\ntable \"a\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n}\ntable \"b\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := planner.Generate(context.Background(), conn, oneTable, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := planner.Normalize(context.Background(), conn, twoTables, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = apply.Apply(context.Background(), conn, p, want, "test", apply.ApplyOptions{})
	var ve *apply.VerifyError
	if !errors.As(err, &ve) || len(ve.Remaining) != 1 || !strings.Contains(ve.Remaining[0], `CREATE TABLE "public"."b"`) {
		t.Fatalf("apply: %v, want a VerifyError naming the table still missing", err)
	}
	if pgtest.QueryValue[bool](t, u, "SELECT to_regclass('public.a') IS NOT NULL") {
		t.Fatal("the plan's table exists: the transaction was committed")
	}
	if got := pgtest.QueryValue[string](t, u, "SELECT string_agg(outcome, ',') FROM keel.history"); got != "failed" {
		t.Fatalf("history outcomes %q, want failed", got)
	}
}

func parseURL(t *testing.T, u string) *pg.DB {
	t.Helper()
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	return db
}
