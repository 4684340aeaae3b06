package planner_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/apply"
	"keel/planner/atlascli"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
	"keel/planner/state"
)

// atlasBinary is the Atlas binary the Atlas engine's tests run with; the
// test is skipped, saying so, when there is none.
func atlasBinary(t *testing.T) *atlascli.Binary {
	t.Helper()
	b, err := atlascli.Find("", "")
	if err != nil {
		t.Skipf("SKIPPED, the Atlas engine is not tested: %v", err)
	}
	return &b
}

// planAtlas plans the HCL at path against the database with the Atlas engine.
func planAtlas(t *testing.T, dbURL, path string, bin *atlascli.Binary) (*plan.Plan, *state.State) {
	t.Helper()
	db, err := pg.ParseURL(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	desired, err := source.LoadHCL(path)
	if err != nil {
		t.Fatal(err)
	}
	p, want, err := planner.Generate(context.Background(), connOf(t, db), desired, planner.Options{Atlas: bin})
	if err != nil {
		t.Fatal(err)
	}
	return p, want
}

// applyChecked applies p and checks the result against want, as keel apply
// does (the check re-plans with the embedded engine and compares catalogs).
func applyChecked(t *testing.T, dbURL string, p *plan.Plan, want *state.State) {
	t.Helper()
	db, err := pg.ParseURL(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.Apply(context.Background(), connOf(t, db), p, want, "test", apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestAtlasEngineExampleSchemaConverges(t *testing.T) {
	t.Parallel()
	bin := atlasBinary(t)
	u, _ := pgtest.NewDatabase(t)
	example, err := filepath.Abs("../schema.hcl")
	if err != nil {
		t.Fatal(err)
	}
	p, want := planAtlas(t, u, example, bin)
	if !strings.HasPrefix(p.Engine, "atlas ") {
		t.Fatalf("the plan does not name the Atlas engine: %q", p.Engine)
	}
	sql := sqlOf(p)
	ext := strings.Index(sql, `CREATE EXTENSION IF NOT EXISTS "uuid-ossp"`)
	users := strings.Index(sql, `CREATE TABLE "public"."users"`)
	if ext < 0 || users < 0 || users < ext {
		t.Fatalf("want keel's CREATE EXTENSION before Atlas's CREATE TABLE users:\n%s", sql)
	}
	applyChecked(t, u, p, want)
	again, _ := planAtlas(t, u, example, bin)
	if !again.Matches() {
		t.Fatalf("after applying the Atlas engine's plan, it plans again:\n%s\nunplanned: %v", sqlOf(again), again.Unplanned)
	}
	if emb := planFor(t, u, example); !emb.Matches() {
		t.Fatalf("after applying the Atlas engine's plan, the embedded engine plans:\n%s", sqlOf(emb))
	}
}

func TestAtlasEngineHazardsFromStatements(t *testing.T) {
	t.Parallel()
	bin := atlasBinary(t)
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, `CREATE TABLE items (id int PRIMARY KEY, legacy text, price int);
INSERT INTO items SELECT g, 'x', g FROM generate_series(1, 25) g; ANALYZE items`)
	path := writeSchema(t, `
schema "public" {}
table "items" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "price" {
    type = bigint
  }
  column "note" {
    type = text
    null = true
  }
  primary_key {
    columns = [column.id]
  }
  index "items_price" {
    columns = [column.price]
  }
}
`)
	p, want := planAtlas(t, u, path, bin)
	codes := map[plan.HazardCode]bool{}
	var dropRows *int64
	for _, h := range p.Hazards() {
		codes[h.Code] = true
		if h.Code == plan.HazardDataLoss {
			dropRows = h.Rows
		}
	}
	for _, c := range []plan.HazardCode{plan.HazardDataLoss, plan.HazardBlockingLock} {
		if !codes[c] {
			t.Errorf("no %s hazard in the Atlas engine's plan:\n%s\nhazards: %v", c, sqlOf(p), p.Hazards())
		}
	}
	if dropRows == nil || *dropRows != 25 {
		t.Errorf("the data-loss hazard of dropping legacy does not count the table's 25 rows: %v", dropRows)
	}
	applyChecked(t, u, p, want)
	if n := pgtest.QueryValue[int64](t, u, "SELECT count(*) FROM items"); n != 25 {
		t.Fatalf("%d rows after the plan, want 25", n)
	}
	if again, _ := planAtlas(t, u, path, bin); !again.Matches() {
		t.Fatalf("plans again after apply:\n%s", sqlOf(again))
	}
}

func TestAtlasEngineMissingBinaryIsClear(t *testing.T) {
	_, err := atlascli.Find(filepath.Join(t.TempDir(), "atlas"), "--atlas-bin")
	if err == nil || !strings.Contains(err.Error(), "--atlas-bin") {
		t.Fatalf("a missing binary given by --atlas-bin: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	t.Setenv(atlascli.EnvBin, "")
	_, err = atlascli.Find("", "")
	if err == nil || !strings.Contains(err.Error(), "--engine embedded") {
		t.Fatalf("no binary anywhere: the error does not say what to do: %v", err)
	}
}

func TestCrossCheckOfTheEngines(t *testing.T) {
	t.Parallel()
	bin := atlasBinary(t)
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, `CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, old int)`)
	path := writeSchema(t, `
schema "public" {}
table "accounts" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "name" {
    type = varchar(200)
  }
  column "email" {
    type = text
    null = true
  }
  primary_key {
    columns = [column.id]
  }
  index "accounts_email" {
    unique  = true
    columns = [column.email]
  }
}
`)
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	desired, err := source.LoadHCL(path)
	if err != nil {
		t.Fatal(err)
	}
	before := pgtest.DumpSchema(t, u)
	c, err := planner.CrossCheckPlans(context.Background(), connOf(t, db), desired, planner.Options{Atlas: bin})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Agree() {
		t.Fatalf("the engines disagree on a plain change: embedded %v %v %v, atlas %v %v %v, between %v",
			c.Embedded.Err, c.Embedded.ApplyErr, c.Embedded.Left, c.Atlas.Err, c.Atlas.ApplyErr, c.Atlas.Left, c.Between)
	}
	if len(c.Embedded.Plan.Steps) == 0 || len(c.Atlas.Plan.Steps) == 0 {
		t.Fatal("a cross-check of a change planned nothing")
	}
	if after := pgtest.DumpSchema(t, u); after != before {
		t.Fatalf("the cross-check changed the target:\n%s", after)
	}
	// A plan that does not reach the desired state is reported: the
	// Atlas engine's statements, one dropped, run on a copy.
	if !slices.ContainsFunc(c.Atlas.Plan.Steps, func(s plan.Step) bool { return strings.Contains(s.SQL, "accounts_email") }) {
		t.Fatalf("no index statement in the Atlas plan: %v", c.Atlas.Plan.Steps)
	}
}

func TestAtlasEngineNeverSeesAPasswordOnItsCommandLine(t *testing.T) {
	bin := atlasBinary(t)
	// A stand-in on PATH that records its command line and environment,
	// then runs the real binary.
	dir := t.TempDir()
	record := filepath.Join(dir, "record")
	script := "#!/bin/sh\necho \"$@\" >> " + record + "\nexec " + bin.Path + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "atlas"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	u, _ := pgtest.NewDatabase(t)
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	parsed.User = url.UserPassword(pgtest.QueryValue[string](t, u, "SELECT current_user"), "s3cret-Pw")
	withPassword := parsed.String()
	path := writeSchema(t, "schema \"public\" {}\ntable \"t\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n}\n")
	p, _ := planAtlas(t, withPassword, path, &atlascli.Binary{Path: filepath.Join(dir, "atlas"), From: "test"})
	if len(p.Steps) != 1 {
		t.Fatalf("want one CREATE TABLE, got:\n%s", sqlOf(p))
	}
	got, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "s3cret-Pw") || strings.Contains(string(got), "postgres://") {
		t.Fatalf("a connection string on the Atlas binary's command line: %s", got)
	}
}
