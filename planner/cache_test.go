package planner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
	"keel/planner/state"
)

// TestCachedStatePlansAsFresh requires a plan computed from a cached
// normalized state to equal the plan from a fresh normalization, against an
// empty database and against one where the state was applied, and (for the
// example) a corrupt cache entry to be ignored and made again.
func TestCachedStatePlansAsFresh(t *testing.T) {
	example, err := os.ReadFile("../schema.hcl")
	if err != nil {
		t.Fatal(err)
	}
	// The every-kind fixture as HCL: inspect a database holding it.
	src, _ := pgtest.NewDatabase(t)
	// Without the serial's default: keel does not manage free-standing sequences.
	pgtest.Exec(t, src, everyKindSQL, `ALTER TABLE "Mixed Case" ALTER COLUMN s DROP DEFAULT`)
	srcDB, err := pg.ParseURL(src)
	if err != nil {
		t.Fatal(err)
	}
	everyKind, err := inspect.Inspect(context.Background(), connOf(t, srcDB), nil)
	if err != nil {
		t.Fatal(err)
	}
	everyKindHCL, err := state.MarshalHCL(everyKind)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{"the example schema.hcl": string(example), "every kind of column and index": string(everyKindHCL)}
	for _, c := range convergeCases {
		cases[c.name] = c.hcl
	}
	for name, hcl := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := writeSchema(t, hcl)
			cache := &source.Cache{Dir: t.TempDir()}
			u, _ := pgtest.NewDatabase(t)
			db, err := pg.ParseURL(u)
			if err != nil {
				t.Fatal(err)
			}
			planWith := func(c *source.Cache) *plan.Plan { return planWithCache(t, db, path, c) }
			same := func(what string, fresh, cached *plan.Plan) {
				t.Helper()
				if !reflect.DeepEqual(fresh.Steps, cached.Steps) || fresh.To.Hash != cached.To.Hash {
					t.Fatalf("%s: the plan from the cache differs:\nfresh:\n%s\ncached:\n%s", what, sqlOf(fresh), sqlOf(cached))
				}
			}
			fresh := planWith(nil)
			planWith(cache) // fills the cache
			entries, _ := filepath.Glob(filepath.Join(cache.Dir, "*.json"))
			if len(entries) != 1 {
				t.Fatalf("want one cache entry, found %v", entries)
			}
			same("empty database", fresh, planWith(cache))
			applyPlan(t, u, fresh)
			fresh = planWith(nil)
			if !fresh.Empty() {
				t.Fatalf("re-plan is not empty:\n%s", sqlOf(fresh))
			}
			same("applied database", fresh, planWith(cache))
			if name != "the example schema.hcl" {
				return // corrupt entries are the same for every state
			}
			// A corrupt entry is ignored, and made again.
			for _, bad := range []string{"{not json", `{"format":"keel-normalized-state/1","hcl":"table {"}`, ""} {
				if err := os.WriteFile(entries[0], []byte(bad), 0o600); err != nil {
					t.Fatal(err)
				}
				same("corrupt entry "+bad, fresh, planWith(cache))
				if b, _ := os.ReadFile(entries[0]); len(b) < 100 {
					t.Fatalf("the corrupt entry %q was not made again", bad)
				}
			}
		})
	}
}

// With the tables as desired and only an extension to drop, the plan from
// the cache (which then compares realms without reading the entry back) is
// the fresh plan.
func TestCachedPlanWithOnlyAnExtensionToDrop(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, `
schema "public" {}
extension "pg_trgm" {
  schema = schema.public
}
table "docs" {
  schema = schema.public
  column "title" {
    type = text
  }
}
`)
	db, _ := pg.ParseURL(u)
	cache := &source.Cache{Dir: t.TempDir()}
	planWith := func(c *source.Cache) *plan.Plan { return planWithCache(t, db, path, c) }
	applyPlan(t, u, planWith(nil))
	pgtest.Exec(t, u, "CREATE EXTENSION hstore")
	fresh := planWith(nil)
	if got := sqlOf(fresh); got != "DROP EXTENSION \"hstore\";\n" {
		t.Fatalf("fresh plan:\n%s", got)
	}
	planWith(cache) // fills the cache
	cached := planWith(cache)
	if !reflect.DeepEqual(fresh.Steps, cached.Steps) || fresh.To.Hash != cached.To.Hash || fresh.From.Hash != cached.From.Hash {
		t.Fatalf("the plan from the cache differs:\nfresh:\n%s\ncached:\n%s", sqlOf(fresh), sqlOf(cached))
	}
}

