package source

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A plan after a change to a few tables need not normalize the whole
// desired state again: the cache's entry for the files as they were (the
// base) holds every other table as normalized. normalizeChanged loads only
// the tables whose blocks changed, with the tables whose foreign keys point
// at them, on a skeleton of what they reference (every schema, extension and
// enum; referenced tables without their own foreign keys), and puts them in
// the base's place. It applies to desired states of schema, extension, enum
// and table blocks only, with tables that neither partition nor inherit nor
// convert columns (`using`); anything else is normalized whole.

// hclBlock is one top-level block of the desired-state files.
type hclBlock struct {
	id   string // kind, labels and schema: "table\x00users\x00schema.public"
	kind string
	src  []byte
	// fks are the byte ranges of the foreign_key blocks in src.
	fks [][2]int
	// table is the table's schema and name ("public", "users"), for table blocks.
	schema, name string
	// refs are the tables the block's foreign keys reference, as
	// "schema\x00name" ("" schema: the only table of that name).
	refs []string
	// read says that fks were read (a table block found by scanChanged
	// has them read when needed: foreignKeyRanges).
	read bool
}

// blockSet is the files' blocks, by id.
type blockSet struct {
	blocks   map[string]*hclBlock
	eligible bool // only kinds and attributes normalizeChanged handles
}

// incrementalBlocks are the nested blocks of a table that normalizeChanged
// handles.
var incrementalBlocks = []string{"column", "primary_key", "index", "unique", "foreign_key", "check"}

// scanBlocks reads the files' top-level blocks with the HCL syntax parser
// only (no evaluation): their ids, hashes and references. Each block is
// parsed alone where the layout allows (see scanChanged), so that the
// syntax trees of a large file are never all held at once; else the files
// are parsed whole.
func scanBlocks(files []string, srcs [][]byte) (*blockSet, error) {
	if set, ok := scanChanged(files, srcs, nil); ok {
		return set, nil
	}
	return scanWhole(files, srcs)
}

// scanWhole is scanBlocks, parsing each file whole.
func scanWhole(files []string, srcs [][]byte) (*blockSet, error) {
	set := &blockSet{blocks: make(map[string]*hclBlock), eligible: true}
	for i, src := range srcs {
		f, diags := hclsyntax.ParseConfig(src, files[i], hcl.InitialPos)
		if diags.HasErrors() {
			return nil, diags
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			set.add(readBlock(b, src))
		}
	}
	return set, nil
}

// add puts a block in the set; a duplicate id or a block normalizeChanged
// does not handle makes the set not eligible.
func (s *blockSet) add(blk *hclBlock, eligible bool) {
	if _, dup := s.blocks[blk.id]; dup || !eligible {
		s.eligible = false
	}
	s.blocks[blk.id] = blk
}

// readBlock reads one top-level block of src; eligible is false when
// normalizeChanged does not handle it.
func readBlock(b *hclsyntax.Block, src []byte) (blk *hclBlock, eligible bool) {
	r := b.Range()
	blk = &hclBlock{kind: b.Type, src: src[r.Start.Byte:r.End.Byte]}
	schemaRef := ""
	if a, ok := b.Body.Attributes["schema"]; ok {
		schemaRef = string(a.Expr.Range().SliceBytes(src))
	}
	blk.id = b.Type + "\x00" + strings.Join(b.Labels, "\x00") + "\x00" + schemaRef
	switch b.Type {
	case "schema", "extension", "enum":
		return blk, true
	case "table":
		if !tableEligible(b) || len(b.Labels) != 1 || !schemaRefPattern.MatchString(schemaRef) {
			return blk, false
		}
		blk.name = b.Labels[0]
		blk.schema = strings.TrimPrefix(schemaRef, "schema.")
		blk.refs = foreignKeyRefs(b.Body)
		for _, fk := range foreignKeyBlocks(b.Body) {
			fr := fk.Range()
			blk.fks = append(blk.fks, [2]int{fr.Start.Byte - r.Start.Byte, fr.End.Byte - r.Start.Byte})
		}
		blk.read = true
		return blk, blk.refs != nil
	}
	return blk, false
}

