package render

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

func TestMarkdownGoldenForAnEnv(t *testing.T) {
	var b bytes.Buffer
	if err := MarkdownWith(&b, goldenPlan(), MarkdownOptions{Env: "prod"}); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.prod.md.golden", b.Bytes())
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./planner/render -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the output differs from %s:\n%s", path, got)
	}
}

func markdown(t *testing.T, p *plan.Plan, o MarkdownOptions) string {
	t.Helper()
	var b strings.Builder
	if err := MarkdownWith(&b, p, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The comment names the env, and publishes the target's host, port and
// user only when asked to.
func TestMarkdownTarget(t *testing.T) {
	for _, p := range []*plan.Plan{goldenPlan(), {Target: goldenPlan().Target, Schemas: []string{"public"}}} {
		md := markdown(t, p, MarkdownOptions{Env: "prod"})
		if !strings.HasPrefix(md, "### keel plan for `prod`: ") {
			t.Errorf("the title does not name the env:\n%s", md)
		}
		if !strings.Contains(md, "`shop`") {
			t.Errorf("the comment does not name the database:\n%s", md)
		}
		if strings.Contains(md, "127.0.0.1") || strings.Contains(md, "`app`") || strings.Contains(md, "5432") {
			t.Errorf("the comment shows the host, port or user without ShowTarget:\n%s", md)
		}
		md = markdown(t, p, MarkdownOptions{Env: "prod", ShowTarget: true})
		if !strings.Contains(md, "`127.0.0.1:5432` as `app`") {
			t.Errorf("ShowTarget does not show host, port and user:\n%s", md)
		}
	}
}

// Hazards are listed danger first, then warning, then info, and in step
// order within a severity.
func TestMarkdownHazardsDangerFirst(t *testing.T) {
	md := markdown(t, goldenPlan(), MarkdownOptions{})
	var order []string
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| Severity") && !strings.HasPrefix(line, "| Object") && !strings.HasPrefix(line, "| ---") && strings.Count(line, "|") == 7 {
			order = append(order, strings.Fields(line)[3])
		}
	}
	want := []string{"`data-loss`", "`table-rewrite`", "`extension`", "`non-transactional`"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("hazards in the order %v, want %v:\n%s", order, want, md)
	}
}

// The objects keel does not manage are in the comment, on both sides.
func TestMarkdownNotManaged(t *testing.T) {
	p := goldenPlan()
	p.DesiredNotManaged = []plan.Object{{Kind: "rule", Name: "public.r"}}
	md := markdown(t, p, MarkdownOptions{})
	for _, want := range []string{"Not managed by keel, left as they are (2)", "view `public.open_orders`",
		"In the desired state but not managed by keel, not created (1)", "rule `public.r`"} {
		if !strings.Contains(md, want) {
			t.Errorf("the comment lacks %q:\n%s", want, md)
		}
	}
}

// bigPlan creates n tables, each with its columns, a primary key, an index
// built after the transaction and a comment; drop adds as many dropped
// tables with their hazards.
func bigPlan(n int, drop bool) *plan.Plan {
	to, st := plan.Duration(5*time.Second), plan.Duration(30*time.Minute)
	p := &plan.Plan{Target: plan.Target{Host: "db.internal.example.com", Port: 5432, Database: "shop", User: "keel_apply"}, Schemas: []string{"public"}, LockRetries: 3}
	var later []plan.Step
	for i := range n {
		name := fmt.Sprintf("table_%03d", i)
		p.Steps = append(p.Steps, plan.Step{
			SQL:     fmt.Sprintf(`CREATE TABLE "public"."%s" ("id" bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY, "account_id" bigint NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), "status" text NOT NULL DEFAULT 'new', "amount" numeric(12,2) NULL, "note" text NULL, "payload" jsonb NOT NULL DEFAULT '{}', PRIMARY KEY ("id"))`, name),
			Comment: fmt.Sprintf(`create "%s" table`, name), Action: plan.ActionCreate, Object: "table public." + name, Transactional: true, LockTimeout: to, StatementTimeout: st})
		p.Steps = append(p.Steps, plan.Step{
			SQL:     fmt.Sprintf(`COMMENT ON TABLE "public"."%s" IS 'Rows of %s, kept for seven years'`, name, name),
			Comment: fmt.Sprintf(`comment on "%s" table`, name), Action: plan.ActionCreate, Object: "table public." + name, Transactional: true, LockTimeout: to, StatementTimeout: st})
		later = append(later, plan.Step{
			SQL:     fmt.Sprintf(`CREATE INDEX CONCURRENTLY "%s_account_id_created_at" ON "public"."%s" ("account_id", "created_at")`, name, name),
			Comment: fmt.Sprintf(`create index "%s_account_id_created_at" to table: "%s"`, name, name), Action: plan.ActionAlter, Object: "table public." + name, LockTimeout: to, StatementTimeout: st,
			Hazards: []plan.Hazard{{Code: plan.HazardNonTransactional, Severity: plan.SeverityInfo, Object: fmt.Sprintf("index public.%s.%s_account_id_created_at", name, name), Message: "built CONCURRENTLY after the transaction commits"}}})
		if drop {
			old := fmt.Sprintf("old_%03d", i)
			p.Steps = append(p.Steps, plan.Step{
				SQL: fmt.Sprintf(`DROP TABLE "public"."%s"`, old), Comment: fmt.Sprintf(`drop "%s" table`, old), Action: plan.ActionDrop, Object: "table public." + old, Transactional: true, LockTimeout: to, StatementTimeout: st,
				Hazards: []plan.Hazard{
					{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: "table public." + old, Message: "code that reads or writes the table fails"},
					{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: "table public." + old, Message: "drops the table and its rows", Rows: int64p(120000), Bytes: int64p(52428800)},
				}})
		}
	}
	p.Steps = append(p.Steps, later...)
	for i := range 400 {
		p.NotManaged = append(p.NotManaged, plan.Object{Kind: "view", Name: fmt.Sprintf("public.report_%03d", i)})
	}
	return p
}

