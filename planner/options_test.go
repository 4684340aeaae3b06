package planner_test

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// optionsSchema has foreign keys and a check with keel's not_valid, match
// and on_delete_set_columns, and indexes with storage_params; with
// options false, the same without them.
func optionsSchema(options bool) string {
	opt := func(s string) string {
		if options {
			return s
		}
		return ""
	}
	return `schema "public" {}
table "p" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "x" {
    type = int
  }
  primary_key {
    columns = [column.id, column.x]
  }
}
table "t" {
  schema = schema.public
  column "a" {
    type = int
    null = true
  }
  column "b" {
    type = int
    null = true
  }
  column "c" {
    type = text
    null = true
  }
  foreign_key "t_ab_fk" {
    columns     = [column.a, column.b]
    ref_columns = [table.p.column.id, table.p.column.x]
    on_delete   = SET_NULL
` + opt(`    match                 = FULL
    on_delete_set_columns = [column.b]
    deferrable            = true
    not_valid             = true
`) + `  }
  check "t_a_chk" {
    expr = "a > 0"
` + opt(`    not_valid = true
`) + `  }
  index "t_c_idx" {
    columns = [column.c]
` + opt(`    storage_params = { fillfactor = 50, deduplicate_items = false }
`) + `  }
  index "t_b_brin" {
    columns        = [column.b]
    type           = BRIN
    page_per_range = 16
` + opt(`    storage_params = { autosummarize = true }
`) + `  }
  index "t_c_gin" {
    type = GIN
    on {
      expr = "to_tsvector('simple', c)"
    }
` + opt(`    storage_params = { fastupdate = false }
`) + `  }
}
`
}

// optionsCheck is true where the database has what optionsSchema(true)
// says.
const optionsCheck = `SELECT
  (SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 't_ab_fk') LIKE 'FOREIGN KEY (a, b) REFERENCES %p(id, x) MATCH FULL ON DELETE SET NULL (b) DEFERRABLE NOT VALID'
  AND (SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 't_a_chk') = 'CHECK ((a > 0)) NOT VALID'
  AND pg_get_indexdef('t_c_idx'::regclass) LIKE '%WITH (fillfactor=''50'', deduplicate_items=''false'')'
  AND pg_get_indexdef('t_b_brin'::regclass) LIKE '%WITH (autosummarize=''true'', pages_per_range=''16'')'
  AND pg_get_indexdef('t_c_gin'::regclass) LIKE '%WITH (fastupdate=''false'')'`

// Constraint options and index storage parameters are planned, whether
// the table is new or they are added to one that exists, and taken away
// again; each time the database then matches.
func TestConstraintOptionsAndIndexStorage(t *testing.T) {
	t.Parallel()
	with, without := writeSchema(t, optionsSchema(true)), writeSchema(t, optionsSchema(false))
	converge := func(t *testing.T, u, path string) {
		t.Helper()
		p := planFor(t, u, path)
		applyPlan(t, u, p)
		if again := planFor(t, u, path); !again.Matches() || !again.Empty() {
			t.Fatalf("after apply: %d statements, differences %+v:\n%s\nfirst plan:\n%s", len(again.Steps), again.Unplanned, sqlOf(again), sqlOf(p))
		}
	}
	t.Run("new tables", func(t *testing.T) {
		t.Parallel()
		u, _ := pgtest.NewDatabase(t)
		converge(t, u, with)
		if !pgtest.QueryValue[bool](t, u, optionsCheck) {
			t.Fatal("the database lacks the options")
		}
	})
	t.Run("added and removed", func(t *testing.T) {
		t.Parallel()
		u, _ := pgtest.NewDatabase(t)
		converge(t, u, without)
		pgtest.Exec(t, u, "INSERT INTO p VALUES (1, 1)", "INSERT INTO t VALUES (1, 1, 'x')")
		converge(t, u, with)
		if !pgtest.QueryValue[bool](t, u, optionsCheck) {
			t.Fatal("the database lacks the options")
		}
		converge(t, u, without)
		if def := pgtest.QueryValue[string](t, u, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 't_ab_fk'"); strings.Contains(def, "MATCH") || strings.Contains(def, "NOT VALID") {
			t.Fatalf("the foreign key keeps its options: %s", def)
		}
	})
}