// scanChanged reads the files' blocks as scanWhole does, but parses only
// the blocks that are not, byte for byte, one of the base entry's: a plan
// after a change to one table of thousands parses that table, not all
// (the syntax parser allocates some 200 times the size of what it reads).
// The blocks are found by their layout, as keel inspect and the engine
// print them and as they are mostly written: a block starts at the start
// of a line and ends on the next line that is only "}" (or on its first
// line, when that ends with "{}"), with only blank and comment lines
// between blocks. A piece found so that is the block it seems when it is
// one of the base's blocks (a whole block, as the parser read it there) or
// when it parses, alone, as exactly one block; anything else (another
// layout, a piece that does not parse so) reports false, and the caller
// reads the files with scanWhole.
//
// With no base, every block is parsed alone.
func scanChanged(files []string, srcs [][]byte, base *Cached) (*blockSet, bool) {
	if base == nil {
		base = &Cached{}
	} else if len(base.Blocks) == 0 || base.BlockRefs == nil {
		return nil, false
	}
	byHash := make(map[string]string, len(base.Blocks))
	for id, h := range base.Blocks {
		if _, dup := byHash[h]; dup {
			return nil, false
		}
		byHash[h] = id
	}
	set := &blockSet{blocks: make(map[string]*hclBlock), eligible: true}
	for i, src := range srcs {
		pieces, ok := state.LayoutBlocks(src)
		if !ok {
			return nil, false
		}
		for _, p := range pieces {
			text := src[p[0]:p[1]]
			sum := sha256.Sum256(text)
			if id, ok := byHash[hex.EncodeToString(sum[:12])]; ok {
				blk := &hclBlock{id: id, src: text}
				parts := strings.Split(id, "\x00")
				blk.kind = parts[0]
				if blk.kind == "table" {
					if len(parts) != 3 {
						return nil, false
					}
					blk.name, blk.schema = parts[1], strings.TrimPrefix(parts[2], "schema.")
					if blk.refs = base.BlockRefs[id]; blk.refs == nil {
						return nil, false
					}
				}
				set.add(blk, true)
				continue
			}
			line := 1 + bytes.Count(src[:p[0]], []byte("\n"))
			f, diags := hclsyntax.ParseConfig(text, files[i], hcl.Pos{Line: line, Column: 1})
			if diags.HasErrors() {
				return nil, false
			}
			blocks := f.Body.(*hclsyntax.Body).Blocks
			if len(blocks) != 1 || len(f.Body.(*hclsyntax.Body).Attributes) > 0 ||
				blocks[0].Range().Start.Byte != 0 || blocks[0].Range().End.Byte != len(text) {
				return nil, false
			}
			set.add(readBlock(blocks[0], text))
		}
	}
	return set, true
}

// foreignKeyRanges are the byte ranges of a table block's foreign_key
// blocks in its src; a block found by scanChanged is parsed for them.
func (b *hclBlock) foreignKeyRanges() ([][2]int, bool) {
	if b.read {
		return b.fks, true
	}
	f, diags := hclsyntax.ParseConfig(b.src, "block", hcl.InitialPos)
	if diags.HasErrors() || len(f.Body.(*hclsyntax.Body).Blocks) != 1 {
		return nil, false
	}
	blk, _ := readBlock(f.Body.(*hclsyntax.Body).Blocks[0], b.src)
	return blk.fks, true
}

// schemaRefPattern is a table's schema reference that names the schema as
// it is: schema.public.
var schemaRefPattern = regexp.MustCompile(`^schema\.[A-Za-z_][A-Za-z0-9_]*$`)