// GitHub refuses a comment over 65,536 characters: a 300-table plan stays
// under it, says how many statements it leaves out and where the whole plan
// is, and keeps its markdown whole (the SQL block closed, dangers shown).
func TestMarkdownLargePlanFitsAComment(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *plan.Plan
	}{{"300 new tables", bigPlan(300, false)}, {"300 new tables, 300 dropped", bigPlan(300, true)}} {
		t.Run(tc.name, func(t *testing.T) {
			var full strings.Builder
			if err := Text(&full, tc.p); err != nil {
				t.Fatal(err)
			}
			if full.Len() < 65536 {
				t.Fatalf("the test plan is only %d characters as text: not a test of the limit", full.Len())
			}
			md := markdown(t, tc.p, MarkdownOptions{Env: "prod"})
			if len(md) > MarkdownLimit || len(md) >= 65536 {
				t.Fatalf("the comment has %d characters, over %d", len(md), MarkdownLimit)
			}
			total := len(tc.p.Steps)
			shown := strings.Count(md, fmt.Sprintf("/%d: ", total))
			note := fmt.Sprintf("_%d of %d statements are left out to keep this comment under GitHub's limit: see the plan file (`keel plan --out`; in CI, the job's artifact), or `keel plan --env prod`._", total-shown, total)
			if shown == 0 || shown == total || !strings.Contains(md, note) {
				t.Fatalf("%d of %d statements shown; the comment lacks the note %q:\n%s", shown, total, note, md[len(md)-2000:])
			}
			if !strings.Contains(md, fmt.Sprintf("<details><summary>SQL: statements 1 to %d of %d (", shown, total)) ||
				strings.Count(md, "<details>") != strings.Count(md, "</details>") || strings.Count(md, "```sql\n") != 1 || strings.Count(md, "```\n") != 1 {
				t.Fatalf("the SQL is not one folded, closed block:\n%s", md)
			}
			if !strings.Contains(md, "-- 1/"+fmt.Sprint(total)+": create \"table_000\" table\nCREATE TABLE") {
				t.Fatalf("the first statement is not shown")
			}
			if strings.Contains(md, "db.internal.example.com") || strings.Contains(md, "keel_apply") {
				t.Fatal("the comment shows the host or the user")
			}
			if hs := tc.p.Hazards(); len(hs) > 300 {
				// 300 danger, 300 warning, 300 info: the dangers all shown.
				if n := strings.Count(md, "| **danger** | `data-loss` |"); n != 300 {
					t.Fatalf("%d of 300 data-loss hazards shown:\n%s", n, md)
				}
				if !strings.Contains(md, "**Hazards**: 300 danger, 300 warning, 300 info.") {
					t.Fatalf("the hazard counts are not all there:\n%s", md[:3000])
				}
				if !strings.Contains(md, " hazards (") || strings.Contains(md, "danger) are left out") || strings.Contains(md, "hazards (300 danger") {
					t.Fatalf("the note on the hazards left out is missing, or dangers were left out:\n%s", md)
				}
			}
		})
	}
}

// A plan that fits is shown whole; its SQL is folded when it is long.
func TestMarkdownFoldsLongSQL(t *testing.T) {
	p := bigPlan(10, false)
	md := markdown(t, p, MarkdownOptions{})
	if strings.Contains(md, "left out") {
		t.Fatalf("a short plan has something left out:\n%s", md)
	}
	if !strings.Contains(md, "<details><summary>SQL: 30 statements (") || strings.Count(md, "/30: ") != 30 {
		t.Fatalf("30 statements are not shown whole in a folded block:\n%s", md)
	}
	if md := markdown(t, goldenPlan(), MarkdownOptions{}); strings.Contains(md, "<summary>SQL") {
		t.Fatalf("3 statements are folded:\n%s", md)
	}
	// A limit too small even for the title and a statement.
	if md := markdown(t, p, MarkdownOptions{Limit: 600}); !strings.Contains(md, "The plan is too long to show here (30 statements)") {
		t.Fatalf("a comment over its limit does not say so:\n%s", md)
	}
}

