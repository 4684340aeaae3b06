package state

import (
	"strings"
	"testing"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// An extension's type is written as the type, with its arguments as
// written (numbers), in the extension's schema when it names one; a type
// of no extension, with arguments, stays the engine's.
func TestExtensionTypesKeepTheirArguments(t *testing.T) {
	src := `
schema "public" {}
schema "ext" {}
extension "vector" {
  schema = schema.ext
}
extension "citext" {}
table "t" {
  schema = schema.public
  column "v" {
    type = vector(1536)
  }
  column "h" {
    type = halfvec(3)
  }
  column "c" {
    type = citext
  }
  column "n" {
    type = numeric(10, 2)
  }
}
`
	st, err := ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := st.Realm.Schema("public")
	tb, ok := s.Table("t")
	if !ok {
		t.Fatal("no table t")
	}
	raw := func(name string) string {
		c, ok := tb.Column(name)
		if !ok {
			t.Fatalf("no column %s", name)
		}
		if u, ok := c.Type.Type.(*postgres.UserDefinedType); ok {
			return u.T
		}
		return c.Type.Raw
	}
	for col, want := range map[string]string{"v": "ext.vector(1536)", "h": "ext.halfvec(3)", "c": "citext"} {
		if got := raw(col); !strings.EqualFold(got, want) {
			t.Errorf("column %s: type %q, want %q", col, got, want)
		}
	}
	c, _ := tb.Column("n")
	if d, ok := c.Type.Type.(*schema.DecimalType); !ok || d.Precision != 10 || d.Scale != 2 {
		t.Errorf("column n: type %#v, want numeric(10,2)", c.Type.Type)
	}
}
