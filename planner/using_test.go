package planner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/apply"
	"keel/planner/plan"
	"keel/planner/source"
)

// usingSchema is a table whose text column n becomes an integer; using is
// the column's using attribute ("" for none).
func usingSchema(using string) string {
	attr := ""
	if using != "" {
		attr = "\n    using = " + `"` + using + `"`
	}
	return `schema "public" {}
table "t" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "n" {
    type = int` + attr + `
  }
  primary_key {
    columns = [column.id]
  }
}
`
}

// A column's using attribute is the conversion of its type change: text
// that PostgreSQL does not convert to integer on its own is converted
// with it, the values are kept, and the plan then matches (also when the
// desired state comes from the normalization cache). Without it, the plan
// says it will fail, and applying it fails and changes nothing.
func TestUsingConvertsAColumn(t *testing.T) {
	t.Parallel()
	setup := []string{"CREATE TABLE t (id int PRIMARY KEY, n text NOT NULL)", "INSERT INTO t VALUES (1, ' 1'), (2, '2 ')"}

	t.Run("without using", func(t *testing.T) {
		t.Parallel()
		u, _ := pgtest.NewDatabase(t)
		pgtest.Exec(t, u, setup...)
		p := planFor(t, u, writeSchema(t, usingSchema("")))
		if h := hazardOf(p, plan.HazardMayFail); h == nil || h.Severity != plan.SeverityDanger || !strings.Contains(h.Message, "give the column a using attribute") {
			t.Fatalf("hazards %+v, want a danger may-fail that names the using attribute", p.Hazards())
		}
		if strings.Contains(sqlOf(p), "USING") {
			t.Fatalf("the plan converts without a using attribute:\n%s", sqlOf(p))
		}
		err := apply.Apply(context.Background(), connOf(t, parseURL(t, u)), p, nil, "test", apply.ApplyOptions{})
		if err == nil || !strings.Contains(err.Error(), "42804") {
			t.Fatalf("apply: %v, want PostgreSQL's refusal (42804)", err)
		}
		if typ := pgtest.QueryValue[string](t, u, "SELECT data_type FROM information_schema.columns WHERE table_name = 't' AND column_name = 'n'"); typ != "text" {
			t.Fatalf("the column is %s after a failed apply, want text", typ)
		}
	})

	for _, cached := range []bool{false, true} {
		name := "normalized"
		if cached {
			name = "from the cache"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u, _ := pgtest.NewDatabase(t)
			pgtest.Exec(t, u, setup...)
			path := writeSchema(t, usingSchema("trim(n)::integer"))
			var cache *source.Cache
			if cached {
				cache = &source.Cache{Dir: t.TempDir()}
				// A first plan fills the cache; the one applied reads it.
				planWithCache(t, parseURL(t, u), path, cache)
				entries, _ := filepath.Glob(filepath.Join(cache.Dir, "*.json"))
				if len(entries) != 1 {
					t.Fatalf("want one cache entry, found %v", entries)
				}
				if b, err := os.ReadFile(entries[0]); err != nil || !strings.Contains(string(b), `"expr":"trim(n)::integer"`) {
					t.Fatalf("the cache entry does not keep the conversion (%v):\n%s", err, b)
				}
			}
			p := planWithCache(t, parseURL(t, u), path, cache)
			if !strings.Contains(sqlOf(p), `ALTER COLUMN "n" TYPE integer USING trim(n)::integer`) {
				t.Fatalf("the plan does not convert with the using expression:\n%s", sqlOf(p))
			}
			if h := hazardOf(p, plan.HazardMayFail); h == nil || !strings.Contains(h.Message, "using expression (USING trim(n)::integer)") {
				t.Fatalf("hazards %+v, want a may-fail that names the using expression", p.Hazards())
			}
			applyPlan(t, u, p)
			if sum := pgtest.QueryValue[int64](t, u, "SELECT sum(n) FROM t"); sum != 3 {
				t.Fatalf("the values sum to %d after the conversion, want 3", sum)
			}
			if again := planWithCache(t, parseURL(t, u), path, cache); !again.Matches() || !again.Empty() {
				t.Fatalf("after apply: %d statements, differences %+v:\n%s", len(again.Steps), again.Unplanned, sqlOf(again))
			}
		})
	}
}

// A using attribute does nothing to a column whose type does not change,
// not even when its collation does.
func TestUsingOnlyForATypeChange(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, `CREATE TABLE t (n text COLLATE "C")`)
	p := planFor(t, u, writeSchema(t, `schema "public" {}
table "t" {
  schema = schema.public
  column "n" {
    type  = text
    null  = true
    using = "upper(n)"
  }
}
`))
	if out := sqlOf(p); !strings.Contains(out, `ALTER COLUMN "n" TYPE text`) || strings.Contains(out, "USING") {
		t.Fatalf("want the collation changed, without the using expression:\n%s", out)
	}
}
