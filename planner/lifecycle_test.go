package planner_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/apply"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"

	"github.com/jackc/pgx/v5"
)

func TestExtensionLifecycle(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	v15 := writeSchema(t, `
schema "public" {}
extension "pg_trgm" {
  schema  = schema.public
  version = "1.5"
}
extension "hstore" {
  schema = schema.public
}
table "t" {
  schema = schema.public
  column "h" {
    type = sql("hstore")
  }
}
`)
	applyPlan(t, u, planFor(t, u, v15))
	if v := pgtest.QueryValue[string](t, u, "SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm'"); v != "1.5" {
		t.Fatalf("pg_trgm version %s, want 1.5", v)
	}
	// Upgrade pg_trgm, drop hstore and the table that used it.
	v16 := writeSchema(t, `
schema "public" {}
extension "pg_trgm" {
  schema  = schema.public
  version = "1.6"
}
`)
	p := planFor(t, u, v16)
	sql := sqlOf(p)
	update := strings.Index(sql, `ALTER EXTENSION "pg_trgm" UPDATE TO '1.6'`)
	dropT := strings.Index(sql, `DROP TABLE "public"."t"`)
	dropE := strings.Index(sql, `DROP EXTENSION "hstore"`)
	if update < 0 || dropT < 0 || dropE < 0 || dropE < dropT {
		t.Fatalf("want UPDATE TO 1.6, and DROP EXTENSION hstore after DROP TABLE t, got:\n%s", sql)
	}
	if !strings.HasPrefix(strings.TrimSpace(sql[dropE:]), `DROP EXTENSION "hstore";`) || strings.TrimSpace(sql[dropE+len(`DROP EXTENSION "hstore";`):]) != "" {
		t.Fatalf("DROP EXTENSION is not the last statement:\n%s", sql)
	}
	applyPlan(t, u, p)
	if v := pgtest.QueryValue[string](t, u, "SELECT string_agg(extname || ' ' || extversion, ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'"); v != "pg_trgm 1.6" {
		t.Fatalf("extensions after apply: %s", v)
	}
	if again := planFor(t, u, v16); !again.Empty() {
		t.Fatalf("re-plan not empty:\n%s", sqlOf(again))
	}
}

