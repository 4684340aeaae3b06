package source

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The schema names and the table count read off the files' lines are
// those of block heads that start a line, as the regular expressions
// (?m)^schema "NAME" \{ and (?m)^table " would find them.
func TestBlockHeadsAtLineStarts(t *testing.T) {
	files := [][]byte{
		[]byte("table \"first\" {}\nschema \"public\" {}\nschema \"a$1\" {\n}\n  schema \"indented\" {}\nx schema \"mid\" {}\n" +
			"schema \"1bad\" {}\nschema \"q\"{}\nschema \"we\"\"ird\" {}\r\ntable \"t\" {\n}\r\ntable \"u\" {}\n # table \"c\"\ntable\"no\" {}\ntable \""),
		[]byte("schema \"_x\" {"),
		[]byte(""),
	}
	h := &HCL{Files: []string{"a.hcl", "b.hcl", "c.hcl"}, srcs: files}
	names, err := h.SchemaNames()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"_x", "a$1", "public"}; !slices.Equal(names, want) {
		t.Fatalf("schema names %q, want %q", names, want)
	}
	if got := h.Tables(); got != 4 {
		t.Fatalf("%d tables, want 4", got)
	}
	schemaLine := regexp.MustCompile(`(?m)^schema "([A-Za-z_][A-Za-z0-9_$]*)" \{`)
	tableLine := regexp.MustCompile(`(?m)^table "`)
	var reNames []string
	reTables := 0
	for _, src := range files {
		for _, m := range schemaLine.FindAllSubmatch(src, -1) {
			reNames = append(reNames, string(m[1]))
		}
		reTables += len(tableLine.FindAllIndex(src, -1))
	}
	slices.Sort(reNames)
	if !slices.Equal(names, reNames) || h.Tables() != reTables {
		t.Fatalf("lines found %q and %d tables, the regular expressions %q and %d", names, h.Tables(), reNames, reTables)
	}
}

// The blocks the parse reads as it goes (readBlocks) are those a syntax
// parse of their own reads (scanBlocks): ids, bytes, foreign keys, the
// tables referenced and whether a changed table can be normalized alone,
// also for tables whose keel attributes the parse takes out afterwards
// (inherits, partition_of, using), and in files parsed whole.
func TestBlocksReadInTheParseAreTheScans(t *testing.T) {
	cases := map[string][]string{
		"tables referring to each other, an enum, an extension": {`schema "public" {}
extension "uuid-ossp" {
  schema = schema.public
}
enum "status" {
  schema = schema.public
  values = ["new", "done"]
}
table "a" {
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
table "b" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "a_id" {
    type = bigint
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "b_a" {
    columns     = [column.a_id]
    ref_columns = [table.a.column.id]
  }
  index "b_a_id" {
    columns = [column.a_id]
  }
}
table "c\"d" {
  schema = schema.public
  column "b_id" {
    type = bigint
  }
  foreign_key "c_b" {
    columns     = [column.b_id]
    ref_columns = [table.b.column.id]
  }
}
`},
		"keel's attributes: inherits, a partition, using": {`schema "public" {}
table "p" {
  schema = schema.public
  column "id" {
    type = bigint
  }
}
table "child" {
  schema   = schema.public
  inherits = [table.p]
  column "extra" {
    type = text
  }
}
table "events" {
  schema = schema.public
  column "at" {
    type = date
  }
  partition {
    type    = RANGE
    columns = [column.at]
  }
}
table "events_2026_01" {
  schema       = schema.public
  partition_of = table.events
  bound        = "FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')"
}
table "conv" {
  schema = schema.public
  column "n" {
    type  = integer
    using = "trim(n)::integer"
  }
}
`},
		"two files, a view": {`schema "public" {}
table "t" {
  schema = schema.public
  column "id" {
    type = bigint
  }
}
`, `view "v" {
  schema = schema.public
  as     = "SELECT id FROM public.t"
}
table "u" {
  schema = schema.public
  column "id" {
    type = bigint
  }
}
`},
		"a layout parsed whole": {`schema "public" {}
  table "t" {
    schema = schema.public
    column "id" {
      type = bigint
    }
  }
`},
	}
	for name, srcs := range cases {
		t.Run(name, func(t *testing.T) {
			h := &HCL{parsed: make(chan struct{})}
			for i, src := range srcs {
				h.Files = append(h.Files, fmt.Sprintf("f%d.hcl", i))
				h.srcs = append(h.srcs, []byte(src))
			}
			if _, err := h.Parsed(); err != nil {
				t.Fatal(err)
			}
			want, err := scanBlocks(h.Files, h.srcs)
			if err != nil {
				t.Fatal(err)
			}
			if name == "a layout parsed whole" {
				if h.read != nil {
					t.Fatalf("blocks read in a parse that was not block by block")
				}
			} else if h.read == nil {
				t.Fatalf("no blocks read in the parse")
			} else if !reflect.DeepEqual(h.read, want) {
				t.Fatalf("blocks read in the parse differ from a scan of their own:\n got %s\nwant %s", describeSet(h.read), describeSet(want))
			}
			got, err := h.blocks()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("h.blocks() = %s, %v; want %s", describeSet(got), err, describeSet(want))
			}
		})
	}
}

// describeSet prints a block set for a failure message.
func describeSet(s *blockSet) string {
	if s == nil {
		return "nil"
	}
	var lines []string
	for id, b := range s.blocks {
		lines = append(lines, fmt.Sprintf("%q: kind %s, %s.%s, refs %q, fks %v, read %v, %d bytes", id, b.kind, b.schema, b.name, b.refs, b.fks, b.read, len(b.src)))
	}
	slices.Sort(lines)
	return fmt.Sprintf("eligible %v\n  %s", s.eligible, strings.Join(lines, "\n  "))
}
