package planner_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/apply"
	"keel/planner/plan"
	"keel/planner/source"
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

// What the schema engine does not see, PostgreSQL's catalog does: each
// change made by hand to a database that is otherwise the desired state is
// listed as a difference keel cannot plan, with both descriptions, and the
// plan is not "No changes".
func TestCatalogShowsWhatTheEngineDoesNot(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, sql, object, live string
	}{
		{"table fillfactor", "ALTER TABLE t SET (fillfactor = 70)", "table public.t", "with(fillfactor=70)"},
		{"replica identity", "ALTER TABLE t REPLICA IDENTITY FULL", "table public.t", "replica identity full"},
		{"column storage", "ALTER TABLE t ALTER COLUMN v SET STORAGE EXTERNAL", "column public.t.v", "storage external"},
		{"column compression", "ALTER TABLE t ALTER COLUMN v SET COMPRESSION pglz", "column public.t.v", "compression pglz"},
		{"statistics target", "ALTER TABLE t ALTER COLUMN v SET STATISTICS 500", "column public.t.v", "statistics 500"},
		{"identity maxvalue", "ALTER TABLE t ALTER COLUMN id SET MAXVALUE 1000", "column public.t.id", "max 1000"},
		{"index storage parameter", "ALTER INDEX t_v_idx SET (fillfactor = 50)", "index public.t.t_v_idx", "fillfactor='50'"},
		{"constraint comment", "COMMENT ON CONSTRAINT t_pkey ON t IS 'by hand'", "constraint public.t.t_pkey", "comment 'by hand'"},
		{"deferrable foreign key", "ALTER TABLE t ALTER CONSTRAINT t_parent_fk DEFERRABLE INITIALLY DEFERRED", "constraint public.t.t_parent_fk", "DEFERRABLE INITIALLY DEFERRED"},
		{"check not valid", "ALTER TABLE t DROP CONSTRAINT t_v_check, ADD CONSTRAINT t_v_check CHECK (v <> '') NOT VALID", "constraint public.t.t_v_check", "NOT VALID"},
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
			if p.Matches() {
				t.Fatalf("after %s: the plan says the database matches", tc.sql)
			}
			var found *plan.Difference
			for i, d := range p.Unplanned {
				if d.Object == tc.object {
					found = &p.Unplanned[i]
				}
			}
			if found == nil || !strings.Contains(found.Live, tc.live) || strings.Contains(found.Desired, tc.live) {
				t.Fatalf("after %s: differences %+v, want %s with %q on the live side only (statements:\n%s)", tc.sql, p.Unplanned, tc.object, tc.live, sqlOf(p))
			}
		})
	}
}

// A statement on a table covers what it changes, not the whole table: a
// new column is planned, and the table's storage parameter set by hand is
// still listed.
func TestAPlannedChangeDoesNotHideAnotherDifference(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, catalogBase)
	applyPlan(t, u, planFor(t, u, path))
	pgtest.Exec(t, u, "ALTER TABLE t SET (fillfactor = 70)", "ALTER TABLE t ADD COLUMN extra int")
	p := planFor(t, u, path)
	if !strings.Contains(sqlOf(p), `DROP COLUMN "extra"`) {
		t.Fatalf("the plan does not drop the column added by hand:\n%s", sqlOf(p))
	}
	if len(p.Unplanned) != 1 || p.Unplanned[0].Object != "table public.t" {
		t.Fatalf("differences %+v, want the table's fillfactor alone", p.Unplanned)
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
	if !errors.As(err, &ve) || len(ve.Differences) != 1 || ve.Differences[0].Object != "table public.t" ||
		!strings.Contains(ve.Differences[0].Live, "fillfactor=50") || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("apply: %v, want a VerifyError naming the table's fillfactor", err)
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
	pgtest.Exec(t, u, "ALTER TABLE t SET UNLOGGED", "ALTER TABLE t ADD COLUMN extra int")
	p := planFor(t, u, path)
	if len(p.Steps) == 0 || len(p.Unplanned) == 0 {
		t.Fatalf("want statements and differences: %d, %+v", len(p.Steps), p.Unplanned)
	}
	err := apply.Apply(context.Background(), connOf(t, parseURL(t, u)), p, nil, "test", apply.ApplyOptions{})
	var re *plan.RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "table public.t") {
		t.Fatalf("apply: %v, want a refusal naming the table", err)
	}
	if !pgtest.QueryValue[bool](t, u, "SELECT count(*) = 1 FROM information_schema.columns WHERE table_name = 't' AND column_name = 'extra'") {
		t.Fatal("the column was dropped: the plan ran")
	}
}
