package planner_test

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// A child table declared with inherits, named before its parent (c before
// p): applied to an empty database, it is created with INHERITS after its
// parent, with its own column only in its CREATE TABLE; the state re-plans
// empty.
func TestInheritsInHCL(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, inheritsHCL)
	p := planFor(t, u, path)
	if len(p.Unplanned) > 0 {
		t.Fatalf("differences keel does not plan: %+v\n%s", p.Unplanned, sqlOf(p))
	}
	sql := sqlOf(p)
	child := strings.Index(sql, `CREATE TABLE "public"."c" ("b" text NULL) INHERITS ("public"."p")`)
	if parent := strings.Index(sql, `CREATE TABLE "public"."p"`); child < 0 || parent < 0 || child < parent {
		t.Fatalf("plan:\n%s\nwant p created, then c with INHERITS", sql)
	}
	applyPlan(t, u, p)
	if n := pgtest.QueryValue[int64](t, u, "SELECT count(*) FROM pg_inherits WHERE inhrelid = 'c'::regclass AND inhparent = 'p'::regclass"); n != 1 {
		t.Fatalf("c does not inherit from p")
	}
	if n := pgtest.QueryValue[int64](t, u, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'c'::regclass AND attname = 'a' AND attinhcount = 1 AND NOT attislocal"); n != 1 {
		t.Fatalf("c's column a is not inherited only")
	}
	if again := planFor(t, u, path); !again.Matches() {
		t.Fatalf("re-plan after apply: %d statements, differences %+v:\n%s", len(again.Steps), again.Unplanned, sqlOf(again))
	}
}

// A chain of new tables whose names sort against the order PostgreSQL
// needs: a inherits from c, which inherits from p, and b references a.
// The plan creates p, c, a, then b, and applies.
func TestInheritsChainOrdered(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, inheritsHCL+`table "a" {
  schema   = schema.public
  inherits = [table.c]
  column "id" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
}
table "b" {
  schema = schema.public
  column "a_id" {
    type = int
  }
  foreign_key "b_a" {
    columns     = [column.a_id]
    ref_columns = [table.a.column.id]
  }
}
`)
	p := planFor(t, u, path)
	sql := sqlOf(p)
	last := -1
	for _, name := range []string{"p", "c", "a", "b"} {
		at := strings.Index(sql, `CREATE TABLE "public"."`+name+`"`)
		if at < last {
			t.Fatalf("plan:\n%s\nwant p, c, a, b created in that order", sql)
		}
		last = at
	}
	applyPlan(t, u, p)
	if n := pgtest.QueryValue[int64](t, u, "SELECT count(*) FROM pg_inherits WHERE inhrelid = 'a'::regclass AND inhparent = 'c'::regclass"); n != 1 {
		t.Fatalf("a does not inherit from c")
	}
	if again := planFor(t, u, path); !again.Matches() {
		t.Fatalf("re-plan after apply: %d statements, differences %+v:\n%s", len(again.Steps), again.Unplanned, sqlOf(again))
	}
}

// Once the database has the tables (made with SQL), the HCL re-plans
// empty.
func TestInheritsMadeWithSQL(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	path := writeSchema(t, inheritsHCL)
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
