package state

import "testing"

// A desired state whose view, function or privilege changes is another
// state: its fingerprint differs (a saved plan made for the old one is
// stale).
func TestFingerprintCoversObjects(t *testing.T) {
	fp := func(desc string) string {
		st, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(`schema "public" {}`)})
		if err != nil {
			t.Fatal(err)
		}
		st.Catalog = Catalog{{Kind: CatalogView, Schema: "public", Name: "v"}: desc}
		f, err := st.Fingerprint()
		if err != nil {
			t.Fatal(err)
		}
		return f.Hash
	}
	if a, b := fp("CREATE VIEW public.v AS\n SELECT 1"), fp("CREATE VIEW public.v AS\n SELECT 2"); a == b {
		t.Fatalf("a view's query changed and the fingerprint did not: %s", a)
	}
}
