package planner

import (
	"bytes"
	"fmt"
	"strconv"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MarshalHCL prints a state as HCL that LoadHCL reads back to the same
// state: the engine's schema, table and enum blocks, preceded by keel's
// extension blocks (with the installed schema and version), and with the
// column types of known extensions written by name (`type = citext`).
func MarshalHCL(st *State) ([]byte, error) {
	realm, err := marshalRealm(st.Realm)
	if err != nil {
		return nil, fmt.Errorf("printing the state as HCL: %w", err)
	}
	inRealm := make(map[string]bool, len(st.Realm.Schemas))
	for _, s := range st.Realm.Schemas {
		inRealm[s.Name] = true
	}
	var b bytes.Buffer
	for _, e := range st.Extensions {
		fmt.Fprintf(&b, "extension %s {\n", strconv.Quote(e.Name))
		switch {
		case e.Schema == "":
		case inRealm[e.Schema]:
			fmt.Fprintf(&b, "  schema  = %s\n", schemaRefHCL(e.Schema))
		default:
			fmt.Fprintf(&b, "  # installed in schema %s, which is not among the inspected schemas\n", strconv.Quote(e.Schema))
		}
		if e.Version != "" {
			fmt.Fprintf(&b, "  version = %s\n", strconv.Quote(e.Version))
		}
		b.WriteString("}\n\n")
	}
	b.Write(nameExtensionTypes(realm, st.Extensions))
	if b.Len() > 0 && b.Bytes()[b.Len()-1] != '\n' {
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// schemaRefHCL returns a reference to a schema block: schema.NAME, or the
// name as a string when it is not an HCL identifier.
func schemaRefHCL(s string) string {
	if hclsyntax.ValidIdentifier(s) {
		return "schema." + s
	}
	return strconv.Quote(s)
}

// marshalRealm prints a realm with the engine's HCL printer, which panics on
// some realms it cannot print (an enum without values): that is an error.
func marshalRealm(r *schema.Realm) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("the engine cannot print this schema as HCL: %v", p)
		}
	}()
	// An enum without values prints (without its values attribute) only
	// when the list is empty rather than nil.
	var restore []*schema.EnumType
	for _, s := range r.Schemas {
		for _, o := range s.Objects {
			if e, ok := o.(*schema.EnumType); ok && e.Values == nil {
				e.Values = []string{}
				restore = append(restore, e)
			}
		}
	}
	defer func() {
		for _, e := range restore {
			e.Values = nil
		}
	}()
	return postgres.MarshalHCL(r)
}
