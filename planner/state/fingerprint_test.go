package state

import (
	"os"
	"reflect"
	"testing"

	"ariga.io/atlas/sql/postgres"
)

// The quick block splitter and the HCL parser agree on the engine's output.
func TestSplitBlocksAgreesWithParser(t *testing.T) {
	for _, path := range []string{"../../schema.hcl", "testdata/blocks.hcl"} {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := ParseHCL([]string{path}, [][]byte{src})
		if err != nil {
			t.Fatal(err)
		}
		text, err := postgres.MarshalHCL(st.Realm)
		if err != nil {
			t.Fatal(err)
		}
		quick, ok := splitBlocks(text)
		if !ok {
			t.Fatalf("%s: splitBlocks does not read the engine's layout:\n%s", path, text)
		}
		parsed, err := parseBlocks(text)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(quick, parsed) {
			t.Fatalf("%s: splitBlocks %v\nparseBlocks %v", path, quick, parsed)
		}
	}
	if _, ok := splitBlocks([]byte("table \"t\" {\n  schema = schema.public\n")); ok {
		t.Fatal("an unclosed block is accepted")
	}
}