func tableEligible(b *hclsyntax.Block) bool {
	for name := range b.Body.Attributes {
		if name == "inherits" || name == "partition_of" || name == "bound" {
			return false
		}
	}
	for _, nb := range b.Body.Blocks {
		if !slices.Contains(incrementalBlocks, nb.Type) {
			return false
		}
		if _, ok := nb.Body.Attributes["using"]; ok && nb.Type == "column" {
			return false
		}
	}
	return true
}

func foreignKeyBlocks(body *hclsyntax.Body) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, nb := range body.Blocks {
		if nb.Type == "foreign_key" {
			out = append(out, nb)
		}
	}
	return out
}

// foreignKeyRefs are the tables a table block's foreign keys reference
// (table.NAME.column.C or table.SCHEMA.NAME.column.C), or nil when one of
// them is written otherwise.
func foreignKeyRefs(body *hclsyntax.Body) []string {
	refs := []string{}
	for _, fk := range foreignKeyBlocks(body) {
		a, ok := fk.Body.Attributes["ref_columns"]
		if !ok {
			return nil
		}
		for _, tr := range a.Expr.Variables() {
			var parts []string
			for _, step := range tr {
				switch s := step.(type) {
				case hcl.TraverseRoot:
					parts = append(parts, s.Name)
				case hcl.TraverseAttr:
					parts = append(parts, s.Name)
				default:
					return nil
				}
			}
			switch {
			case len(parts) == 4 && parts[0] == "table" && parts[2] == "column":
				refs = append(refs, "\x00"+parts[1])
			case len(parts) == 5 && parts[0] == "table" && parts[3] == "column":
				refs = append(refs, parts[1]+"\x00"+parts[2])
			default:
				return nil
			}
		}
	}
	return refs
}

// refs are the table blocks' references, by id, as a cache entry keeps
// them (scanChanged reads them there).
func (s *blockSet) refs() map[string][]string {
	out := make(map[string][]string)
	for id, b := range s.blocks {
		if b.kind == "table" {
			out[id] = b.refs
		}
	}
	return out
}

// hashes are the blocks' hashes, by id, as a cache entry keeps them.
func (s *blockSet) hashes() map[string]string {
	out := make(map[string]string, len(s.blocks))
	for id, b := range s.blocks {
		sum := sha256.Sum256(b.src)
		out[id] = hex.EncodeToString(sum[:12])
	}
	return out
}

// errNotIncremental says that normalizeChanged does not apply; the state is
// normalized whole.
var errNotIncremental = errors.New("not incremental")