// The SQL script sets the timeouts as apply does: SET LOCAL in the
// transaction, again before a step whose timeouts differ, SET for the
// statements after COMMIT; a transactional step listed after one that is
// not still runs in the transaction, as in apply.
func TestScriptTimeoutsAndOrder(t *testing.T) {
	d := func(s string) plan.Duration { v, _ := time.ParseDuration(s); return plan.Duration(v) }
	p := &plan.Plan{Steps: []plan.Step{
		{SQL: "CREATE TABLE a ()", Transactional: true, LockTimeout: d("2s"), StatementTimeout: d("1m")},
		{SQL: "CREATE TABLE b ()", Transactional: true, LockTimeout: d("2s"), StatementTimeout: d("1m")},
		{SQL: "CREATE INDEX CONCURRENTLY i ON a ((1))", LockTimeout: d("2s"), StatementTimeout: d("1h")},
		{SQL: "ALTER TABLE b ADD c int", Transactional: true, LockTimeout: d("1500ms"), StatementTimeout: 0},
	}}
	var b strings.Builder
	if err := Script(&b, p); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(b.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, "--") {
			got = append(got, line)
		}
	}
	want := []string{`\set ON_ERROR_STOP on`, "BEGIN;",
		"SET LOCAL lock_timeout = '2s';", "SET LOCAL statement_timeout = '1min';", "CREATE TABLE a ();", "CREATE TABLE b ();",
		"SET LOCAL lock_timeout = '1500ms';", "SET LOCAL statement_timeout = 0;", "ALTER TABLE b ADD c int;",
		"COMMIT;",
		"SET lock_timeout = '2s';", "SET statement_timeout = '1h';", "CREATE INDEX CONCURRENTLY i ON a ((1));"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("script:\n%s\nwant the lines:\n%s", b.String(), strings.Join(want, "\n"))
	}
	b.Reset()
	if err := Script(&b, &plan.Plan{}); err != nil || b.Len() != 0 {
		t.Fatalf("an empty plan writes %q, %v", b.String(), err)
	}
}

// A match answered from a match record says when it was verified, in text
// and markdown; a match checked in full says nothing of it.
func TestMatchRecordNote(t *testing.T) {
	p := &plan.Plan{Target: goldenPlan().Target, Schemas: []string{"public"}}
	var b bytes.Buffer
	if err := Text(&b, p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "match record") {
		t.Fatalf("a match checked in full mentions a match record:\n%s", b.String())
	}
	p.MatchVerifiedAt = time.Date(2026, 11, 27, 16, 40, 25, 0, time.FixedZone("CET", 3600))
	const want = "From keel's match record: an earlier plan verified this match against PostgreSQL's catalog at 2026-11-27 15:40:25 UTC"
	b.Reset()
	if err := Text(&b, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No changes: the database matches the desired state.\n"+want) {
		t.Fatalf("text does not say the match came from the record, in UTC:\n%s", b.String())
	}
	if md := markdown(t, p, MarkdownOptions{Env: "prod"}); !strings.Contains(md, "verified this match against PostgreSQL") || !strings.Contains(md, "15:40:25 UTC") {
		t.Fatalf("markdown does not say the match came from the record:\n%s", md)
	}
}

// A plan that took the database's schema from a target record says when it
// was read, in text and markdown, with its statements; one that read it
// says nothing of it.
func TestTargetRecordNote(t *testing.T) {
	p := goldenPlan()
	var b bytes.Buffer
	if err := Text(&b, p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "target record") || strings.Contains(markdown(t, p, MarkdownOptions{}), "target record") {
		t.Fatal("a plan that read the database mentions a target record")
	}
	p.TargetReadAt = time.Date(2026, 11, 27, 16, 40, 25, 0, time.FixedZone("CET", 3600))
	const want = "The database's schema from keel's target record: read from PostgreSQL's catalog at 2026-11-27 15:40:25 UTC"
	b.Reset()
	if err := Text(&b, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), want) || !strings.Contains(b.String(), p.Steps[0].SQL) {
		t.Fatalf("text does not say the schema came from the record, in UTC, with the statements:\n%s", b.String())
	}
	if md := markdown(t, p, MarkdownOptions{Env: "prod"}); !strings.Contains(md, "from keel") || !strings.Contains(md, "15:40:25 UTC") {
		t.Fatalf("markdown does not say the schema came from the record:\n%s", md)
	}
	// With tables read again over the record: how many.
	p.TargetReread = 3
	b.Reset()
	if err := Text(&b, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), want+"; the catalog rows of 3 tables changed since, and they were read again; no other row") {
		t.Fatalf("text does not say which tables were read again:\n%s", b.String())
	}
}
