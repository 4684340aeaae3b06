package state

import (
	"errors"
	"strings"
	"testing"
)

func TestStrictGrammar(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // each must appear in the error; none: no error
	}{
		{"typos", `schema "public" {}
table "t" {
  schema = schema.public
  colum "a" {
    type = int
  }
  column "b" {
    type    = int
    defualt = 5
    nul     = true
  }
  primry_key {
    columns = [column.b]
  }
}
`, []string{
			`s.hcl:4:3: unknown block "colum" in table "t"; did you mean "column"?`,
			`s.hcl:9:5: unknown attribute "defualt" in table "t", column "b"; did you mean "default"?`,
			`s.hcl:10:5: unknown attribute "nul" in table "t", column "b"; did you mean "null"?`,
			`s.hcl:12:3: unknown block "primry_key" in table "t"; did you mean "primary_key"?`,
		}},
		{"blocks keel does not manage yet", `schema "public" {}
aggregate "v" {
  schema = schema.public
  as     = "SELECT 1"
}
event_trigger "f" {}
table "t" {
  schema = schema.public
  column "a" {
    type = int
  }
  exclude "no_overlap" {}
}
`, []string{
			"s.hcl:2:1: aggregate blocks are not supported yet",
			"s.hcl:6:1: event trigger blocks are not supported yet",
			`s.hcl:12:3: exclusion constraints are not supported yet in table "t"`,
		}},
		{"shapes", `schema "public" {}
schema "a" "b" {}
table "t" {
  schema = schema.public
  comment {
  }
  column "a" {
    type = int
    identity = true
  }
}
wat "x" {}
`, []string{
			"s.hcl:2:1: a schema block takes one label, not 2",
			"s.hcl:5:3: comment is an attribute, not a block",
			"s.hcl:9:5: identity is a block, not an attribute",
			`s.hcl:12:1: unknown block "wat"; known here: collation, composite, domain, enum, function, materialized, `,
		}},
		{"everything the engine reads", `schema "public" {
  comment = "c"
}
enum "mood" {
  schema = schema.public
  values = ["a", "b"]
}
table "p" {
  schema  = schema.public
  comment = "tc"
  column "id" {
    null = false
    type = integer
    identity {
      generated = ALWAYS
      start     = 5
      increment = 2
    }
  }
  column "name" {
    type    = text
    comment = "cc"
  }
  column "g" {
    null = true
    type = integer
    as {
      expr = "(id * 2)"
      type = STORED
    }
  }
  column "m" {
    null    = true
    type    = enum.mood
    default = "a"
  }
  primary_key {
    columns = [column.id]
  }
  index "p_name_idx" {
    unique  = true
    comment = "ic"
    where   = "(id > 0)"
    include = [column.m]
    on {
      desc       = true
      column     = column.name
      nulls_last = true
    }
    on {
      expr = "lower(name)"
      ops  = text_pattern_ops
    }
  }
  unique "p_m_key" {
    columns = [column.m]
  }
  check "p_id_chk" {
    expr = "(id > 0)"
  }
}
table "c" {
  schema = schema.public
  column "pid" {
    type = integer
  }
  foreign_key "c_pid_fkey" {
    columns     = [column.pid]
    ref_columns = [table.p.column.id]
    on_update   = RESTRICT
    on_delete   = CASCADE
  }
}
`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(tc.src)})
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a SchemaError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
