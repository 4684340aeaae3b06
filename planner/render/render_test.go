package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"keel/planner/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func int64p(n int64) *int64 { return &n }

// goldenPlan has a bit of everything a renderer shows: an extension, a
// dropped column with its table size, a rewrite, an index built outside the
// transaction, an allowance, objects keel leaves alone and differences it
// cannot plan.
func goldenPlan() *plan.Plan {
	to := plan.Duration(2 * time.Second)
	st := plan.Duration(15 * time.Second)
	return &plan.Plan{
		Target:      plan.Target{Host: "127.0.0.1", Port: 5432, Database: "shop", User: "app"},
		Schemas:     []string{"public"},
		LockRetries: 2,
		Allowed:     []plan.HazardCode{plan.HazardDataLoss},
		Steps: []plan.Step{
			{SQL: `CREATE EXTENSION IF NOT EXISTS "citext" WITH SCHEMA "public"`, Comment: `install extension "citext"`, Action: plan.ActionCreate, Object: "extension citext", Transactional: true, LockTimeout: to, StatementTimeout: st,
				Hazards: []plan.Hazard{{Code: plan.HazardExtension, Severity: plan.SeverityInfo, Object: "extension citext", Message: "installs the extension"}}},
			{SQL: `ALTER TABLE "public"."orders" DROP COLUMN "note", ALTER COLUMN "total" TYPE bigint`, Comment: `modify "orders" table`, Action: plan.ActionAlter, Object: "table public.orders", Transactional: true, LockTimeout: to, StatementTimeout: st,
				Hazards: []plan.Hazard{
					{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: "column public.orders.note", Message: "drops the column and its values", Rows: int64p(1200), Bytes: int64p(163840)},
					{Code: plan.HazardTableRewrite, Severity: plan.SeverityWarning, Object: "column public.orders.total", Message: "changing the type from integer to bigint rewrites the table", Rows: int64p(1200), Bytes: int64p(163840)},
				}},
			{SQL: `CREATE INDEX CONCURRENTLY "orders_placed_at" ON "public"."orders" ("placed_at")`, Comment: `create index "orders_placed_at" to table: "orders"`, Action: plan.ActionAlter, Object: "table public.orders", Transactional: false, LockTimeout: to, StatementTimeout: st,
				Hazards: []plan.Hazard{{Code: plan.HazardNonTransactional, Severity: plan.SeverityInfo, Object: "index public.orders.orders_placed_at", Message: "built CONCURRENTLY after the transaction commits"}}},
		},
		NotManaged: []plan.Object{{Kind: "view", Name: "public.open_orders"}, {Kind: "function", Name: "public.total_of(bigint)"}},
		Unplanned: []plan.Difference{
			{Object: "enum public.order_status", Desired: "('paid', 'open')", Live: "('open', 'paid')", Why: "PostgreSQL cannot reorder the values of an enum: re-create the type in a reviewed migration by hand, or keep the order in the desired state"},
			{Object: "table public.orders", Desired: "table", Live: "table row level security", Why: "row-level security is not managed by keel yet"},
		},
	}
}

func TestRenderGolden(t *testing.T) {
	for name, p := range map[string]*plan.Plan{"plan": goldenPlan(), "empty": {Target: goldenPlan().Target, Schemas: []string{"public"}}} {
		for format, render := range Formats {
			ext := map[string]string{"text": "txt", "sql": "sql", "json": "json", "markdown": "md"}[format]
			t.Run(name+"."+ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := render(&b, p); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", name+"."+ext+".golden")
				if *update {
					if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./planner/render -run TestRenderGolden -update to create it)", err)
				}
				if !bytes.Equal(b.Bytes(), want) {
					t.Fatalf("%s differs from %s:\n%s", format, path, b.String())
				}
			})
		}
	}
}
