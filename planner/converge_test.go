package planner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/apply"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/render"
	"keel/planner/source"
)

// convergeCase is a desired state that, once applied, must plan no changes.
type convergeCase struct {
	name string
	hcl  string
	// check is a query on the applied database that must return true.
	check string
}

var convergeCases = []convergeCase{
	{
		name: "defaults calling extension functions, casts and now()",
		hcl: `
schema "public" {}
extension "uuid-ossp" {
  schema = schema.public
}
table "events" {
  schema = schema.public
  column "id" {
    type    = uuid
    default = sql("uuid_generate_v4()")
  }
  column "ns_id" {
    type    = uuid
    default = sql("uuid_generate_v5(uuid_ns_url(), 'keel')")
  }
  column "payload" {
    type    = jsonb
    default = sql("'{}'::jsonb")
  }
  column "tags" {
    type    = sql("text[]")
    default = sql("'{}'::text[]")
  }
  column "at" {
    type    = timestamptz
    default = sql("now()")
  }
  column "expires_at" {
    type    = timestamptz
    default = sql("now() + interval '1 day'")
  }
  column "day" {
    type    = date
    default = sql("CURRENT_DATE")
  }
  column "amount" {
    type    = numeric(10, 2)
    default = 0
  }
  column "note" {
    type    = varchar(20)
    default = "none"
  }
}
`,
		check: "SELECT column_default LIKE '%uuid_generate_v4()%' FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'id'",
	},
	{
		name: "enum-typed partial indexes",
		hcl: `
schema "public" {}
enum "status" {
  schema = schema.public
  values = ["open", "paid", "void"]
}
table "invoices" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "status" {
    type = enum.status
  }
  column "due" {
    type = date
  }
  index "invoices_unpaid" {
    columns = [column.due]
    where   = "status <> 'paid'"
  }
  index "invoices_open_or_void" {
    columns = [column.id]
    where   = "status IN ('open', 'void')"
  }
}
`,
		check: "SELECT pg_get_indexdef('invoices_unpaid'::regclass) LIKE '%WHERE%paid%'",
	},
	{
		name: "identity columns",
		hcl: `
schema "public" {}
table "tickets" {
  schema = schema.public
  column "id" {
    type = bigint
    identity {
      generated = ALWAYS
      start     = 1000
      increment = 10
    }
  }
  column "seq" {
    type = int
    identity {
      generated = BY_DEFAULT
    }
  }
  primary_key {
    columns = [column.id]
  }
}
`,
		check: "SELECT is_identity = 'YES' AND identity_generation = 'ALWAYS' AND identity_start = '1000' FROM information_schema.columns WHERE table_name = 'tickets' AND column_name = 'id'",
	},
	{
		name: "a type from an extension",
		hcl: `
schema "public" {}
extension "citext" {
  schema = schema.public
}
table "people" {
  schema = schema.public
  column "email" {
    type = sql("citext")
  }
  column "aliases" {
    type = sql("citext[]")
    null = true
  }
  index "people_email_key" {
    unique  = true
    columns = [column.email]
  }
}
`,
		check: "SELECT format_type(atttypid, atttypmod) = 'citext' FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'email'",
	},
	{
		name: "two schemas with a cross-schema foreign key",
		hcl: `
schema "public" {}
schema "billing" {
  comment = "Money matters."
}
table "customers" {
  schema = schema.public
  column "id" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
}
table "invoices" {
  schema = schema.billing
  column "id" {
    type = int
  }
  column "customer_id" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "invoices_customer_fk" {
    columns     = [column.customer_id]
    ref_columns = [table.customers.column.id]
    on_delete   = SET_NULL
    on_update   = CASCADE
  }
}
`,
		check: "SELECT count(*) = 1 FROM pg_constraint WHERE conname = 'invoices_customer_fk' AND confrelid = 'public.customers'::regclass",
	},
	{
		name: "comments",
		hcl: `
schema "public" {
  comment = "standard public schema"
}
table "notes" {
  schema  = schema.public
  comment = "It's a table."
  column "body" {
    type    = text
    comment = "The note's text."
  }
  index "notes_body_idx" {
    columns = [column.body]
    comment = "Search by body."
  }
}
`,
		check: "SELECT obj_description('notes'::regclass, 'pg_class') = 'It''s a table.'",
	},
	{
		name: "extension in its own schema, version pinned",
		hcl: `
schema "public" {}
schema "extensions" {}
extension "pg_trgm" {
  schema  = schema.extensions
  version = "1.6"
}
table "docs" {
  schema = schema.public
  column "title" {
    type = text
  }
  index "docs_title_trgm" {
    type = GIN
    on {
      column = column.title
      ops    = sql("extensions.gin_trgm_ops")
    }
  }
}
`,
		check: "SELECT extversion = '1.6' AND extnamespace = 'extensions'::regnamespace FROM pg_extension WHERE extname = 'pg_trgm'",
	},
	{
		name: "checks, uniques and foreign keys with actions",
		hcl: `
schema "public" {}
table "parents" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "code" {
    type = char(3)
  }
  primary_key {
    columns = [column.id]
  }
  index "parents_code_lower" {
    unique = true
    on {
      expr = "lower((code)::text)"
    }
  }
  check "code_upper" {
    expr = "code = upper(code)"
  }
}
table "children" {
  schema = schema.public
  column "parent_id" {
    type = int
    null = true
  }
  column "qty" {
    type = smallint
  }
  foreign_key "children_parent_fk" {
    columns     = [column.parent_id]
    ref_columns = [table.parents.column.id]
    on_delete   = CASCADE
  }
  check "qty_range" {
    expr = "qty BETWEEN 1 AND 100"
  }
}
`,
		check: "SELECT count(*) = 2 FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace",
	},
}

func writeSchema(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "schema.hcl")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// planFor loads the desired state and plans it against the database.
func planFor(t *testing.T, dbURL, hclPath string) *plan.Plan {
	t.Helper()
	desired, err := source.LoadHCL(hclPath)
	if err != nil {
		t.Fatal(err)
	}
	return generate(t, dbURL, desired)
}

func applyPlan(t *testing.T, dbURL string, p *plan.Plan) {
	t.Helper()
	db, err := pg.ParseURL(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.Apply(context.Background(), connOf(t, db), p, nil, "test", apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
}

func sqlOf(p *plan.Plan) string {
	var b strings.Builder
	_ = render.SQL(&b, p)
	return b.String()
}

func TestConvergence(t *testing.T) {
	for _, tc := range convergeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, _ := pgtest.NewDatabase(t)
			path := writeSchema(t, tc.hcl)
			first := planFor(t, u, path)
			if first.Empty() {
				t.Fatal("the first plan on an empty database is empty")
			}
			applyPlan(t, u, first)
			if !pgtest.QueryValue[bool](t, u, tc.check) {
				t.Fatalf("after apply, %s is false; plan was:\n%s", tc.check, sqlOf(first))
			}
			if again := planFor(t, u, path); !again.Empty() {
				t.Fatalf("re-plan is not empty:\n%s\nfirst plan was:\n%s", sqlOf(again), sqlOf(first))
			}
		})
	}
}
