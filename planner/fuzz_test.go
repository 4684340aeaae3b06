package planner

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
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		st, err := parseHCL([]string{"fuzz.hcl"}, [][]byte{[]byte(src)})
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
	_, err := parseHCL([]string{"schema.hcl"}, [][]byte{[]byte("schema \"billing\" {}\nenum \"e\" {\n  schema = schema.billing\n}\n")})
	if err == nil || !strings.Contains(err.Error(), "schema.hcl:2: enum billing.e has no values") {
		t.Fatalf("error = %v, want it at schema.hcl:2 naming the enum", err)
	}
}