// normalizeChanged normalizes the files h on the base entry (see above).
func normalizeChanged(h *HCL, base *Cached, load func(declared *state.State) (*state.State, error)) (*state.State, *blockSet, error) {
	set, ok := scanChanged(h.Files, h.srcs, base)
	if !ok { // scanBlocks parses whole what scanChanged could not read
		var err error
		if set, err = h.blocks(); err != nil {
			return nil, nil, errNotIncremental
		}
	}
	if !set.eligible || len(base.Blocks) == 0 {
		return nil, nil, errNotIncremental
	}
	// The entry is read back while the server loads the changed tables.
	type loaded struct {
		st  *state.State
		err error
	}
	back := make(chan loaded, 1)
	go func() {
		st, err := base.load(h)
		back <- loaded{st, err}
	}()
	// Every return waits for it: reading an entry back may write it
	// (Verified), which must end before the caller goes on.
	var b loaded
	waited := false
	wait := func() loaded {
		if !waited {
			b, waited = <-back, true
		}
		return b
	}
	defer wait()
	now := set.hashes()
	changed := make(map[string]bool) // table blocks, by "schema\x00name"
	var removed []*hclBlock
	for id := range base.Blocks {
		if _, ok := now[id]; !ok {
			if !strings.HasPrefix(id, "table\x00") {
				return nil, nil, errNotIncremental
			}
			removed = append(removed, &hclBlock{id: id})
		}
	}
	tables := make(map[string]*hclBlock) // "schema\x00name"
	for id, b := range set.blocks {
		if b.kind == "table" {
			tables[b.schema+"\x00"+b.name] = b
		}
		if base.Blocks[id] == now[id] {
			continue
		}
		if b.kind != "table" {
			return nil, nil, errNotIncremental // a schema, enum or extension changed
		}
		changed[b.schema+"\x00"+b.name] = true
	}
	// A base of the target's own (adoptedBase) is taken even when nothing
	// changed: its schemas, extensions and enums are normalized all the
	// same, and checked against the target's (compose).
	if len(changed) == 0 && len(removed) == 0 && base.adopted == nil {
		return nil, nil, errNotIncremental
	}
	// The tables by name alone, for references without a schema (looking
	// through all tables for each took 0.37 s at 5,000 tables).
	byName := make(map[string][]string, len(tables))
	for k, b := range tables {
		byName[b.name] = append(byName[b.name], k)
	}
	resolve := func(ref string) (string, bool) {
		if !strings.HasPrefix(ref, "\x00") {
			_, ok := tables[ref]
			return ref, ok
		}
		if found := byName[ref[1:]]; len(found) == 1 {
			return found[0], true
		}
		return "", false
	}
	// What a table removed was is known from the base: its id holds its
	// name and schema reference.
	gone := make(map[string]bool)
	for _, r := range removed {
		parts := strings.Split(r.id, "\x00")
		if len(parts) != 3 {
			return nil, nil, errNotIncremental
		}
		gone[strings.TrimPrefix(parts[2], "schema.")+"\x00"+parts[1]] = true
	}
	// Tables whose foreign keys point at a changed table are normalized
	// again too. One that points at a table the files do not have (one
	// removed) cannot load: the whole normalization says so.
	again := make(map[string]bool)
	for k := range changed {
		again[k] = true
	}
	for k, b := range tables {
		for _, ref := range b.refs {
			r, ok := resolve(ref)
			if !ok {
				return nil, nil, errNotIncremental
			}
			if changed[r] {
				again[k] = true
			}
		}
	}
	// Most of the files changed: normalized whole, and cached.
	if len(again) > 8 && len(again) > len(tables)/4 {
		return nil, nil, errNotIncremental
	}
	// The skeleton: the tables those reference, without foreign keys.
	skeleton := make(map[string]bool)
	for k := range again {
		for _, ref := range tables[k].refs {
			r, ok := resolve(ref)
			if !ok {
				return nil, nil, errNotIncremental
			}
			if !again[r] {
				skeleton[r] = true
			}
		}
	}
	var doc []byte
	var ids []string
	for id := range set.blocks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		b := set.blocks[id]
		k := b.schema + "\x00" + b.name
		switch {
		case b.kind != "table", again[k]:
			doc = append(append(doc, b.src...), '\n')
		case skeleton[k]:
			fks, ok := b.foreignKeyRanges()
			if !ok {
				return nil, nil, errNotIncremental
			}
			doc = append(append(doc, withoutForeignKeys(b.src, fks)...), '\n')
		}
	}
	declared, err := state.ParseHCL([]string{"changed tables"}, [][]byte{doc})
	if err != nil {
		return nil, nil, errNotIncremental // the whole parse says where
	}
	// load also checks that the base's extensions are still those of the
	// server.
	norm, err := load(declared)
	b = wait()
	if err != nil || len(norm.NotManaged) > 0 || len(norm.Invalid) > 0 || len(norm.Using) > 0 || b.err != nil {
		return nil, nil, errNotIncremental
	}
	st := b.st
	base.normalized, base.tables = len(again), len(tables)
	if err := compose(st, norm, again, gone); err != nil {
		return nil, nil, errNotIncremental
	}
	if base.adopted != nil {
		// The target's extensions are as installed; the desired state's
		// stay as declared, as a normalization leaves them.
		st.Extensions = adoptedExtensions(norm.Extensions, h)
	}
	// A new state: the entry's fingerprint is the base's. Its unchanged
	// tables hash as the base's did, when reading the entry back hashed
	// them.
	out := &state.State{Realm: st.Realm, Extensions: st.Extensions, Catalog: st.Catalog, Using: st.Using}
	out.HashTablesFrom(st, func(schemaName, table string) bool {
		k := schemaName + "\x00" + table
		return again[k] || gone[k]
	})
	return out, set, nil
}