// A version with no update path (pg_trgm 1.6 to 1.5) is installed again:
// the extension dropped, with a data-loss hazard, and created at that
// version. While an index uses it, PostgreSQL refuses the drop and the apply
// leaves the database as it was.
func TestExtensionDowngradeInstallsAgain(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE EXTENSION pg_trgm VERSION '1.6'")
	const v15 = "CREATE EXTENSION pg_trgm VERSION '1.5';\n"
	p := planForSQL(t, u, v15)
	sql := sqlOf(p)
	if !strings.Contains(sql, `DROP EXTENSION "pg_trgm";`+"\n"+`CREATE EXTENSION IF NOT EXISTS "pg_trgm" WITH SCHEMA "public" VERSION '1.5';`) {
		t.Fatalf("want pg_trgm dropped and installed at 1.5, got:\n%s", sql)
	}
	if h := hazardOf(p, plan.HazardDataLoss); h == nil || h.Object != "extension pg_trgm" {
		t.Fatalf("hazards %+v: want data-loss on the extension", p.Hazards())
	}
	applyPlan(t, u, p)
	if v := pgtest.QueryValue[string](t, u, "SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm'"); v != "1.5" {
		t.Fatalf("pg_trgm version %s, want 1.5", v)
	}
	if again := planForSQL(t, u, v15); !again.Empty() {
		t.Fatalf("re-plan not empty:\n%s", sqlOf(again))
	}

	// An index that uses the extension blocks the way down.
	const words = "CREATE TABLE words (w text);\nCREATE INDEX words_trgm ON words USING gin (w gin_trgm_ops);\n"
	pgtest.Exec(t, u, "ALTER EXTENSION pg_trgm UPDATE TO '1.6'", words)
	before := pgtest.DumpSchema(t, u)
	p = planForSQL(t, u, v15+words)
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	err = apply.Apply(context.Background(), connOf(t, db), p, nil, "test", apply.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(err.Error(), "depend") {
		t.Fatalf("apply: %v; want PostgreSQL's refusal to drop the extension, rolled back", err)
	}
	if after := pgtest.DumpSchema(t, u); after != before {
		t.Fatalf("the database changed:\n%s", after)
	}
}

// The throwaway database is dropped after normalizing, also when the desired
// state fails to load, and the target is left as it was: on a dev server,
// where Generate waits for the drop, and on the target's server, where the
// drop is sent on a connection of its own and the server finishes it after
// Generate returned.
func TestThrowawayDatabaseIsDropped(t *testing.T) {
	t.Parallel()
	u, name := pgtest.NewDatabase(t)
	prefix := "keel_tmp_" + strings.TrimPrefix(name, "keel_test_") + "_"
	server, err := pg.ParseURL(pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	target, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	left := func() int {
		return pgtest.QueryValue[int](t, pgtest.ServerURL(), "SELECT count(*)::int FROM pg_database WHERE starts_with(datname, $1)", prefix)
	}
	for _, tc := range []struct {
		name, hcl, wantErr string
	}{
		{"loads", `
schema "public" {}
table "ok" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`, ""},
		{"fails to load", `
schema "public" {}
table "bad" {
  schema = schema.public
  column "id" {
    type    = uuid
    default = sql("no_such_function()")
  }
}
`, "schema.hcl:3: the desired state does not load into PostgreSQL"},
	} {
		// NoScratch: these small states would go to the scratch database.
		for _, dev := range []source.DevDatabase{{Server: server, Prefix: prefix, NoScratch: true}, {Prefix: prefix, NoScratch: true}} {
			desired, err := source.LoadHCL(writeSchema(t, tc.hcl))
			if err != nil {
				t.Fatal(err)
			}
			detached := source.DetachedDrops()
			_, _, err = planner.Generate(context.Background(), connOf(t, target), desired, planner.Options{Dev: dev})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("%s (dev server %v): %v", tc.name, dev.Server != nil, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("%s (dev server %v): error %v, want one containing %q", tc.name, dev.Server != nil, err, tc.wantErr)
			}
			if dev.Server != nil {
				// On a dev server the plan waits for the drop.
				if n := left(); n != 0 {
					t.Fatalf("%s (dev server): %d throwaway databases left behind", tc.name, n)
				}
				continue
			}
			// On the target's server the drop is sent and left to the
			// server, which finishes it on its own.
			if source.DetachedDrops() == detached {
				t.Fatalf("%s (target's server): the drop was not left to the server", tc.name)
			}
			for deadline := time.Now().Add(2 * time.Minute); left() != 0; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%s (target's server): %d throwaway databases left two minutes after the plan", tc.name, left())
				}
			}
		}
	}
	if n := pgtest.QueryValue[int](t, u, "SELECT count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace"); n != 0 {
		t.Fatalf("planning changed the target: %d relations in public", n)
	}
}

// A CREATE INDEX CONCURRENTLY that failed leaves an INVALID index: the next
// plan drops it and builds it again.
func TestInvalidIndexIsRebuilt(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE people (email text)", "INSERT INTO people VALUES ('a'), ('a'), ('b')")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "CREATE UNIQUE INDEX CONCURRENTLY people_email_key ON people (email)")
	conn.Close(ctx)
	if err == nil {
		t.Fatal("the concurrent build over duplicates did not fail")
	}
	if pgtest.QueryValue[bool](t, u, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'people_email_key'::regclass") {
		t.Fatal("test bug: the failed build left a valid index")
	}
	pgtest.Exec(t, u, "DELETE FROM people WHERE ctid IN (SELECT max(ctid) FROM people GROUP BY email HAVING count(*) > 1)")

	path := writeSchema(t, `
schema "public" {}
table "people" {
  schema = schema.public
  column "email" {
    type = text
    null = true
  }
  index "people_email_key" {
    unique  = true
    columns = [column.email]
  }
}
`)
	desired, err := source.LoadHCL(path)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := pg.ParseURL(u)
	opts := planner.Options{ConcurrentIndexes: true}
	p, _, err := planner.Generate(ctx, connOf(t, db), desired, opts)
	if err != nil {
		t.Fatal(err)
	}
	sql := sqlOf(p)
	drop := strings.Index(sql, `DROP INDEX CONCURRENTLY IF EXISTS "public"."people_email_key"`)
	create := strings.Index(sql, `CREATE UNIQUE INDEX CONCURRENTLY "people_email_key"`)
	if drop < 0 || create < drop {
		t.Fatalf("want the invalid index dropped, then built concurrently:\n%s", sql)
	}
	if err := apply.Apply(ctx, connOf(t, db), p, nil, "test", apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if !pgtest.QueryValue[bool](t, u, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'people_email_key'::regclass") {
		t.Fatal("the index is still invalid")
	}
	if again, _, err := planner.Generate(ctx, connOf(t, db), desired, opts); err != nil || !again.Empty() {
		t.Fatalf("re-plan: %v\n%s", err, sqlOf(again))
	}
}

// A schema written in HCL but left out of the managed schemas is an error,
// not silently skipped.
func TestHCLSchemaOutsideManagedSchemas(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, "schema \"public\" {}\nschema \"billing\" {}\n")
	desired, err := source.LoadHCL(path)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := pg.ParseURL(u)
	_, _, err = planner.Generate(context.Background(), connOf(t, db), desired, planner.Options{Schemas: []string{"public"}})
	if err == nil || !strings.Contains(err.Error(), path+":2: schema \"billing\" is declared") {
		t.Fatalf("error %v, want one naming %s:2 and schema billing", err, path)
	}
}

// Throwaway databases that a killed keel left behind are dropped by a later
// normalization once they are an hour old and unused; nothing else is.
func TestStaleThrowawaysAreSwept(t *testing.T) {
	t.Parallel()
	u, name := pgtest.NewDatabase(t)
	prefix := "keel_tmp_" + strings.TrimPrefix(name, "keel_test_") + "_"
	old, recent := time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-10*time.Minute).Unix()
	const comment = "keel throwaway database: the desired state is normalized here, and it is dropped afterwards"
	dbs := map[string]bool{ // name -> swept
		fmt.Sprintf("%s%d_0123456789ab", prefix, old):    true,
		fmt.Sprintf("%s%d_0123456789ac", prefix, old):    false, // no comment: not keel's
		fmt.Sprintf("%s%d_0123456789ad", prefix, recent): false, // may still be in use
		fmt.Sprintf("%s%d_0123456789ae", prefix, old):    false, // a session is connected
		prefix + "something_else":                        false, // not keel's name
	}
	server := pgtest.ServerURL()
	for db := range dbs {
		pgtest.Exec(t, server, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
		t.Cleanup(func() {
			pgtest.Exec(t, server, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
		})
		if !strings.HasSuffix(db, "ac") {
			pgtest.Exec(t, server, "COMMENT ON DATABASE "+pgx.Identifier{db}.Sanitize()+" IS '"+comment+"'")
		}
	}
	busy, err := pgx.Connect(context.Background(), pgtest.WithDatabase(t, server, fmt.Sprintf("%s%d_0123456789ae", prefix, old)))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close(context.Background())

	serverDB, err := pg.ParseURL(server)
	if err != nil {
		t.Fatal(err)
	}
	target, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	desired, err := source.LoadHCL(writeSchema(t, "schema \"public\" {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := planner.Generate(context.Background(), connOf(t, target), desired, planner.Options{Dev: source.DevDatabase{Server: serverDB, Prefix: prefix}}); err != nil {
		t.Fatal(err)
	}
	for db, swept := range dbs {
		exists := pgtest.QueryValue[bool](t, server, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db)
		if exists == swept {
			t.Errorf("%s: exists = %v, want %v", db, exists, !swept)
		}
	}
}
