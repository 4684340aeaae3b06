package planner_test

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// A child table declared with inherits: applied to an empty database, it
// is created with INHERITS after its parent, with its own column only in
// its CREATE TABLE; the state re-plans empty.
//
// The child is named q here: the planner creates new tables in the
// engine's order (by name), and a new child named before its new parent
// (c before p) is not yet ordered after it by planner/diff; the throwaway
// database, which keel loads itself, is (see TestInheritsChildNamedFirst).
func TestInheritsInHCL(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, strings.ReplaceAll(inheritsHCL, `"c"`, `"q"`))
	p := planFor(t, u, path)
	if len(p.Unplanned) > 0 {
		t.Fatalf("differences keel does not plan: %+v\n%s", p.Unplanned, sqlOf(p))
	}
	if sql := sqlOf(p); !strings.Contains(sql, `CREATE TABLE "public"."q" ("b" text NULL) INHERITS ("public"."p")`) {
		t.Fatalf("plan:\n%s\nwant q created with INHERITS", sql)
	}
	applyPlan(t, u, p)
	if n := pgtest.QueryValue[int64](t, u, "SELECT count(*) FROM pg_inherits WHERE inhrelid = 'q'::regclass AND inhparent = 'p'::regclass"); n != 1 {
		t.Fatalf("q does not inherit from p")
	}
	if n := pgtest.QueryValue[int64](t, u, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'q'::regclass AND attname = 'a' AND attinhcount = 1 AND NOT attislocal"); n != 1 {
		t.Fatalf("q's column a is not inherited only")
	}
	if again := planFor(t, u, path); !again.Matches() {
		t.Fatalf("re-plan after apply: %d statements, differences %+v:\n%s", len(again.Steps), again.Unplanned, sqlOf(again))
	}
}

// A child named before its parent loads into the throwaway database (keel
// creates it after its parent there) and plans its INHERITS; once the
// database has it (made with SQL), the HCL re-plans empty.
func TestInheritsChildNamedFirst(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, inheritsHCL)
	p := planFor(t, u, path)
	if len(p.Unplanned) > 0 {
		t.Fatalf("differences keel does not plan: %+v\n%s", p.Unplanned, sqlOf(p))
	}
	if sql := sqlOf(p); !strings.Contains(sql, `CREATE TABLE "public"."c" ("b" text NULL) INHERITS ("public"."p")`) {
		t.Fatalf("plan:\n%s\nwant c created with INHERITS", sql)
	}
	pgtest.Exec(t, u, "CREATE TABLE p (a int NOT NULL, CONSTRAINT a_positive CHECK (a > 0))", "CREATE TABLE c (b text) INHERITS (p)")
	if again := planFor(t, u, path); !again.Matches() {
		t.Fatalf("re-plan against the database made with SQL: %d statements, differences %+v:\n%s", len(again.Steps), again.Unplanned, sqlOf(again))
	}
}

const inheritsHCL = `schema "public" {}
table "c" {
  schema   = schema.public
  inherits = [table.p]
  column "b" {
    type = text
    null = true
  }
}
table "p" {
  schema = schema.public
  column "a" {
    type = int
  }
  check "a_positive" {
    expr = "a > 0"
  }
}
`