// withoutForeignKeys is a table block's text without its foreign_key
// blocks, at the byte ranges fks.
func withoutForeignKeys(src []byte, fks [][2]int) []byte {
	var out []byte
	last := 0
	for _, r := range fks {
		out = append(out, src[last:r[0]]...)
		last = r[1]
	}
	return append(out, src[last:]...)
}

// compose puts into base the tables of norm that were normalized again,
// and takes out the tables removed: their realm objects and their catalog
// entries. It fails (the state is then normalized whole) when norm's
// catalog disagrees with base's on anything the tables do not own.
func compose(base, norm *state.State, again, gone map[string]bool) error {
	seqs := ownedSequences(base.Catalog, norm.Catalog)
	owned := func(k state.CatalogKey) (string, bool) {
		if k.Kind == state.CatalogSequence {
			// A sequence a column owns (serial) is its table's.
			t, ok := seqs[k.Schema+"\x00"+k.Name]
			return t, ok
		}
		return tableOf(k)
	}
	// What no table owns (schemas, enums, extensions) must be the same.
	for k, v := range norm.Catalog {
		if _, ok := owned(k); !ok && base.Catalog[k] != v {
			return fmt.Errorf("%s differs", k)
		}
	}
	for k := range base.Catalog {
		if _, ok := owned(k); !ok {
			if _, there := norm.Catalog[k]; !there {
				return fmt.Errorf("%s missing", k)
			}
		}
	}
	for k := range base.Catalog {
		if t, ok := owned(k); ok && (again[t] || gone[t]) {
			delete(base.Catalog, k)
		}
	}
	for k, v := range norm.Catalog {
		if t, ok := owned(k); ok && again[t] {
			base.Catalog[k] = v
		}
	}
	// The realm: the tables replaced, added and removed.
	removed := 0
	enums := make(map[string]*schema.EnumType)
	byName := make(map[string]*schema.Table)
	for _, s := range base.Realm.Schemas {
		for _, o := range s.Objects {
			if e, ok := o.(*schema.EnumType); ok {
				enums[s.Name+"\x00"+e.T] = e
			}
		}
		s.Tables = slices.DeleteFunc(s.Tables, func(t *schema.Table) bool {
			k := s.Name + "\x00" + t.Name
			if gone[k] {
				removed++
			}
			return again[k] || gone[k]
		})
	}
	added := 0
	for _, ns := range norm.Realm.Schemas {
		s, ok := base.Realm.Schema(ns.Name)
		if !ok {
			return fmt.Errorf("schema %s", ns.Name)
		}
		for _, t := range ns.Tables {
			if !again[ns.Name+"\x00"+t.Name] {
				continue
			}
			added++
			t.Schema = s
			s.Tables = append(s.Tables, t)
			for _, c := range t.Columns {
				if err := sameEnums(c.Type, enums); err != nil {
					return err
				}
			}
		}
		sort.SliceStable(s.Tables, func(i, j int) bool { return s.Tables[i].Name < s.Tables[j].Name })
	}
	if removed != len(gone) {
		return fmt.Errorf("%d of %d tables removed", removed, len(gone))
	}
	if added != len(again) {
		return fmt.Errorf("%d of %d tables normalized again", added, len(again))
	}
	for _, s := range base.Realm.Schemas {
		for _, t := range s.Tables {
			byName[s.Name+"\x00"+t.Name] = t
		}
	}
	// Foreign keys point at the tables of the composed realm.
	for _, s := range base.Realm.Schemas {
		for _, t := range s.Tables {
			for _, fk := range t.ForeignKeys {
				if fk.RefTable == nil || fk.RefTable.Schema == nil {
					return errors.New("a foreign key without its table")
				}
				ref, ok := byName[fk.RefTable.Schema.Name+"\x00"+fk.RefTable.Name]
				if !ok {
					return fmt.Errorf("foreign key %s: no table %s", fk.Symbol, fk.RefTable.Name)
				}
				fk.RefTable = ref
				for i, c := range fk.RefColumns {
					rc, ok := ref.Column(c.Name)
					if !ok {
						return fmt.Errorf("foreign key %s: no column %s", fk.Symbol, c.Name)
					}
					fk.RefColumns[i] = rc
				}
			}
		}
	}
	return nil
}

