package state

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// parseBoth parses the file at path (or src when given) block by block, as
// keel does, and whole, and returns both results.
func parseBoth(t *testing.T, path string, src []byte) (blocks, whole *State, blocksErr, wholeErr error) {
	t.Helper()
	if src == nil {
		var err error
		if src, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	blocks, blocksErr = ParseHCL([]string{path}, [][]byte{src})
	byBlocks = false
	defer func() { byBlocks = true }()
	whole, wholeErr = ParseHCL([]string{path}, [][]byte{src})
	return
}

// A file parsed block by block (less memory) reads as the same state as
// parsed whole: the same tables, objects and settings, and the same
// positions in messages; a layout that splits a heredoc or comment where the
// parser does not falls back to the whole parse; errors are the same.
func TestParseByBlocksReadsAsWhole(t *testing.T) {
	paths, err := filepath.Glob("../testdata/plans/*/schema.hcl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no test schemas: %v", err)
	}
	paths = append(paths, "../../schema.hcl", "testdata/blocks.hcl")
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := LayoutBlocks(src); !ok {
			t.Fatalf("%s: not split by layout: the test does not compare the two parses", path)
		}
		compareParses(t, path, nil)
	}
	cases := map[string]string{
		// A function whose body has a line that is only "}": the layout
		// splits the block there; the piece does not parse alone.
		"heredoc": `schema "public" {}
function "f" {
  schema = schema.public
  lang   = SQL
  return = int
  as     = <<-SQL
SELECT 1;
}
table "x" {
SQL
}
table "t" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`,
		"views and comments": `# leading comment
schema "public" {}

// another
table "t" {
  schema = schema.public
  column "id" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
}
view "v" {
  schema = schema.public
  as     = "SELECT id FROM public.t"
  depends_on = [table.t]
}
`,
		"syntax error": `schema "public" {}
table "t" {
  schema = schema.public
  column "id" {
    type = int
  }
  colum "x" {
}
`,
		"a hostile name": `schema "public" {}
table "we\"ird t" {
  schema = schema.public
  column "no\"te" {
    type = text
  }
}
table "other" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "ref" {
    type = int
  }
  foreign_key "to_weird" {
    columns     = [column.ref]
    ref_columns = [table["we\"ird t"].column["no\"te"]]
  }
}
`,
		"unknown attribute": `schema "public" {}
table "t" {
  schema = schema.public
  column "id" {
    type = int
    nul  = false
  }
}
`,
		"missing reference": `schema "public" {}
table "t" {
  schema = schema.other
  column "id" {
    type = int
  }
}
`,
	}
	for name, src := range cases {
		compareParses(t, name+".hcl", []byte(src))
	}
}

func compareParses(t *testing.T, path string, src []byte) {
	t.Helper()
	blocks, whole, berr, werr := parseBoth(t, path, src)
	if fmt.Sprint(berr) != fmt.Sprint(werr) {
		t.Fatalf("%s: parsed by blocks: %v\nparsed whole: %v", path, berr, werr)
	}
	if werr != nil {
		return
	}
	if b, w := blocks.RealmHash(), whole.RealmHash(); b != w {
		t.Errorf("%s: the realm parsed by blocks hashes %s, parsed whole %s", path, b, w)
	}
	bf, err := blocks.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	wf, err := whole.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	if bf.Hash != wf.Hash {
		t.Errorf("%s: fingerprints differ: %v", path, wf.Changes(bf))
	}
	for what, pair := range map[string][2]any{
		"positions":  {blocks.Positions, whole.Positions},
		"objects":    {blocks.Objects, whole.Objects},
		"settings":   {blocks.Settings, whole.Settings},
		"extensions": {blocks.Extensions, whole.Extensions},
		"partitions": {blocks.Partitions, whole.Partitions},
		"inherits":   {blocks.Inherits, whole.Inherits},
		"using":      {blocks.Using, whole.Using},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s: %s differ:\nby blocks: %v\nwhole:     %v", path, what, pair[0], pair[1])
		}
	}
}
