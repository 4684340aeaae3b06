package planner_test

import (
	"context"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/source"
	"keel/planner/state"
)

// extTypesHCL uses extension types by name, one extension in its own schema.
const extTypesHCL = `
schema "public" {}
schema "ext" {}
extension "citext" {
  schema = schema.public
}
extension "hstore" {
  schema = schema.ext
}
extension "ltree" {}
table "pages" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "email" {
    type = citext
  }
  column "attrs" {
    type = hstore
    null = true
  }
  column "path" {
    type = ltree
  }
  column "aliases" {
    type = sql("citext[]")
    null = true
  }
  column "title" {
    type = sql("citext")
    null = true
  }
  primary_key {
    columns = [column.id]
  }
  index "pages_path" {
    type    = GIST
    columns = [column.path]
  }
}
`

func TestExtensionTypesByNameAndInspectRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	first := planFor(t, u, writeSchema(t, extTypesHCL))
	applyPlan(t, u, first)
	for col, want := range map[string]string{"email": "citext", "attrs": "ext.hstore", "path": "ltree", "aliases": "citext[]"} {
		got := pgtest.QueryValue[string](t, u, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'public.pages'::regclass AND attname = $1", col)
		if got != want {
			t.Errorf("column %s has type %s, want %s", col, got, want)
		}
	}
	if again := planFor(t, u, writeSchema(t, extTypesHCL)); !again.Empty() {
		t.Fatalf("re-plan is not empty:\n%s", sqlOf(again))
	}

	db, _ := pg.ParseURL(u)
	st, err := inspect.Inspect(ctx, connOf(t, db), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := state.MarshalHCL(st)
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{`extension "citext"`, `extension "hstore"`, "schema  = schema.ext", `version = "`,
		"type = citext\n", "type = hstore\n", "type = ltree\n", `type = sql("public.citext[]")`} {
		if !strings.Contains(text, want) {
			t.Errorf("inspected HCL lacks %q:\n%s", want, text)
		}
	}
	inspected := writeSchema(t, text)
	if p := planFor(t, u, inspected); !p.Empty() {
		t.Fatalf("planning the inspected HCL against its own database is not empty:\n%s\nHCL:\n%s", sqlOf(p), text)
	}

	// Applied to an empty database, the inspected HCL gives one that plans
	// nothing against the original.
	copyURL, _ := pgtest.NewDatabase(t)
	applyPlan(t, copyURL, planFor(t, copyURL, inspected))
	original := &source.Database{DB: db}
	cp, _ := pg.ParseURL(copyURL)
	p, _, err := planner.Generate(ctx, connOf(t, cp), original, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() {
		t.Fatalf("the copy differs from the original:\n%s", sqlOf(p))
	}
}

func TestExtensionTypeNeedsItsExtension(t *testing.T) {
	_, err := source.LoadHCL(writeSchema(t, `
schema "public" {}
table "t" {
  schema = schema.public
  column "email" {
    type = citext
  }
}
`))
	if err == nil || !strings.Contains(err.Error(), `extension "citext" {}`) || !strings.Contains(err.Error(), "schema.hcl:6") {
		t.Fatalf("error = %v, want one naming the line and saying to declare extension \"citext\"", err)
	}
}