// tableOf is the table ("schema\x00table") a catalog entry describes
// part of (a column, a constraint, a setting, what depends on it); ok is
// false for schemas, enums, extensions and objects beside tables.
func tableOf(k state.CatalogKey) (string, bool) {
	switch {
	case k.Kind == state.CatalogDepends:
		obj, _, ok := state.DependsOn(k)
		if !ok {
			return "", false
		}
		if obj.Kind == state.CatalogTable {
			return obj.Schema + "\x00" + obj.Name, true
		}
		if obj.Table != "" {
			return obj.Schema + "\x00" + obj.Table, true
		}
		return "", false
	case k.Kind == state.CatalogTable:
		return k.Schema + "\x00" + k.Name, true
	case state.IsObjectKind(k.Kind):
		return "", false
	case k.Table != "":
		return k.Schema + "\x00" + k.Table, true
	}
	return "", false
}

// ownedSequences are the sequences ("schema\x00name") the columns of cats
// own, by their tables ("schema\x00table"), from the columns' descriptions
// ("... owns sequence public.t_id_seq"). A sequence whose name the
// description quotes otherwise than quoteIdent (a keyword) is left out: it
// belongs to no table, and a change is then normalized whole.
func ownedSequences(cats ...state.Catalog) map[string]string {
	const marker = "owns sequence "
	out := make(map[string]string)
	for _, cat := range cats {
		for k, v := range cat {
			if k.Kind != state.CatalogColumn {
				continue
			}
			i := strings.Index(v, marker)
			if i < 0 {
				continue
			}
			rest := v[i+len(marker):]
			if j := strings.Index(rest, " comment '"); j >= 0 {
				rest = rest[:j]
			}
			for _, q := range strings.Split(rest, ", ") {
				out[q] = k.Schema + "\x00" + k.Table
			}
		}
	}
	// The keys as the descriptions quote them, for the catalog's names.
	named := make(map[string]string, len(out))
	for _, cat := range cats {
		for k := range cat {
			if k.Kind != state.CatalogSequence {
				continue
			}
			if t, ok := out[quoteIdent(k.Schema)+"."+quoteIdent(k.Name)]; ok {
				named[k.Schema+"\x00"+k.Name] = t
			}
		}
	}
	return named
}

// plainIdent is a name quote_ident leaves as it is (keywords aside).
var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// quoteIdent is a name as PostgreSQL's quote_ident prints it, but for
// keywords (printed plain here).
func quoteIdent(s string) string {
	if plainIdent.MatchString(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// sameEnums points a column's enum type (or array of one) at the base's
// enum of that name.
func sameEnums(ct *schema.ColumnType, enums map[string]*schema.EnumType) error {
	if ct == nil {
		return nil
	}
	swap := func(e *schema.EnumType) (*schema.EnumType, error) {
		name := e.T
		if e.Schema != nil {
			name = e.Schema.Name + "\x00" + e.T
		}
		b, ok := enums[name]
		if !ok {
			return nil, fmt.Errorf("enum %s", e.T)
		}
		return b, nil
	}
	switch t := ct.Type.(type) {
	case *schema.EnumType:
		b, err := swap(t)
		if err != nil {
			return err
		}
		ct.Type = b
	case *postgres.ArrayType:
		if e, ok := t.Type.(*schema.EnumType); ok {
			b, err := swap(e)
			if err != nil {
				return err
			}
			t.Type = b
		}
	}
	return nil
}
