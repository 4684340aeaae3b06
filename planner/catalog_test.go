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
	"keel/planner/plan"
	"keel/planner/source"
	"keel/planner/state"
)

// catalogBase is a desired state with one of each object the catalog
// comparison describes: tables, an identity column, a text column with an
// index, a primary key, a foreign key and a check.
const catalogBase = `schema "public" {}
table "parent" {
  schema = schema.public
  column "id" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
}
table "t" {
  schema = schema.public
  column "id" {
    type = int
    identity {
      generated = ALWAYS
    }
  }
  column "v" {
    type = text
    null = true
  }
  column "parent_id" {
    type = int
    null = true
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "t_parent_fk" {
    columns     = [column.parent_id]
    ref_columns = [table.parent.column.id]
  }
  check "t_v_check" {
    expr = "v <> ''"
  }
  index "t_v_idx" {
    columns = [column.v]
  }
}
`

// What the schema engine does not see, PostgreSQL's catalog does, and keel
// plans it: each change made by hand to a database that is otherwise the
// desired state (a setting, a constraint's timing or validity, an index's
// storage parameter) is planned back with the statement shown, and after
// the apply the plan is "No changes" again.
func TestHandMadeChangesArePlannedBack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, sql, planned string
	}{
		{"table fillfactor", "ALTER TABLE t SET (fillfactor = 70)", `ALTER TABLE "public"."t" RESET ("fillfactor")`},
		{"toast parameter", "ALTER TABLE t SET (toast.autovacuum_enabled = false)", `ALTER TABLE "public"."t" RESET ("toast"."autovacuum_enabled")`},
		{"unlogged", "ALTER TABLE t SET UNLOGGED", `ALTER TABLE "public"."t" SET LOGGED`},
		{"replica identity", "ALTER TABLE t REPLICA IDENTITY FULL", `ALTER TABLE "public"."t" REPLICA IDENTITY DEFAULT`},
		{"column storage", "ALTER TABLE t ALTER COLUMN v SET STORAGE EXTERNAL", `ALTER TABLE "public"."t" ALTER COLUMN "v" SET STORAGE EXTENDED`},
		{"column compression", "ALTER TABLE t ALTER COLUMN v SET COMPRESSION pglz", `ALTER TABLE "public"."t" ALTER COLUMN "v" SET COMPRESSION default`},
		{"statistics target", "ALTER TABLE t ALTER COLUMN v SET STATISTICS 500", `ALTER TABLE "public"."t" ALTER COLUMN "v" SET STATISTICS -1`},
		{"identity maxvalue", "ALTER TABLE t ALTER COLUMN id SET MAXVALUE 1000 SET CYCLE", `ALTER TABLE "public"."t" ALTER COLUMN "id" SET NO MAXVALUE SET NO CYCLE`},
		{"index storage parameter", "ALTER INDEX t_v_idx SET (fillfactor = 50)", `CREATE INDEX t_v_idx ON public.t USING btree (v)`},
		{"constraint comment", "COMMENT ON CONSTRAINT t_pkey ON t IS 'by hand'", `COMMENT ON CONSTRAINT "t_pkey" ON "public"."t" IS NULL`},
		{"deferrable foreign key", "ALTER TABLE t ALTER CONSTRAINT t_parent_fk DEFERRABLE INITIALLY DEFERRED", `ALTER TABLE "public"."t" ALTER CONSTRAINT "t_parent_fk" NOT DEFERRABLE`},
		{"check not valid", "ALTER TABLE t DROP CONSTRAINT t_v_check, ADD CONSTRAINT t_v_check CHECK (v <> '') NOT VALID", `ALTER TABLE "public"."t" VALIDATE CONSTRAINT "t_v_check"`},
		{"foreign key match full", "ALTER TABLE t DROP CONSTRAINT t_parent_fk, ADD CONSTRAINT t_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) MATCH FULL",
			`ALTER TABLE "public"."t" DROP CONSTRAINT "t_parent_fk", ADD CONSTRAINT "t_parent_fk" FOREIGN KEY (parent_id) REFERENCES public.parent(id)`},
		{"primary key renamed", "ALTER TABLE t RENAME CONSTRAINT t_pkey TO t_pk", `ALTER TABLE "public"."t" RENAME CONSTRAINT "t_pk" TO "t_pkey"`},
		{"check without a column", "ALTER TABLE t ADD CONSTRAINT always CHECK (true)", `ALTER TABLE "public"."t" DROP CONSTRAINT "always"`},
	}
	path := writeSchema(t, catalogBase)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, _ := pgtest.NewDatabase(t)
			applyPlan(t, u, planFor(t, u, path))
			if p := planFor(t, u, path); !p.Matches() {
				t.Fatalf("after apply: %d statements, %d differences, want none:\n%s%+v", len(p.Steps), len(p.Unplanned), sqlOf(p), p.Unplanned)
			}
			pgtest.Exec(t, u, tc.sql)
			p := planFor(t, u, path)
			if len(p.Unplanned) > 0 || !strings.Contains(sqlOf(p), tc.planned) {
				t.Fatalf("after %s: statements\n%s\ndifferences %+v; want %s and no difference left unplanned", tc.sql, sqlOf(p), p.Unplanned, tc.planned)
			}
			applyPlan(t, u, p)
			if p := planFor(t, u, path); !p.Matches() {
				t.Fatalf("after applying the plan back: %d statements, differences %+v, want none:\n%s", len(p.Steps), p.Unplanned, sqlOf(p))
			}
		})
	}
}

