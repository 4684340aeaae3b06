package state

import (
	"strings"
	"testing"
)

// FuzzHCL checks that reading any HCL file, and printing what it reads back
// as HCL, never panics: bad input is an error.
func FuzzHCL(f *testing.F) {
	for _, s := range []string{
		`schema "billing" {} enum "000000"A{ schema= schema.billing }`,
		"schema \"billing\" {}\nenum \"000000\"A{\n schema= schema.billing\n}\n",
		"schema \"billing\" {}\nenum \"e\" {\n  schema = schema.billing\n}\n",
		"schema \"public\" {}\ntable \"t\" {\n  schema = schema.public\n  column \"a\" {\n    type = int\n  }\n}\n",
		"schema \"public\" {}\nextension \"uuid-ossp\" {\n  schema = schema.public\n}\n",
		"schema \"public\" {}\nenum \"e\" {\n  schema = schema.public\n  values = [\"a\", \"b\"]\n}\n",
		`schema "public" {} table "x\" (a int); DROP TABLE t; --" { schema = schema.public }`,
		"schema \"public\" {}\ntable \"t\" {\n  schema = schema.public\n  unlogged = true\n  storage_params = { fillfactor = 70, \"toast.autovacuum_enabled\" = false }\n  replica_identity = index.t_a_key\n  column \"a\" {\n    type = text\n    storage = EXTERNAL\n    statistics = 5\n    identity {\n      cache = 2\n      cycle = true\n    }\n  }\n  unique \"t_a_key\" {\n    columns = [column.a]\n    deferrable = true\n  }\n}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		st, err := ParseHCL([]string{"fuzz.hcl"}, [][]byte{[]byte(src)})
		if err != nil {
			return
		}
		_, _ = MarshalHCL(st)
		_, _ = st.Fingerprint()
	})
}

// An enum without values is refused where it is declared; the engine would
// drop it, and its printer panics on it.
func TestEnumWithoutValues(t *testing.T) {
	_, err := ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte("schema \"billing\" {}\nenum \"e\" {\n  schema = schema.billing\n}\n")})
	if err == nil || !strings.Contains(err.Error(), "schema.hcl:2: enum billing.e has no values") {
		t.Fatalf("error = %v, want it at schema.hcl:2 naming the enum", err)
	}
}

// References the engine cannot resolve are errors at their position.
func TestReferencesAtlasCannotResolve(t *testing.T) {
	for _, tc := range []struct{ ref, want string }{
		{`column["new\nline"]`, `schema.hcl:8:22: column["new\nline"]: Atlas HCL cannot refer`},
		{`column["a\"b"]`, `schema.hcl:8:22: column["a\"b"]: Atlas HCL cannot refer`},
		{`column["semi;colon"]`, ""},
	} {
		src := `schema "public" {}
table "t" {
  schema = schema.public
  column "new\nline" { type = int }
  column "a\"b" { type = int }
  column "semi;colon" { type = int }
  index "i" {
    columns = [` + tc.ref + `]
  }
}
`
		_, err := ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(src)})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.ref, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.ref, err, tc.want)
		}
	}
	_, err := ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(`schema "public" {}
enum "my enum" {
  schema = schema.public
  values = ["a"]
}
table "t" {
  schema = schema.public
  column "e" { type = enum["my enum"] }
}
`)})
	if err == nil || !strings.Contains(err.Error(), `schema.hcl:8:27: enum["my enum"]`) {
		t.Errorf("enum reference by string: error %v", err)
	}
}
