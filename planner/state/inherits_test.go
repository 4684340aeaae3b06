package state

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// inherits' mistakes are errors at file:line:column.
func TestInheritsGrammar(t *testing.T) {
	src := partitionedEvents + `table "p" {
  schema = schema.public
  column "a" {
    type = int
  }
}
table "c_missing" {
  schema   = schema.public
  inherits = [table.nothing]
}
table "c_self" {
  schema   = schema.public
  inherits = [table.p, table.c_self]
}
table "c_partitioned_parent" {
  schema   = schema.public
  inherits = [table.events]
}
table "events_d" {
  schema       = schema.public
  partition_of = table.events
  bound        = "DEFAULT"
  inherits     = [table.p]
}
table "loop_a" {
  schema   = schema.public
  inherits = [table.loop_b]
}
table "loop_b" {
  schema   = schema.public
  inherits = [table.loop_a]
}
table "c_string" {
  schema   = schema.public
  inherits = ["p"]
}
table "no_parent" {
  schema = schema.public
  column "a" {
    type      = int
    inherited = true
  }
}
table "c_yes" {
  schema   = schema.public
  inherits = [table.p]
  column "a" {
    type      = int
    inherited = "yes"
  }
}
`
	_, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(src)})
	var se *SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a SchemaError", err)
	}
	for _, w := range []string{
		`s.hcl:23:15: table "c_missing": inherits names table.nothing, which no table block declares`,
		`s.hcl:27:24: table "c_self": inherits names the table itself`,
		`s.hcl:31:15: table "c_partitioned_parent": inherits names table.events, a partitioned table (s.hcl:2:1)`,
		`s.hcl:37:3: table "events_d": a partition (partition_of) cannot have inherits`,
		`s.hcl:49:15: table "c_string": inherits takes a list of references to table blocks`,
		`s.hcl:55:5: table "no_parent": column "a" has inherited = true, but the table has no inherits`,
		`s.hcl:63:5: column "a": inherited takes true or false`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error lacks %q:\n%v", w, err)
		}
	}
	// The loop is found once the rest is right.
	loop := `schema "public" {}
table "loop_a" {
  schema   = schema.public
  inherits = [table.loop_b]
}
table "loop_b" {
  schema   = schema.public
  inherits = [table.loop_a]
}
`
	_, err = ParseHCL([]string{"l.hcl"}, [][]byte{[]byte(loop)})
	if err == nil || !strings.Contains(err.Error(), `l.hcl:4:3: table "loop_a": its inherits go round in a loop back to it`) {
		t.Fatalf("a loop of inherits: %v", err)
	}
}

// inherits reads as keel's, children after their parents; the engine sees
// the child with its own columns only.
func TestInheritsRead(t *testing.T) {
	src := `schema "public" {}
schema "s" {}
table "grandchild" {
  schema   = schema.public
  inherits = [table.c, table.s.q]
}
table "c" {
  schema   = schema.public
  inherits = [table.p]
  column "b" {
    type = text
  }
}
table "p" {
  schema = schema.public
  column "a" {
    type = int
  }
}
table "q" {
  schema = schema.s
  column "z" {
    type = int
  }
}
`
	st, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	want := []Inherit{
		{Schema: "public", Name: "c", Parents: [][2]string{{"public", "p"}}, Pos: "s.hcl:9:3"},
		{Schema: "public", Name: "grandchild", Parents: [][2]string{{"public", "c"}, {"s", "q"}}, Pos: "s.hcl:5:3"},
	}
	if !reflect.DeepEqual(st.Inherits, want) {
		t.Fatalf("inherits\n%+v\nwant\n%+v", st.Inherits, want)
	}
	if got := want[1].Clause(); got != ` INHERITS ("public"."c", "s"."q")` {
		t.Fatalf("Clause: %s", got)
	}
	for _, tb := range st.Realm.Schemas[0].Tables {
		if tb.Name == "c" && len(tb.Columns) != 1 {
			t.Fatalf("the engine's table c has columns %+v, want b alone", tb.Columns)
		}
	}
}

func TestSplitParents(t *testing.T) {
	got, ok := splitParents(`public.a, "S"."b c"`)
	if want := [][2]string{{"public", "a"}, {"S", "b c"}}; !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("splitParents: %v %v", got, ok)
	}
	if _, ok := splitParents("public"); ok {
		t.Fatal("splitParents read a bare name")
	}
}
