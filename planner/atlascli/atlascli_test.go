package atlascli

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestSchemaNamesReadAsWritten checks that the schema names keel writes
// into the atlas.hcl it hands the binary read back, through HCL, as the
// names themselves, template sequences and quotes included.
func TestSchemaNamesReadAsWritten(t *testing.T) {
	for _, name := range []string{"public", `we"ird`, "${injected}", "%{ if true }x%{ endif }", `back\slash`, "new\nline", "tab\there"} {
		expr, diags := hclsyntax.ParseExpression([]byte(hclString(name)), "atlas.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%q written as %s does not parse: %v", name, hclString(name), diags)
		}
		v, diags := expr.Value(nil)
		if diags.HasErrors() {
			t.Fatalf("%q written as %s does not evaluate: %v", name, hclString(name), diags)
		}
		if got := v.AsString(); got != name {
			t.Errorf("%q written as %s reads back as %q", name, hclString(name), got)
		}
	}
}
