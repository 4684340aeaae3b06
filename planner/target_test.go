package planner_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/apply"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
	"keel/planner/state"
)

// A plan that read the target records its schema; the next plan of the
// same schemas, with other files (the desired state changed), takes the
// target's schema from the record while the database's catalog is
// unchanged, says so, and is the plan that reads it all again: the same
// statements, fingerprints and catalog. A change by hand (a column, or a
// comment on a constraint, which only PostgreSQL's catalog shows) makes
// the next plan read in full, and plan it away; an apply of a plan from a
// record runs and leaves the desired state. Not parallel: it counts the
// plans records answered.
func TestPlanTakesTheTargetFromARecordOnlyWhileTheCatalogIsUnchanged(t *testing.T) {
	targetRecordScenario(t, false)
}

// The same as a large schema plans: the signature read on a connection of
// its own, the target's catalog on a second one.
func TestLargePlanTakesTheTargetFromARecordOnlyWhileTheCatalogIsUnchanged(t *testing.T) {
	defer planner.SetManyTables(1)()
	targetRecordScenario(t, true)
}

// large says that the schema plans as a large one.
func targetRecordScenario(t *testing.T, large bool) {
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	db, _ := pg.ParseURL(u)
	pgtest.Exec(t, u, `CREATE TABLE "we""ird" (id bigint PRIMARY KEY, "a""b" text CHECK ("a""b" <> ''), at timestamptz DEFAULT now())`,
		`CREATE TABLE owners (id bigint PRIMARY KEY)`,
		`CREATE TABLE notes (id bigint PRIMARY KEY, w bigint REFERENCES owners (id), body text)`,
		`CREATE INDEX notes_body ON notes (body) WHERE body IS NOT NULL`)
	const base = `
schema "public" {}
table "we\"ird" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "a\"b" {
    type = text
    null = true
  }
  column "at" {
    type    = timestamptz
    null    = true
    default = sql("now()")
  }
  primary_key {
    columns = [column.id]
  }
  check "we\"ird_a\"b_check" {
    expr = "(\"a\"\"b\" <> '')"
  }
}
table "owners" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  primary_key {
    columns = [column.id]
  }
}
table "notes" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "w" {
    type = bigint
    null = true
  }
  column "body" {
    type = text
    null = true
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "notes_w_fkey" {
    columns     = [column.w]
    ref_columns = [table.owners.column.id]
  }
  index "notes_body" {
    columns = [column.body]
    where   = "(body IS NOT NULL)"
  }
}
`
	cache := &source.Cache{Dir: t.TempDir()}
	// reread says whether the last plan from a record read some tables
	// again.
	var reread bool
	gen := func(when, hcl string, records bool) (*plan.Plan, bool) {
		t.Helper()
		desired, err := source.LoadHCL(writeSchema(t, hcl))
		if err != nil {
			t.Fatal(err)
		}
		n, r, k := planner.TargetRecords(), planner.TargetRereads(), planner.SignatureConnsTaken()
		p, _, err := planner.Generate(ctx, connOf(t, db), desired, planner.Options{Dev: source.DevDatabase{Cache: cache}, MatchRecords: records})
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		used := planner.TargetRecords() != n
		reread = planner.TargetRereads() != r
		// A large schema reads the tables again in the snapshot of the
		// catalog's signature, on its connection.
		if large && reread && planner.SignatureConnsTaken() == k {
			t.Fatalf("%s: the tables were read again on a connection other than the signature's", when)
		}
		if used != (p.TargetNote() != "") || reread != strings.Contains(p.TargetNote(), "were read again") {
			t.Fatalf("%s: from a record: %t, some tables read again: %t, but the plan's note is %q", when, used, reread, p.TargetNote())
		}
		return p, used
	}
	sqls := func(p *plan.Plan) string {
		var b strings.Builder
		for _, s := range p.Steps {
			b.WriteString(s.SQL + ";\n")
		}
		return b.String()
	}
	// same fails unless a plan from a record is the plan read in full.
	same := func(when string, fromRecord, inFull *plan.Plan) {
		t.Helper()
		if sqls(fromRecord) != sqls(inFull) || fromRecord.From.Hash != inFull.From.Hash || fromRecord.FromRealm != inFull.FromRealm ||
			len(fromRecord.Unplanned) != len(inFull.Unplanned) {
			t.Fatalf("%s: the plan from the record differs from the one read in full:\n%s\n---\n%s", when, sqls(fromRecord), sqls(inFull))
		}
		a, _ := fromRecord.LiveCatalog.(state.Catalog)
		b, _ := inFull.LiveCatalog.(state.Catalog)
		if a == nil || !maps.Equal(a, b) {
			t.Fatalf("%s: the recorded catalog is not the one read in full", when)
		}
	}

	if _, used := gen("first plan", base, true); used {
		t.Fatal("the first plan took the target from a record")
	}
	edited := strings.Replace(base, `  column "body" {`, "  column \"tags\" {\n    type = text\n    null = true\n  }\n  column \"body\" {", 1)
	p, used := gen("after an edit", edited, true)
	if !used {
		t.Fatal("the plan of edited files did not take the target's schema from the record")
	}
	full, _ := gen("read in full", edited, false)
	same("after an edit", p, full)
	if !strings.Contains(sqls(p), `ADD COLUMN "tags" text NULL`) {
		t.Fatalf("plan after an edit:\n%s", sqls(p))
	}

	// A column by hand. As a large schema plans, the first plan, which had
	// no match record to answer from, hashed the tables on a connection
	// of their own while it read the target: its record serves, and the
	// table is read again over it. Otherwise that record, of a plan
	// without statements, has no tables' signatures: the plan reads the
	// target in full, and its record (it has statements) has them.
	pgtest.Exec(t, u, `ALTER TABLE notes ADD COLUMN early int`)
	p, used = gen("a column by hand", edited, true)
	if used != large || reread != large {
		t.Fatalf("after a column by hand: from the record %t, tables read again %t; want %t", used, reread, large)
	}
	full, _ = gen("a column by hand, in full", edited, false)
	same("a column by hand", p, full)
	// By hand: a column, a comment only the catalog shows, a column of a
	// table another refers to, renamed (what the other's foreign key
	// prints changes: it is read again too), a table made and dropped:
	// the next plan reads those tables again over the record. A comment on
	// the schema is no table's: the next plan reads the target in full.
	// Each time the plan is the one read in full, and the plan after it
	// takes the record whole.
	for _, c := range []struct {
		ddl    string
		reread bool
	}{
		{`ALTER TABLE notes ADD COLUMN late int`, true},
		{`ALTER TABLE "we""ird" ADD COLUMN "x""y" int`, true},
		{`COMMENT ON CONSTRAINT notes_w_fkey ON notes IS 'by hand'`, true},
		{`ALTER TABLE owners RENAME COLUMN id TO key`, true},
		{`ALTER TABLE owners RENAME COLUMN key TO id`, true},
		{`CREATE TABLE by_hand (id int REFERENCES owners (id))`, true},
		{`DROP TABLE by_hand`, true},
		{`COMMENT ON SCHEMA public IS 'by hand'`, false},
		{`COMMENT ON SCHEMA public IS NULL`, false},
	} {
		ddl := c.ddl
		pgtest.Exec(t, u, ddl)
		hashedFrom := state.TablesHashedFrom()
		p, used := gen(ddl, edited, true)
		if used != c.reread || reread != c.reread {
			t.Fatalf("after %s: from the record: %t, tables read again: %t; want %t", ddl, used, reread, c.reread)
		}
		// The tables not read again hash as the record's did (same checks
		// the state's fingerprint against the one read in full).
		if reread && state.TablesHashedFrom() == hashedFrom {
			t.Fatalf("after %s: the tables read again over the record were hashed with all the others", ddl)
		}
		full, _ := gen(ddl+", in full", edited, false)
		same(ddl, p, full)
		if again, used := gen(ddl+", again", edited, true); !used || reread {
			t.Fatalf("after %s: the next plan did not take the target from the record whole (from it: %t, read again: %t)", ddl, used, reread)
		} else {
			same(ddl+", again", again, full)
		}
	}
	// A plan to be applied at once that reads tables again over the record
	// does not record them again: the next plan reads them again too.
	pgtest.Exec(t, u, `ALTER TABLE notes ADD COLUMN late2 int`)
	n := planner.TargetRereads()
	if _, _, err := planner.Generate(ctx, connOf(t, db), mustLoad(t, edited), planner.Options{Dev: source.DevDatabase{Cache: cache}, MatchRecords: true, Applying: true}); err != nil {
		t.Fatal(err)
	}
	if planner.TargetRereads() != n+1 {
		t.Fatal("the plan to be applied did not read the changed table again over the record")
	}
	if _, used := gen("after a plan to be applied", edited, true); !used || !reread {
		t.Fatalf("the plan after a plan to be applied: from the record %t, tables read again %t; want both", used, reread)
	}
	if _, used := gen("after that", edited, true); !used || reread {
		t.Fatalf("the plan after that: from the record %t, tables read again %t; want the record whole", used, reread)
	}
	// An apply of a plan from the record.
	p, _, err := planner.Generate(ctx, connOf(t, db), mustLoad(t, edited), planner.Options{Dev: source.DevDatabase{Cache: cache}, MatchRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.TargetNote() == "" {
		t.Fatal("the apply's plan did not take the target from the record")
	}
	if !strings.Contains(sqls(p), `DROP COLUMN "late"`) {
		t.Fatalf("the plan does not drop the column added by hand:\n%s", sqls(p))
	}
	_, want, err := planner.Generate(ctx, connOf(t, db), mustLoad(t, edited), planner.Options{Dev: source.DevDatabase{Cache: cache}})
	if err != nil {
		t.Fatal(err)
	}
	conn := connOf(t, db)
	if err := apply.Apply(ctx, conn, p, want, "test", apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if after, _ := gen("after the apply", edited, false); !after.Matches() {
		t.Fatalf("after the apply the database does not match:\n%s", sqls(after))
	}
}

func mustLoad(t *testing.T, hcl string) source.Desired {
	t.Helper()
	d, err := source.LoadHCL(writeSchema(t, hcl))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// keel's own schema, which the first apply into a database makes (its
// history), is not the target's: the plan after that apply takes the
// target from the record its plan left, reading again only the table it
// changed, and the plan after a change to keel's own rows alone takes the
// record as it is. While a managed view reads keel.history, keel's rows
// count: a column of keel.history renamed (what the view prints changes,
// none of its own rows does) makes the plan read the target in full. Not
// parallel: it counts the plans records answered.
func TestKeelsOwnSchemaLeavesTheTargetRecord(t *testing.T) {
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	db, _ := pg.ParseURL(u)
	pgtest.Exec(t, u, `CREATE TABLE owners (id bigint PRIMARY KEY)`,
		`CREATE TABLE "no""tes" (id bigint PRIMARY KEY, w bigint REFERENCES owners (id), body text)`)
	const edited = `
schema "public" {}
table "owners" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  primary_key {
    columns = [column.id]
  }
}
table "no\"tes" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "w" {
    type = bigint
    null = true
  }
  column "body" {
    type = text
    null = true
  }
  column "tags" {
    type = text
    null = true
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "no\"tes_w_fkey" {
    columns     = [column.w]
    ref_columns = [table.owners.column.id]
  }
}
`
	cache := &source.Cache{Dir: t.TempDir()}
	gen := func(when string, records bool) (p *plan.Plan, used, reread bool) {
		t.Helper()
		n, r := planner.TargetRecords(), planner.TargetRereads()
		p, _, err := planner.Generate(ctx, connOf(t, db), mustLoad(t, edited), planner.Options{Dev: source.DevDatabase{Cache: cache}, MatchRecords: records})
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		return p, planner.TargetRecords() != n, planner.TargetRereads() != r
	}
	same := func(when string, fromRecord, inFull *plan.Plan) {
		t.Helper()
		a, _ := fromRecord.LiveCatalog.(state.Catalog)
		b, _ := inFull.LiveCatalog.(state.Catalog)
		if fromRecord.From.Hash != inFull.From.Hash || len(fromRecord.Steps) != len(inFull.Steps) || a == nil || !maps.Equal(a, b) {
			t.Fatalf("%s: the plan from the record differs from the one read in full", when)
		}
	}
	// The first apply: its plan reads the target and records it (with the
	// tables' signatures: it has statements); the apply makes keel's
	// schema and adds the column.
	p, want, err := planner.Generate(ctx, connOf(t, db), mustLoad(t, edited), planner.Options{Dev: source.DevDatabase{Cache: cache}, MatchRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.Apply(ctx, connOf(t, db), p, want, "test", apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, u, `ALTER TABLE "no""tes" ADD COLUMN by_hand int`)
	p, used, reread := gen("after the first apply", true)
	if !used || !reread || p.TargetReread != 1 {
		t.Fatalf("after the first apply: from the record %t, tables read again %t (%d); want the one table read again over the record", used, reread, p.TargetReread)
	}
	full, _, _ := gen("after the first apply, in full", false)
	same("after the first apply", p, full)
	if !strings.Contains(p.TargetNote(), "but keel's own") {
		t.Fatalf("the plan's note does not say keel's own rows may have changed: %q", p.TargetNote())
	}
	// keel's own rows alone: the record as it is, then recorded again.
	pgtest.Exec(t, u, `COMMENT ON TABLE keel.history IS 'by hand'`)
	if p, used, reread = gen("after a comment on keel.history", true); !used || reread {
		t.Fatalf("after a comment on keel.history: from the record %t, tables read again %t; want the record as it is", used, reread)
	}
	full, _, _ = gen("after a comment on keel.history, in full", false)
	same("after a comment on keel.history", p, full)
	if _, used, reread = gen("after that", true); !used || reread {
		t.Fatalf("the plan after that: from the record %t, tables read again %t; want the record as it is", used, reread)
	}
	// A managed view over keel.history: its rows are new, so the target is
	// read in full; then keel's rows count.
	pgtest.Exec(t, u, `CREATE VIEW public.applies AS SELECT id, env FROM keel.history`)
	if _, used, _ = gen("after a view over keel.history", true); used {
		t.Fatal("the plan after a view over keel.history was made took the target from the record")
	}
	if _, used, _ = gen("after that", true); !used {
		t.Fatal("the plan after that did not take the target from the record")
	}
	pgtest.Exec(t, u, `ALTER TABLE keel.history RENAME COLUMN env TO env_by_hand`)
	p, used, _ = gen("after a column of keel.history renamed", true)
	full, _, _ = gen("after a column of keel.history renamed, in full", false)
	if used {
		t.Fatal("with a view over keel.history, the plan after a column of it was renamed took the target from the record")
	}
	same("after a column of keel.history renamed", p, full)
	pgtest.Exec(t, u, `ALTER TABLE keel.history RENAME COLUMN env_by_hand TO env`, `DROP VIEW public.applies`)
}