// A plan from the cache reads the target while the entry is read, for the
// schemas the files' schema lines name; when those are not the desired
// state's (a heredoc line that looks like a schema block, a schema block
// that does not start a line), it reads the entry's schemas instead: the
// plan is the fresh one, and a schema the desired state does not declare
// is left alone. A table and an index whose names hold a double quote go
// the same way.
func TestCachedPlanReadsTheEntrysSchemas(t *testing.T) {
	t.Parallel()
	for name, hcl := range map[string]string{
		"a heredoc line like a schema block": `
schema "public" {
  comment = <<EOT
schema "ghost" {
EOT
}
table "notes" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`,
		"an indented schema block": `
  schema "public" {}
table "notes" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`,
		"a table name holding a double quote": `
schema "public" {}
table "no\"te" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "i\"d" {
    type = text
  }
  index "no\"te_id" {
    columns = [column.id]
  }
}
`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u, _ := pgtest.NewDatabase(t)
			pgtest.Exec(t, u, "CREATE SCHEMA ghost", "CREATE TABLE ghost.keep (id int)")
			db, _ := pg.ParseURL(u)
			path := writeSchema(t, hcl)
			cache := &source.Cache{Dir: t.TempDir()}
			planWith := func(c *source.Cache) *plan.Plan { return planWithCache(t, db, path, c) }
			for _, when := range []string{"before apply", "after apply"} {
				fresh := planWith(nil)
				planWith(cache) // fills the cache, or reads it
				cached := planWith(cache)
				if !reflect.DeepEqual(fresh.Steps, cached.Steps) || !reflect.DeepEqual(fresh.Schemas, cached.Schemas) {
					t.Fatalf("%s: the plan from the cache differs:\nfresh %v:\n%s\ncached %v:\n%s", when, fresh.Schemas, sqlOf(fresh), cached.Schemas, sqlOf(cached))
				}
				if strings.Contains(sqlOf(cached), `"ghost".`) {
					t.Fatalf("%s: the plan touches schema ghost:\n%s", when, sqlOf(cached))
				}
				if when == "before apply" {
					applyPlan(t, u, fresh)
				} else if !cached.Empty() {
					t.Fatalf("after apply, the plan from the cache is not empty:\n%s", sqlOf(cached))
				}
			}
		})
	}
}

// planWithCache plans the HCL at path against db, normalizing through c (nil: no cache).
func planWithCache(t *testing.T, db *pg.DB, path string, c *source.Cache) *plan.Plan {
	t.Helper()
	desired, err := source.LoadHCL(path)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := planner.Generate(context.Background(), connOf(t, db), desired, planner.Options{Dev: source.DevDatabase{Cache: c}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A plan after a change to a few tables, made from the cache's entry for
// the files before the change (only the changed tables, and those whose
// foreign keys point at them, normalized again), is the fresh plan. No
// whole normalization happens: the cache gains no entry.
func TestPlanAfterAChangeFromTheCache(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	db, _ := pg.ParseURL(u)
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
  primary_key {
    columns = [column.id]
  }
  foreign_key "orders_user" {
    columns     = [column.user_id]
    ref_columns = [table.users.column.id]
  }
}
table "legacy" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`
	after := strings.Replace(strings.Replace(before, `  column "st" {`, "  column \"email\" {\n    type = text\n    null = true\n  }\n  column \"st\" {", 1),
		"table \"legacy\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n}\n", "", 1)
	path := writeSchema(t, before)
	cache := &source.Cache{Dir: t.TempDir()}
	applyPlan(t, u, planWithCache(t, db, path, cache))
	if err := os.WriteFile(path, []byte(after), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := planWithCache(t, db, path, nil)
	cached := planWithCache(t, db, path, cache)
	if !reflect.DeepEqual(fresh.Steps, cached.Steps) || fresh.To.Hash != cached.To.Hash || len(fresh.Unplanned)+len(cached.Unplanned) > 0 {
		t.Fatalf("the plan from the cache differs:\nfresh:\n%s\ncached:\n%s", sqlOf(fresh), sqlOf(cached))
	}
	if !strings.Contains(sqlOf(cached), `ADD COLUMN "email" text NULL`) || !strings.Contains(sqlOf(cached), `DROP TABLE "public"."legacy"`) {
		t.Fatalf("plan:\n%s", sqlOf(cached))
	}
	// The changed files' entry was made on the first one, loading only
	// the table that changed (and stored: applying reads it back).
	entries, _ := filepath.Glob(filepath.Join(cache.Dir, "*.json"))
	made := map[string]string{}
	for _, path := range entries {
		// The entry's JSON line (its realm's and catalog's bytes follow).
		var e struct{ Key, Base string }
		if b, err := os.ReadFile(path); err != nil || json.Unmarshal(bytes.SplitN(b, []byte("\n"), 2)[0], &e) != nil {
			t.Fatalf("cache entry %s: %v", path, err)
		}
		made[e.Key] = e.Base
	}
	var bases []string
	for _, base := range made {
		if _, ok := made[base]; ok {
			bases = append(bases, base)
		}
	}
	if len(made) != 2 || len(bases) != 1 {
		t.Fatalf("cache entries %v: the changed files were normalized whole", made)
	}
	applyPlan(t, u, cached)
	if again := planWithCache(t, db, path, cache); !again.Empty() {
		t.Fatalf("re-plan not empty:\n%s", sqlOf(again))
	}
}

// On a large schema a plan from the cache reads the target's catalog on a
// second connection while the first inspects it: the plan is the same,
// differences only the catalog shows included (a storage parameter set by
// hand). Not parallel: it sets the size from which that happens.
func TestCatalogReadApartPlansTheSame(t *testing.T) {
	u, _ := pgtest.NewDatabase(t)
	db, _ := pg.ParseURL(u)
	path := writeSchema(t, `
schema "public" {}
table "notes" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`)
	cache := &source.Cache{Dir: t.TempDir()}
	applyPlan(t, u, planWithCache(t, db, path, cache))
	pgtest.Exec(t, u, "ALTER TABLE notes SET (fillfactor = 70)")
	alone := planWithCache(t, db, path, cache)
	defer planner.SetManyTables(1)()
	before := planner.CatalogsReadApart()
	apart := planWithCache(t, db, path, cache)
	if planner.CatalogsReadApart() != before+1 {
		t.Fatal("the catalog was not read on a second connection")
	}
	if !reflect.DeepEqual(alone.Steps, apart.Steps) || !strings.Contains(sqlOf(apart), "fillfactor") {
		t.Fatalf("the plans differ, or miss the storage parameter:\none connection:\n%s\ntwo:\n%s", sqlOf(alone), sqlOf(apart))
	}
}
