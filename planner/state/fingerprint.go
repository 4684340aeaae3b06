package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"keel/planner/plan"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Fingerprint computes the state's fingerprint from its canonical HCL form,
// its extensions and, when it has a catalog, the catalog's settings and
// constraints (what keel's HCL says beyond the engine's realm). It is
// computed once per state: a State is not changed after it is read.
func (s *State) Fingerprint() (plan.Fingerprint, error) {
	if s.fingerprint != nil {
		return *s.fingerprint, nil
	}
	// Names Atlas HCL cannot refer to print as stable placeholders.
	g := StableNames(s.Realm)
	text, err := marshalRealm(s.Realm)
	g.Restore()
	if err != nil {
		return plan.Fingerprint{}, fmt.Errorf("fingerprinting the schema: %w", err)
	}
	objects, ok := splitBlocks(text)
	if !ok {
		// Not the layout splitBlocks expects: parse it properly.
		if objects, err = parseBlocks(text); err != nil {
			return plan.Fingerprint{}, err
		}
	}
	if len(g.idents) > 0 {
		named := make(map[string]string, len(objects))
		for k, v := range objects {
			named[g.Reveal(k)] = v
		}
		objects = named
	}
	whole := sha256.New()
	whole.Write(text)
	for _, e := range s.Extensions {
		line := fmt.Sprintf("extension %q schema=%q version=%q comment=%q\n", e.Name, e.Schema, e.Version, e.Comment)
		objects["extension "+e.Name] = shortHash([]byte(line))
		whole.Write([]byte(line))
	}
	// What the realm does not carry and the desired state can say (a
	// storage parameter, a constraint's timing or comment, ...): a change
	// of it is another desired state. Live states, read without their
	// catalog, fingerprint as before.
	for _, k := range s.Catalog.beyondRealm() {
		line := k.String() + "\x00" + s.Catalog[k] + "\n"
		objects[k.String()] = shortHash([]byte(line))
		whole.Write([]byte(line))
	}
	// Views, functions, triggers, ...: the engine does not see them.
	for _, k := range s.Catalog.keysWhere(func(k CatalogKey) bool { return objectKinds[k.Kind] }) {
		line := k.String() + "\x00" + s.Catalog[k] + "\n"
		objects[k.String()] = shortHash([]byte(line))
		whole.Write([]byte(line))
	}
	// Partitions, which the engine does not see: each one's parent and
	// bound, and its table's description (its own partition key, its
	// comment). A partition added, dropped or re-bounded is another state.
	for _, k := range s.Catalog.partitions() {
		table := CatalogKey{Kind: CatalogTable, Schema: k.Schema, Name: k.Table}
		line := k.String() + "\x00" + s.Catalog[k] + "\x00" + s.Catalog[table] + "\n"
		objects["table "+plan.DisplayName(k.Schema, k.Table)] = shortHash([]byte(line))
		whole.Write([]byte(line))
	}
	// Inheritance, which the engine does not see: each child's parents,
	// in order. A table that comes to inherit, or stops, is another state.
	for _, k := range s.Catalog.inheritsKeys() {
		line := k.String() + "\x00" + s.Catalog[k] + "\n"
		objects[k.String()] = shortHash([]byte(line))
		whole.Write([]byte(line))
	}
	fp := plan.Fingerprint{Hash: "sha256:" + hex.EncodeToString(whole.Sum(nil)), Objects: objects}
	s.fingerprint = &fp
	return fp, nil
}

// SetFingerprint records the state's fingerprint, known from elsewhere (a
// cache entry made from the same state), so that it is not computed again.
func (s *State) SetFingerprint(fp plan.Fingerprint) { s.fingerprint = &fp }

// parseBlocks hashes each top-level block of the engine's HCL, parsing it.
func parseBlocks(text []byte) (map[string]string, error) {
	f, diags := hclsyntax.ParseConfig(text, "state.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("fingerprinting the schema: %s", diags.Error())
	}
	objects := make(map[string]string)
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		r := b.Range()
		objects[blockKey(b.Type, b.Labels, blockSchema(b))] = shortHash(text[r.Start.Byte:r.End.Byte])
	}
	return objects, nil
}

func blockSchema(b *hclsyntax.Block) string {
	if a, ok := b.Body.Attributes["schema"]; ok {
		if s, err := schemaRef(a.Expr); err == nil {
			return s
		}
	}
	return ""
}

var (
	blockStart = regexp.MustCompile(`^([a-z_]+)((?: "(?:[^"\\]|\\.)*")+) \{$`)
	blockLabel = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	schemaAttr = regexp.MustCompile(`^  schema\s*=\s*schema\.([A-Za-z_][A-Za-z0-9_$]*)$`)
)

// splitBlocks hashes each top-level block of the engine's HCL by reading
// its layout: a block opens on an unindented `type "label" {` line and
// closes on a line that is only `}`. It reports false when the text does
// not have that layout.
func splitBlocks(text []byte) (map[string]string, bool) {
	objects := make(map[string]string)
	var (
		start          = -1
		typ, schemaRef string
		labels         []string
	)
	for off := 0; off < len(text); {
		end := bytes.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text) - off
		}
		line := string(text[off : off+end])
		switch {
		case start < 0 && line == "":
		case start < 0:
			m := blockStart.FindStringSubmatch(line)
			if m == nil {
				return nil, false
			}
			start, typ, schemaRef, labels = off, m[1], "", nil
			for _, q := range blockLabel.FindAllString(m[2], -1) {
				l, err := strconv.Unquote(q)
				if err != nil {
					return nil, false
				}
				labels = append(labels, l)
			}
		case line == "}":
			objects[blockKey(typ, labels, schemaRef)] = shortHash(text[start : off+end])
			start = -1
		default:
			if m := schemaAttr.FindStringSubmatch(line); m != nil {
				schemaRef = m[1]
			}
		}
		off += end + 1
	}
	return objects, start < 0
}

// blockKey names a top-level HCL block as steps name objects: "table public.users".
func blockKey(typ string, labels []string, schema string) string {
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = plan.DisplayPart(l)
	}
	name := strings.Join(parts, ".")
	if schema != "" && typ != "schema" && len(labels) == 1 {
		name = plan.DisplayPart(schema) + "." + name
	}
	return typ + " " + name
}

func shortHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}
