package planner_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
)

// A runner whose cache is empty (a fresh CI runner) starts from the
// normalized state the last apply kept in the database: for the files it
// applied, it normalizes nothing (its cache gains that entry only); for
// files changed since, it normalizes the tables that changed; and each plan
// is the plan of a whole normalization, also when the database drifted. A
// damaged row, or one of another keel build or server, is not taken.
func TestAnEmptyCacheStartsFromWhatTheApplyKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, name := pgtest.NewDatabase(t)
	db, _ := pg.ParseURL(u)
	// Plans with an empty cache normalize (small states) in scratch
	// databases of their own: one made says that something was normalized.
	scratch := strings.Replace(name, "keel_test_", "keel_scratch_kept_", 1)
	normalized := func() bool {
		return pgtest.QueryValue[bool](t, u, "SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname LIKE $1)", scratch+"%")
	}
	t.Cleanup(func() {
		for _, s := range []string{scratch, scratch + "_2", scratch + "_3"} {
			pgtest.Exec(t, pgtest.ServerURL(), "DROP DATABASE IF EXISTS "+s+" WITH (FORCE)")
		}
	})
	emptyCache := func() source.DevDatabase {
		return source.DevDatabase{Cache: &source.Cache{Dir: t.TempDir()}, Scratch: scratch}
	}
	const before = `
schema "public" {}
enum "status" {
  schema = schema.public
  values = ["new", "done"]
}
table "users" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "st" {
    type    = enum.status
    default = "new"
  }
  primary_key {
    columns = [column.id]
  }
}
table "orders" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "user_id" {
    type = bigint
  }
  column "total" {
    type = numeric(10,2)
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "orders_user" {
    columns     = [column.user_id]
    ref_columns = [table.users.column.id]
  }
  check "total_positive" {
    expr = "total >= 0"
  }
}
`
	after := strings.Replace(before, `  column "st" {`, "  column \"email\" {\n    type = text\n    null = true\n  }\n  column \"st\" {", 1)
	path := writeSchema(t, before)
	applied := &source.Cache{Dir: t.TempDir()}
	applyPlan(t, u, planWithCache(t, db, path, applied))
	desired, err := source.LoadHCL(path)
	if err != nil {
		t.Fatal(err)
	}
	keep := func() {
		t.Helper()
		if _, err := planner.Keep(ctx, connOf(t, db), desired, planner.Options{Dev: source.DevDatabase{Cache: applied}}); err != nil {
			t.Fatal(err)
		}
	}
	keep()
	key := pgtest.QueryValue[string](t, u, "SELECT key FROM keel.normalized_states")
	// Kept again for the same files: nothing is written.
	writes := source.KeptWrites()
	keep()
	if source.KeptWrites() != writes {
		t.Fatal("the same files' entry was written again")
	}

	// planFresh plans the files at path with an empty cache, and with no
	// cache at all; both must be the same plan.
	planFresh := func(what, path string) (*plan.Plan, *source.Cache) {
		t.Helper()
		dev := emptyCache()
		desired, err := source.LoadHCL(path)
		if err != nil {
			t.Fatal(err)
		}
		fromKept, _, err := planner.Generate(ctx, connOf(t, db), desired, planner.Options{Dev: dev})
		if err != nil {
			t.Fatal(err)
		}
		whole := planWithCache(t, db, path, nil)
		if !reflect.DeepEqual(whole.Steps, fromKept.Steps) || whole.To.Hash != fromKept.To.Hash || len(whole.Unplanned)+len(fromKept.Unplanned) > 0 {
			t.Fatalf("%s: the plan from the kept state differs:\nwhole:\n%s\nfrom the kept state:\n%s", what, sqlOf(whole), sqlOf(fromKept))
		}
		return fromKept, dev.Cache
	}
	entries := func(c *source.Cache) []string {
		found, _ := filepath.Glob(filepath.Join(c.Dir, "*.json"))
		for i, f := range found {
			found[i] = strings.TrimSuffix(filepath.Base(f), ".json")
		}
		return found
	}

	// The files applied: their entry is the kept one, nothing normalized.
	p, c := planFresh("the files applied", path)
	if !p.Matches() || p.DesiredKeptAt.IsZero() || p.DesiredKeptPartial {
		t.Fatalf("want a match from the kept state, got kept at %v (partial %v):\n%s", p.DesiredKeptAt, p.DesiredKeptPartial, sqlOf(p))
	}
	if got := entries(c); !reflect.DeepEqual(got, []string{key}) || normalized() {
		t.Fatalf("the empty cache gained %v, want the kept entry %s alone; normalized: %v", got, key, normalized())
	}
	// So does the normalization of `keel apply --plan` on such a runner.
	norm, err := planner.Normalize(ctx, connOf(t, db), desired, planner.Options{Dev: emptyCache()})
	if err != nil {
		t.Fatal(err)
	}
	if fp, err := norm.Fingerprint(); err != nil || fp.Hash != p.To.Hash || normalized() {
		t.Fatalf("the normalization with an empty cache did not take the kept state (normalized: %v, %v)", normalized(), err)
	}
	// The same bytes at another path find it too.
	other := writeSchema(t, before)
	if p, _ = planFresh("the files at another path", other); !p.Matches() || p.DesiredKeptAt.IsZero() {
		t.Fatalf("another path: want a match from the kept state:\n%s", sqlOf(p))
	}

	// The database drifted: the kept state is the files', not the database's.
	pgtest.Exec(t, u, `ALTER TABLE users ADD COLUMN by_hand text`, `ALTER TABLE orders DROP CONSTRAINT total_positive`)
	p, _ = planFresh("a drifted database", path)
	if sql := sqlOf(p); p.DesiredKeptAt.IsZero() || !strings.Contains(sql, `DROP COLUMN "by_hand"`) || !strings.Contains(sql, `total_positive`) {
		t.Fatalf("a drifted database: want the drift planned away from the kept state (kept at %v):\n%s", p.DesiredKeptAt, sql)
	}
	pgtest.Exec(t, u, `ALTER TABLE users DROP COLUMN by_hand`, `ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0)`)

	// The files changed: the kept entry is the base, the changed tables
	// normalized again.
	if err := os.WriteFile(path, []byte(after), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := source.ChangedLoads()
	p, c = planFresh("the files changed", path)
	if p.DesiredKeptAt.IsZero() || !p.DesiredKeptPartial || source.ChangedLoads() == changed || !strings.Contains(sqlOf(p), `ADD COLUMN "email" text NULL`) {
		t.Fatalf("changed files: want the email column from the kept state's base (kept at %v, partial %v):\n%s", p.DesiredKeptAt, p.DesiredKeptPartial, sqlOf(p))
	}
	if got := entries(c); len(got) != 2 || !strings.Contains(strings.Join(got, " "), key) || !normalized() {
		t.Fatalf("the empty cache holds %v, want the kept entry and the changed files'", got)
	}
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}

	// A damaged row is not taken; nor is one of another build or server.
	pgtest.Exec(t, u, `UPDATE keel.normalized_states SET entry = overlay(entry PLACING '\x00'::bytea FROM length(entry) - 3 FOR 1)`)
	if p, _ = planFresh("a damaged row", path); !p.DesiredKeptAt.IsZero() || !p.Matches() {
		t.Fatalf("a damaged row was taken (kept at %v):\n%s", p.DesiredKeptAt, sqlOf(p))
	}
	pgtest.Exec(t, u, `DELETE FROM keel.normalized_states`)
	keep()
	pgtest.Exec(t, u, `UPDATE keel.normalized_states SET slot = 'another build'`)
	if p, _ = planFresh("another build's row", path); !p.DesiredKeptAt.IsZero() {
		t.Fatalf("another build's row was taken (kept at %v)", p.DesiredKeptAt)
	}
}