// typedByHand makes the table parent of catalogBase a typed table (OF
// parent_t), which keel cannot plan away: its difference is listed, and so
// is the type, which the table uses.
var typedByHand = []string{"CREATE TYPE parent_t AS (id int)", "ALTER TABLE parent OF parent_t"}

// unplannedObjects lists the objects of a plan's differences.
func unplannedObjects(p *plan.Plan) []string {
	var out []string
	for _, d := range p.Unplanned {
		out = append(out, d.Object)
	}
	return out
}

// What keel does not plan is listed with both PostgreSQL descriptions,
// and why, and the plan is not "No changes".
func TestCatalogShowsWhatKeelDoesNotPlan(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, catalogBase)
	applyPlan(t, u, planFor(t, u, path))
	pgtest.Exec(t, u, typedByHand...)
	p := planFor(t, u, path)
	if p.Matches() || len(p.Unplanned) != 2 || p.Unplanned[0].Object != "table public.parent" || !strings.Contains(p.Unplanned[0].Live, "of public.parent_t") ||
		strings.Contains(p.Unplanned[0].Desired, "parent_t") || !strings.Contains(p.Unplanned[0].Why, "typed tables") ||
		p.Unplanned[1].Object != "type public.parent_t" || !strings.Contains(p.Unplanned[1].Why, "table public.parent uses it") {
		t.Fatalf("differences %+v, want the typed table and its type, with why", p.Unplanned)
	}
}

// A statement covers what it changes, not more: a new column is planned,
// and the typed table made by hand is still listed.
func TestAPlannedChangeDoesNotHideAnotherDifference(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, catalogBase)
	applyPlan(t, u, planFor(t, u, path))
	pgtest.Exec(t, u, append(typedByHand, "ALTER TABLE t ADD COLUMN extra int")...)
	p := planFor(t, u, path)
	if !strings.Contains(sqlOf(p), `DROP COLUMN "extra"`) {
		t.Fatalf("the plan does not drop the column added by hand:\n%s", sqlOf(p))
	}
	if got := unplannedObjects(p); len(got) != 2 || got[0] != "table public.parent" {
		t.Fatalf("differences %+v, want the typed table and its type", p.Unplanned)
	}
}

// The result is checked against the catalog inside the plan's
// transaction: a plan whose statements leave a difference the engine does
// not see is rolled back whole.
func TestApplyChecksTheCatalogBeforeCommit(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	conn := connOf(t, parseURL(t, u))
	desired, err := source.LoadHCL(writeSchema(t, catalogBase))
	if err != nil {
		t.Fatal(err)
	}
	p, want, err := planner.Generate(context.Background(), conn, desired, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A statement nobody asked for, as a buggy engine could render it.
	p.Steps = append(p.Steps, plan.Step{SQL: `ALTER TABLE "public"."t" SET (fillfactor = 50)`, Action: plan.ActionAlter, Object: "table public.t", Transactional: true,
		LockTimeout: p.Steps[0].LockTimeout, StatementTimeout: p.Steps[0].StatementTimeout})
	err = apply.Apply(context.Background(), conn, p, want, "test", apply.ApplyOptions{})
	var ve *apply.VerifyError
	if !errors.As(err, &ve) || len(ve.Remaining) != 1 || ve.Remaining[0] != `ALTER TABLE "public"."t" RESET ("fillfactor")` || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("apply: %v, want a VerifyError with the statement that resets the table's fillfactor", err)
	}
	if pgtest.QueryValue[bool](t, u, "SELECT to_regclass('public.t') IS NOT NULL") {
		t.Fatal("the table exists: the transaction was committed")
	}
}

