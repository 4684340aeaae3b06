package planner_test

import (
	"context"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/apply"
	"keel/planner/plan"
	"keel/planner/source"
)

const withAudit = `schema "public" {}
schema "audit" {}
table "t" {
  schema = schema.public
  column "id" {
    type = int
  }
}
table "log" {
  schema = schema.audit
  column "line" {
    type = text
  }
}
`

const withoutAudit = `schema "public" {}
table "t" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`

// keel manages the schemas its applies brought to a desired state: one that
// leaves the desired state is dropped, with its tables named in data-loss
// hazards; a schema keel never managed is listed with its tables and left
// alone; a profile that pins the schemas manages exactly those.
func TestManagedSchemas(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	applyPlan(t, u, planFor(t, u, writeSchema(t, withAudit)))
	pgtest.Exec(t, u, "INSERT INTO audit.log SELECT 'x' FROM generate_series(1, 3)", "ANALYZE audit.log",
		"CREATE SCHEMA legacy", "CREATE TABLE legacy.old (a int)")
	if got := pgtest.QueryValue[string](t, u, "SELECT string_agg(name, ',' ORDER BY name) FROM keel.managed_schemas"); got != "audit,public" {
		t.Fatalf("managed schemas %q, want audit,public", got)
	}

	// Pinned to public: audit is not managed, so not dropped.
	desired, err := source.LoadHCL(writeSchema(t, withoutAudit))
	if err != nil {
		t.Fatal(err)
	}
	pinned, _, err := planner.Generate(context.Background(), connOf(t, parseURL(t, u)), desired, planner.Options{Schemas: []string{"public"}})
	if err != nil {
		t.Fatal(err)
	}
	if !pinned.Matches() || !strings.Contains(notManagedOf(pinned), "schema audit (1 table(s))") {
		t.Fatalf("pinned: statements\n%s\nnot managed %q; want no change and audit listed", sqlOf(pinned), notManagedOf(pinned))
	}

	path := writeSchema(t, withoutAudit)
	p := planFor(t, u, path)
	if !strings.Contains(sqlOf(p), `DROP SCHEMA "audit" CASCADE`) || len(p.DropSchemas) != 1 {
		t.Fatalf("statements:\n%s\nwant the managed schema audit dropped", sqlOf(p))
	}
	if h := hazardOf(p, plan.HazardDataLoss); h == nil || h.Object != "table audit.log" || h.Rows == nil || *h.Rows != 3 {
		t.Fatalf("hazards %+v: want data-loss naming audit.log and its 3 rows", p.Hazards())
	}
	if strings.Contains(sqlOf(p), "legacy") || !strings.Contains(notManagedOf(p), "schema legacy (1 table(s))") {
		t.Fatalf("the schema keel never managed: statements\n%s\nnot managed %q", sqlOf(p), notManagedOf(p))
	}
	applyPlan(t, u, p)
	if pgtest.QueryValue[bool](t, u, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'audit')") {
		t.Fatal("schema audit is still there")
	}
	if got := pgtest.QueryValue[string](t, u, "SELECT string_agg(name, ',' ORDER BY name) FROM keel.managed_schemas"); got != "public" {
		t.Fatalf("managed schemas %q after the drop, want public", got)
	}
	if p := planFor(t, u, path); !p.Matches() {
		t.Fatalf("after apply: %d statements:\n%s", len(p.Steps), sqlOf(p))
	}
}

func notManagedOf(p *plan.Plan) string {
	var names []string
	for _, o := range p.NotManaged {
		names = append(names, o.String())
	}
	return strings.Join(names, ", ")
}

// A table added to a schema a reviewed plan drops makes the plan stale.
func TestDroppedSchemaChangedMakesThePlanStale(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	applyPlan(t, u, planFor(t, u, writeSchema(t, withAudit)))
	p := planFor(t, u, writeSchema(t, withoutAudit))
	pgtest.Exec(t, u, "CREATE TABLE audit.more (a int)")
	err := apply.Apply(context.Background(), connOf(t, parseURL(t, u)), p, nil, "test", apply.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "stale") || !strings.Contains(err.Error(), "audit.more") {
		t.Fatalf("apply: %v, want the plan refused as stale, naming audit.more", err)
	}
	if !pgtest.QueryValue[bool](t, u, "SELECT to_regclass('audit.log') IS NOT NULL") {
		t.Fatal("the schema was dropped")
	}
}

// A plan made and applied by one process (keel apply in an auto env) is
// refused as stale when the schema changed in between, naming the column,
// though it compares the schema by a hash of its structures first; a plan
// file read back (without that hash) is refused the same way.
func TestChangeBetweenPlanAndApplyIsStale(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE notes (id int)")
	p := planForSQL(t, u, "CREATE TABLE notes (id int, body text);\n")
	if p.FromRealm == "" {
		t.Fatal("the plan has no hash of the schema it was made from")
	}
	file := *p
	file.FromRealm, file.CatalogSignature = "", "" // as read from a plan file
	pgtest.Exec(t, u, "ALTER TABLE notes ADD COLUMN late int")
	for _, q := range []*plan.Plan{p, &file} {
		err := apply.Apply(context.Background(), connOf(t, parseURL(t, u)), q, nil, "test", apply.ApplyOptions{})
		if err == nil || !strings.Contains(err.Error(), "stale") || !strings.Contains(err.Error(), "column public.notes.late (added)") {
			t.Fatalf("apply: %v, want the plan refused as stale, naming the column", err)
		}
	}
	if pgtest.QueryValue[bool](t, u, "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'body')") {
		t.Fatal("the stale plan ran")
	}
}
