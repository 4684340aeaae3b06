package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"ariga.io/atlas/sql/postgres"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Fingerprint identifies a schema state: a hash of the whole state, and a
// hash per object so that two fingerprints can say what differs.
type Fingerprint struct {
	// Hash is "sha256:" and the hex digest of the whole state.
	Hash string `json:"hash"`
	// Objects maps each object ("table public.users", "extension uuid-ossp")
	// to a short hash of its definition.
	Objects map[string]string `json:"objects,omitempty"`
}

// Fingerprint computes the state's fingerprint from its canonical HCL form
// and its extensions.
func (s *State) Fingerprint() (Fingerprint, error) {
	text, err := postgres.MarshalHCL(s.Realm)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("fingerprinting the schema: %w", err)
	}
	f, diags := hclsyntax.ParseConfig(text, "state.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return Fingerprint{}, fmt.Errorf("fingerprinting the schema: %s", diags.Error())
	}
	objects := make(map[string]string)
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		key := blockKey(b)
		r := b.Range()
		objects[key] = shortHash(text[r.Start.Byte:r.End.Byte])
	}
	whole := sha256.New()
	whole.Write(text)
	for _, e := range s.Extensions {
		line := fmt.Sprintf("extension %q schema=%q version=%q comment=%q\n", e.Name, e.Schema, e.Version, e.Comment)
		objects["extension "+e.Name] = shortHash([]byte(line))
		whole.Write([]byte(line))
	}
	return Fingerprint{Hash: "sha256:" + hex.EncodeToString(whole.Sum(nil)), Objects: objects}, nil
}

// blockKey names a top-level HCL block as steps name objects: "table public.users".
func blockKey(b *hclsyntax.Block) string {
	name := strings.Join(b.Labels, ".")
	if a, ok := b.Body.Attributes["schema"]; ok && b.Type != "schema" {
		if s, err := schemaRef(a.Expr); err == nil && len(b.Labels) == 1 {
			name = s + "." + name
		}
	}
	return b.Type + " " + name
}

func shortHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// Changes lists, one line each, what differs from f to other: objects
// added, removed and changed.
func (f Fingerprint) Changes(other Fingerprint) []string {
	var out []string
	for k, v := range other.Objects {
		old, ok := f.Objects[k]
		switch {
		case !ok:
			out = append(out, "+ "+k+" (added)")
		case old != v:
			out = append(out, "~ "+k+" (changed)")
		}
	}
	for k := range f.Objects {
		if _, ok := other.Objects[k]; !ok {
			out = append(out, "- "+k+" (removed)")
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][2:] < out[j][2:] })
	return out
}