// A plan with differences it does not account for is refused before
// anything runs.
func TestAPlanWithUnplannedDifferencesIsNotApplied(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, catalogBase)
	applyPlan(t, u, planFor(t, u, path))
	pgtest.Exec(t, u, append(typedByHand, "ALTER TABLE t ADD COLUMN extra int")...)
	p := planFor(t, u, path)
	if len(p.Steps) == 0 || len(p.Unplanned) == 0 {
		t.Fatalf("want statements and differences: %d, %+v", len(p.Steps), p.Unplanned)
	}
	err := apply.Apply(context.Background(), connOf(t, parseURL(t, u)), p, nil, "test", apply.ApplyOptions{})
	var re *plan.RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "table public.parent") {
		t.Fatalf("apply: %v, want a refusal naming the table", err)
	}
	if !pgtest.QueryValue[bool](t, u, "SELECT count(*) = 1 FROM information_schema.columns WHERE table_name = 't' AND column_name = 'extra'") {
		t.Fatal("the column was dropped: the plan ran")
	}
}

// Where the plan builds indexes CONCURRENTLY, an index keel builds again
// (here for its storage parameter) is too: dropped and built after the
// transaction, and the result is the desired state.
func TestIndexRebuiltConcurrently(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, catalogBase)
	applyPlan(t, u, planFor(t, u, path))
	pgtest.Exec(t, u, "ALTER INDEX t_v_idx SET (fillfactor = 50)")
	conn := connOf(t, parseURL(t, u))
	desired, err := source.LoadHCL(path)
	if err != nil {
		t.Fatal(err)
	}
	p, want, err := planner.Generate(context.Background(), conn, desired, planner.Options{ConcurrentIndexes: true})
	if err != nil {
		t.Fatal(err)
	}
	var later []string
	for _, st := range p.Steps {
		if !st.Transactional {
			later = append(later, st.SQL)
		}
	}
	if len(p.Unplanned) > 0 || len(later) != 2 || !strings.HasPrefix(later[0], "DROP INDEX CONCURRENTLY") || !strings.HasPrefix(later[1], "CREATE INDEX CONCURRENTLY t_v_idx") {
		t.Fatalf("statements after the transaction %q, differences %+v; want the index dropped and built CONCURRENTLY", later, p.Unplanned)
	}
	if err := apply.Apply(context.Background(), conn, p, want, "test", apply.ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if p := planFor(t, u, path); !p.Matches() {
		t.Fatalf("after apply: %d statements, differences %+v:\n%s", len(p.Steps), p.Unplanned, sqlOf(p))
	}
}

// A column's description in the catalog names the sequences it owns (a
// serial's, and those OWNED BY it, in name order), and a column that owns
// none says nothing of it.
func TestCatalogNamesTheSequencesAColumnOwns(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, `CREATE TABLE t (id serial, n int, other int)`,
		`CREATE SEQUENCE zz_seq OWNED BY t.n`, `CREATE SEQUENCE aa_seq OWNED BY t.n`)
	cat, err := inspect.ReadCatalog(context.Background(), connOf(t, parseURL(t, u)), []string{"public"})
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) string {
		return cat[state.CatalogKey{Kind: state.CatalogColumn, Schema: "public", Table: "t", Name: name}]
	}
	if got := col("id"); !strings.HasSuffix(got, "owns sequence public.t_id_seq") {
		t.Errorf("column id: %q, want it to own public.t_id_seq", got)
	}
	if got := col("n"); !strings.HasSuffix(got, "owns sequence public.aa_seq, public.zz_seq") {
		t.Errorf("column n: %q, want it to own public.aa_seq, public.zz_seq", got)
	}
	if got := col("other"); strings.Contains(got, "owns") {
		t.Errorf("column other: %q owns nothing", got)
	}
}
