package planner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
)

// A plan that found a match answers the next plan of the same files while
// the database's catalog is unchanged, and only then: a change elsewhere
// in the database (a comment on another schema) makes the next plan check
// in full, a column added by hand is planned away, a schema recorded in
// keel.managed_schemas by a data change alone is dropped. The plan from a
// record is the one that verified the match (a table and a column whose
// names hold a double quote included). The first match is
// recorded under the signature read on a connection of its own (as for a
// large schema, when no record is there yet), and looked up with the one
// read on the plan's connection: they agree. (Not parallel: it sets the
// size of a large schema.)
func TestPlanAnswersFromAMatchRecordOnlyWhileTheCatalogIsUnchanged(t *testing.T) {
	defer planner.SetManyTables(1)()
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	db, _ := pg.ParseURL(u)
	pgtest.Exec(t, u, "CREATE SCHEMA old", "CREATE TABLE old.kept (id int)")
	path := writeSchema(t, `
schema "public" {}
table "notes" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "body" {
    type = text
    null = true
  }
  primary_key {
    columns = [column.id]
  }
  index "notes_body_idx" {
    columns = [column.body]
  }
}
table "we\"ird" {
  schema = schema.public
  column "a\"b" {
    type = int
    null = true
  }
}
`)
	desired, err := source.LoadHCL(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := planner.Options{Dev: source.DevDatabase{Cache: &source.Cache{Dir: t.TempDir()}}, MatchRecords: true}
	// gen plans; recorded says whether a match record answered.
	gen := func(when string) (p *plan.Plan, recorded bool) {
		t.Helper()
		n := planner.MatchRecords()
		p, _, err := planner.Generate(ctx, connOf(t, db), desired, opts)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		recorded = planner.MatchRecords() != n
		if recorded != (p.MatchNote() != "") {
			t.Fatalf("%s: answered from a record: %t, but the plan's note is %q", when, recorded, p.MatchNote())
		}
		return p, recorded
	}
	// matches plans twice: the first checks in full and finds the match,
	// the second answers from its record with the same plan.
	matches := func(when string) {
		t.Helper()
		full, recorded := gen(when)
		if recorded || !full.Matches() {
			t.Fatalf("%s: want a match checked in full; from a record: %t, plan:\n%s", when, recorded, sqlOf(full))
		}
		again, recorded := gen(when + ", again")
		if !recorded || !again.Matches() {
			t.Fatalf("%s, again: want the match from its record; from a record: %t, plan:\n%s", when, recorded, sqlOf(again))
		}
		a, _ := json.Marshal(full)
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: the plan from the record differs from the one that verified the match:\n%s\n%s", when, a, b)
		}
	}

	first, recorded := gen("first plan")
	if recorded || first.Matches() {
		t.Fatalf("the first plan, of an empty schema, matched (from a record: %t)", recorded)
	}
	applyPlan(t, u, first)
	apart := planner.SignaturesReadApart()
	matches("after apply")
	if planner.SignaturesReadApart() == apart {
		t.Fatal("the plan that found the first match did not read the catalog's signature on a connection of its own")
	}

	// Another schema's comment: the catalog changed, the match stands.
	pgtest.Exec(t, u, "COMMENT ON SCHEMA old IS 'kept by hand'")
	matches("after a comment on another schema")

	// A column added by hand: planned away, not answered from the record.
	pgtest.Exec(t, u, "ALTER TABLE notes ADD COLUMN extra int")
	p, recorded := gen("after a column was added")
	if recorded || !strings.Contains(sqlOf(p), `DROP COLUMN "extra"`) {
		t.Fatalf("after a column was added by hand: from a record: %t, want the column dropped:\n%s", recorded, sqlOf(p))
	}
	pgtest.Exec(t, u, "ALTER TABLE notes DROP COLUMN extra")
	matches("after the column was dropped again")

	// The desired index dropped by hand, and made again while a plan
	// reads the database (after it read the signature): that plan finds a
	// match in what it read, a state other than the signature's, so it
	// records nothing; once the index is dropped again (the catalog as at
	// that signature), the next plan creates it.
	pgtest.Exec(t, u, "DROP INDEX notes_body_idx")
	func() {
		defer planner.SetAfterSignature(func() { pgtest.Exec(t, u, "CREATE INDEX notes_body_idx ON notes (body)") })()
		if p, recorded := gen("with the desired index made while it read"); recorded || !p.Matches() {
			t.Fatalf("with the desired index made while the plan read: from a record: %t, want a match read in full:\n%s", recorded, sqlOf(p))
		}
	}()
	pgtest.Exec(t, u, "DROP INDEX notes_body_idx")
	if p, recorded := gen("after the index made while a plan read was dropped again"); recorded || !strings.Contains(sqlOf(p), `CREATE INDEX "notes_body_idx"`) {
		t.Fatalf("after the desired index made while a plan read was dropped again: from a record: %t, want it created:\n%s", recorded, sqlOf(p))
	}
	pgtest.Exec(t, u, "CREATE INDEX notes_body_idx ON notes (body)")
	matches("after the index was made again")

	// A schema recorded as managed, by a row alone (no DDL): dropped.
	pgtest.Exec(t, u, "INSERT INTO keel.managed_schemas (name) VALUES ('old')")
	p, recorded = gen("after old was recorded as managed")
	if recorded || !strings.Contains(sqlOf(p), `DROP SCHEMA "old"`) {
		t.Fatalf("after schema old was recorded in keel.managed_schemas: from a record: %t, want it dropped:\n%s", recorded, sqlOf(p))
	}
}

// A copy of planned files (another checkout, a cache restored on a CI
// runner) is answered from the match record of the same bytes, and its
// first change is normalized from the cache's entry for them, only the
// changed table loaded, as at the paths the entry was made for. (Not
// parallel: it counts loads of the process.)
func TestCopiedFilesMatchThenChangeFromTheEntry(t *testing.T) {
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	db, _ := pg.ParseURL(u)
	const body = `
schema "public" {}
table "a" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  primary_key {
    columns = [column.id]
  }
}
table "b" {
  schema = schema.public
  column "id" {
    type = bigint
  }
}
`
	opts := planner.Options{Dev: source.DevDatabase{Cache: &source.Cache{Dir: t.TempDir()}}, MatchRecords: true}
	gen := func(path string) *plan.Plan {
		t.Helper()
		desired, err := source.LoadHCL(path)
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := planner.Generate(ctx, connOf(t, db), desired, opts)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	orig := writeSchema(t, body)
	applyPlan(t, u, gen(orig))
	if p := gen(orig); !p.Matches() {
		t.Fatalf("after apply:\n%s", sqlOf(p))
	}
	copied := writeSchema(t, body)
	n := planner.MatchRecords()
	if p := gen(copied); !p.Matches() || planner.MatchRecords() == n {
		t.Fatalf("the copy: from a record: %t, plan:\n%s", planner.MatchRecords() != n, sqlOf(gen(copied)))
	}
	edited := strings.Replace(body, "table \"b\" {\n  schema = schema.public\n", "table \"b\" {\n  schema = schema.public\n  column \"note\" {\n    type = text\n    null = true\n  }\n", 1)
	if err := os.WriteFile(copied, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	c := source.ChangedLoads()
	p := gen(copied)
	if !strings.Contains(sqlOf(p), `ADD COLUMN "note"`) {
		t.Fatalf("the edited copy's plan:\n%s", sqlOf(p))
	}
	if source.ChangedLoads() == c {
		t.Fatal("the edited copy was normalized whole, not from the entry of its earlier bytes")
	}
}
