package source

import (
	"regexp"
	"slices"
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
