package state

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"keel/internal/pgsql"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// The engine's printer knows nothing of the settings it does not model, so
// MarshalHCL writes them into its output as keel's attributes (the ones
// takeSettings reads), from the state's catalog: the printed file, read
// back, gives the same catalog. What keel's HCL cannot say (a comment on a
// unique constraint, a deferrable exclusion constraint, the storage
// parameters of a primary key's index) is written as an HCL comment where
// it belongs, so that it is seen, not lost silently.

// settingAttr is one attribute to write into a block.
type settingAttr struct {
	name   string
	tokens hclwrite.Tokens
}

// blockEdits is what to write into one block: attributes, and lines of
// comment for what cannot be written.
type blockEdits struct {
	attrs []settingAttr
	notes []string
}

// tableEdits is what to write into one table block and the blocks in it,
// by the inner block's path: "" for the table, "column\x00NAME",
// "column\x00NAME\x00identity", "foreign_key\x00NAME", "primary_key", ...
type tableEdits map[string]*blockEdits

func (t tableEdits) at(path string) *blockEdits {
	if t[path] == nil {
		t[path] = &blockEdits{}
	}
	return t[path]
}

// settingOrder orders the attributes in a block as keel documents them.
var settingOrder = map[string]int{
	"unlogged": 1, "storage_params": 2, "replica_identity": 3,
	"storage": 1, "compression": 2, "statistics": 3,
	"min_value": 1, "max_value": 2, "cache": 3, "cycle": 4,
	// As pg_get_constraintdef prints them.
	"match": 1, "on_delete_set_columns": 2, "deferrable": 3, "initially_deferred": 4, "not_valid": 5, "comment": 6,
}

// writeSettings adds the catalog's settings, the options of its
// constraints and the storage parameters of its indexes to text,
// the engine's HCL of the same state. It returns text unchanged when the
// catalog has none.
func writeSettings(text []byte, cat Catalog) ([]byte, error) {
	edits := settingEdits(cat)
	if len(edits) == 0 {
		return text, nil
	}
	syn, diags := hclsyntax.ParseConfig(text, "state.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("writing the catalog's settings: %s", diags.Error())
	}
	wr, diags := hclwrite.ParseConfig(text, "state.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("writing the catalog's settings: %s", diags.Error())
	}
	sblocks, wblocks := syn.Body.(*hclsyntax.Body).Blocks, wr.Body().Blocks()
	if len(sblocks) != len(wblocks) {
		return nil, fmt.Errorf("writing the catalog's settings: the printed HCL reads as %d and %d blocks", len(sblocks), len(wblocks))
	}
	var unplaced []string
	for i, sb := range sblocks {
		if sb.Type != "table" || len(sb.Labels) < 1 || len(sb.Labels) > 2 {
			continue
		}
		key, ok := printedTable(sb)
		if !ok || edits[key] == nil {
			continue
		}
		if err := editTable(sb, wblocks[i], key, edits[key], cat); err != nil {
			return nil, err
		}
		delete(edits, key)
	}
	for key, te := range edits {
		for _, be := range te {
			for _, a := range be.attrs {
				unplaced = append(unplaced, noteAttr(key.String(), a))
			}
			unplaced = append(unplaced, be.notes...)
		}
	}
	sort.Strings(unplaced)
	body := wr.Body()
	for _, n := range unplaced {
		body.AppendUnstructuredTokens(commentTokens(n))
	}
	return hclwrite.Format(wr.Bytes()), nil
}

// printedTable names the table of a printed table block: "schema" "table"
// labels, or a label and a schema attribute.
func printedTable(b *hclsyntax.Block) (CatalogKey, bool) {
	if len(b.Labels) == 2 {
		return CatalogKey{Kind: CatalogTable, Schema: b.Labels[0], Name: b.Labels[1]}, true
	}
	a, ok := b.Body.Attributes["schema"]
	if !ok {
		return CatalogKey{}, false
	}
	s, err := tableSchemaRef(a.Expr)
	if err != nil {
		return CatalogKey{}, false
	}
	return CatalogKey{Kind: CatalogTable, Schema: s, Name: b.Labels[0]}, true
}

// editTable writes te into the table block (read as sb, edited as wb).
func editTable(sb *hclsyntax.Block, wb *hclwrite.Block, table CatalogKey, te tableEdits, cat Catalog) error {
	// Which inner blocks there are, by path, in both forms.
	type pair struct {
		s *hclsyntax.Block
		w *hclwrite.Block
	}
	blocks := map[string]pair{"": {sb, wb}}
	inner, winner := sb.Body.Blocks, wb.Body().Blocks()
	if len(inner) != len(winner) {
		return fmt.Errorf("writing the settings of %s: the printed HCL reads as %d and %d blocks", table, len(inner), len(winner))
	}
	indexes := make(map[string]bool)
	for i, b := range inner {
		path := b.Type
		if len(b.Labels) == 1 {
			path += "\x00" + b.Labels[0]
		}
		blocks[path] = pair{b, winner[i]}
		switch b.Type {
		case "index", "unique":
			if len(b.Labels) == 1 {
				indexes[b.Labels[0]] = true
			}
		case "primary_key":
			indexes[pkeyName(table.Name)] = true
		case "column":
			sub, wsub := b.Body.Blocks, winner[i].Body().Blocks()
			for j, id := range sub {
				if id.Type == "identity" && j < len(wsub) {
					blocks[path+"\x00identity"] = pair{id, wsub[j]}
				}
			}
		}
	}
	// A replica identity names an index that the file must declare.
	if be := te[""]; be != nil {
		for i, a := range be.attrs {
			if a.name != "replica_identity" {
				continue
			}
			if idx, ok := strings.CutPrefix(cat[CatalogKey{Kind: CatalogReplicaIdentity, Schema: table.Schema, Table: table.Name}], "index "); ok && !indexes[idx] {
				be.attrs = append(be.attrs[:i], be.attrs[i+1:]...)
				be.notes = append(be.notes, note(CatalogKey{Kind: CatalogReplicaIdentity, Schema: table.Schema, Table: table.Name}.String(), "index "+idx)+
					" (the index has no block of its own)")
				break
			}
		}
	}
	paths := make([]string, 0, len(te))
	for p := range te {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var homeless []string
	for _, p := range paths {
		be := te[p]
		b, ok := blocks[p]
		if !ok {
			// No such block was printed (an identity column without its
			// identity block, a constraint the engine does not print).
			for _, a := range be.attrs {
				homeless = append(homeless, noteAttr(blockPathName(p), a))
			}
			homeless = append(homeless, be.notes...)
			continue
		}
		editBlock(b.w.Body(), be)
	}
	if len(homeless) > 0 {
		editBlock(wb.Body(), &blockEdits{notes: homeless})
	}
	return nil
}

// editBlock writes the attributes and notes into body, after its own
// attributes and before its blocks.
func editBlock(body *hclwrite.Body, be *blockEdits) {
	blocks := body.Blocks()
	for _, b := range blocks {
		body.RemoveBlock(b)
	}
	sort.SliceStable(be.attrs, func(i, j int) bool { return settingOrder[be.attrs[i].name] < settingOrder[be.attrs[j].name] })
	for _, a := range be.attrs {
		body.SetAttributeRaw(a.name, a.tokens)
	}
	sort.Strings(be.notes)
	for _, n := range be.notes {
		body.AppendUnstructuredTokens(commentTokens(n))
	}
	for _, b := range blocks {
		body.AppendBlock(b)
	}
}

// CannotWriteMarker starts a comment line of printed HCL saying what keel's
// HCL cannot say there (note, noteAttr): a block with it says less than the
// catalog.
const CannotWriteMarker = "keel cannot write this here: "

// note is a line of comment saying what keel's HCL cannot say here: the
// catalog's object (its name printed as plans print it, on one line) and
// its description.
func note(what, value string) string {
	return fmt.Sprintf(CannotWriteMarker+"%s is %s", what, strconv.Quote(value))
}

// noteAttr is a line of comment saying that an attribute found no block to
// go in.
func noteAttr(where string, a settingAttr) string {
	return fmt.Sprintf(CannotWriteMarker+"%s: %s = %s", where, a.name, strings.Join(strings.Fields(string(a.tokens.Bytes())), " "))
}

// blockPathName shows a block's path in its table: column "x", identity.
func blockPathName(path string) string {
	parts := strings.Split(path, "\x00")
	out := parts[0]
	if len(parts) > 1 {
		out += " " + strconv.Quote(parts[1])
	}
	for _, p := range parts[2:] {
		out += ", " + p
	}
	return out
}

func commentTokens(text string) hclwrite.Tokens {
	return hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# " + text + "\n")}}
}

// settingEdits turns the catalog's settings, constraint options and index
// storage parameters into edits, by table.
func settingEdits(cat Catalog) map[CatalogKey]tableEdits {
	out := make(map[CatalogKey]tableEdits)
	for _, k := range cat.beyondRealm() {
		v := cat[k]
		table := CatalogKey{Kind: CatalogTable, Schema: k.Schema, Name: k.Table}
		edit := func(path string) *blockEdits {
			if out[table] == nil {
				out[table] = make(tableEdits)
			}
			return out[table].at(path)
		}
		set := func(path, name string, tokens hclwrite.Tokens) {
			be := edit(path)
			be.attrs = append(be.attrs, settingAttr{name: name, tokens: tokens})
		}
		column := "column\x00" + k.Name
		switch k.Kind {
		case CatalogPersistence:
			if v == "unlogged" {
				set("", "unlogged", hclwrite.TokensForValue(cty.True))
				continue
			}
		case CatalogStorageParameter:
			// One attribute for all of the table's: gathered below.
			continue
		case CatalogReplicaIdentity:
			switch {
			case v == "full" || v == "nothing":
				set("", "replica_identity", hclwrite.TokensForIdentifier(strings.ToUpper(v)))
				continue
			case strings.HasPrefix(v, "index "):
				set("", "replica_identity", indexRefTokens(strings.TrimPrefix(v, "index ")))
				continue
			}
		case CatalogColumnStorage:
			if w, _, _ := strings.Cut(v, " "); w != "" {
				set(column, "storage", hclwrite.TokensForIdentifier(strings.ToUpper(w)))
				continue
			}
		case CatalogColumnCompression:
			if v == "pglz" || v == "lz4" {
				set(column, "compression", hclwrite.TokensForIdentifier(v))
				continue
			}
		case CatalogColumnStatistics:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				set(column, "statistics", hclwrite.TokensForValue(cty.NumberIntVal(n)))
				continue
			}
		case CatalogIdentityOptions:
			if attrs, ok := identityAttrs(v); ok {
				for _, a := range attrs {
					set(column+"\x00identity", a.name, a.tokens)
				}
				continue
			}
		case CatalogConstraintComment:
			if path, ok := constraintPath(k, cat); ok && !strings.HasPrefix(path, "unique") {
				set(path, "comment", hclwrite.TokensForValue(cty.StringVal(v)))
				continue
			}
		case CatalogConstraint:
			o := readConstraintOptions(v)
			if o.empty() {
				continue
			}
			if path, ok := constraintPath(k, cat); ok && o.fits(path) {
				if o.matchFull {
					set(path, "match", hclwrite.TokensForIdentifier("FULL"))
				}
				if len(o.setColumns) > 0 {
					set(path, "on_delete_set_columns", columnListTokens(o.setColumns))
				}
				if o.timing != "" {
					set(path, "deferrable", hclwrite.TokensForValue(cty.True))
				}
				if o.timing == "DEFERRABLE INITIALLY DEFERRED" {
					set(path, "initially_deferred", hclwrite.TokensForValue(cty.True))
				}
				if o.notValid {
					set(path, "not_valid", hclwrite.TokensForValue(cty.True))
				}
				continue
			}
			v = o.String()
		case CatalogIndex:
			params, ok := indexParams(v)
			if !ok {
				continue
			}
			if path, ok := indexPath(k, cat); ok {
				set(path, "storage_params", hclwrite.TokensForObject(params))
				continue
			}
			v = "storage parameters " + objectText(params)
		}
		be := edit("")
		be.notes = append(be.notes, note(k.String(), v))
	}
	// Storage parameters: one object per table, sorted by name.
	params := make(map[CatalogKey][]hclwrite.ObjectAttrTokens)
	for _, k := range cat.beyondRealm() {
		if k.Kind != CatalogStorageParameter {
			continue
		}
		table := CatalogKey{Kind: CatalogTable, Schema: k.Schema, Name: k.Table}
		name := hclwrite.TokensForValue(cty.StringVal(k.Name))
		if hclsyntax.ValidIdentifier(k.Name) {
			name = hclwrite.TokensForIdentifier(k.Name)
		}
		params[table] = append(params[table], hclwrite.ObjectAttrTokens{Name: name, Value: paramTokens(cat[k])})
	}
	for table, attrs := range params {
		sort.SliceStable(attrs, func(i, j int) bool {
			return strings.Trim(string(attrs[i].Name.Bytes()), `"`) < strings.Trim(string(attrs[j].Name.Bytes()), `"`)
		})
		if out[table] == nil {
			out[table] = make(tableEdits)
		}
		be := out[table].at("")
		be.attrs = append(be.attrs, settingAttr{name: "storage_params", tokens: hclwrite.TokensForObject(attrs)})
	}
	return out
}

// paramTokens writes a storage parameter's value so that it reads back as
// the same text: true, false or a number when the text is one, as
// written; a string otherwise.
func paramTokens(v string) hclwrite.Tokens {
	if v == "true" || v == "false" {
		return hclwrite.TokensForValue(cty.BoolVal(v == "true"))
	}
	if n, err := cty.ParseNumberVal(v); err == nil && numberText(n.AsBigFloat()) == v {
		return hclwrite.Tokens{{Type: hclsyntax.TokenNumberLit, Bytes: []byte(v)}}
	}
	return hclwrite.TokensForValue(cty.StringVal(v))
}

// indexRefTokens writes index.NAME, or index["NAME"] when NAME is not an
// HCL identifier.
func indexRefTokens(name string) hclwrite.Tokens {
	step := hcl.Traverser(hcl.TraverseAttr{Name: name})
	if !hclsyntax.ValidIdentifier(name) {
		step = hcl.TraverseIndex{Key: cty.StringVal(name)}
	}
	return hclwrite.TokensForTraversal(hcl.Traversal{hcl.TraverseRoot{Name: "index"}, step})
}

// identityAttrs turns identity options as the catalog describes them
// ("minvalue 5 maxvalue 100 cache 20 cycle") into attributes.
func identityAttrs(desc string) ([]settingAttr, bool) {
	var out []settingAttr
	f := strings.Fields(desc)
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case "cycle":
			out = append(out, settingAttr{name: "cycle", tokens: hclwrite.TokensForValue(cty.True)})
		case "minvalue", "maxvalue", "cache":
			if i+1 == len(f) {
				return nil, false
			}
			n, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				return nil, false
			}
			name := map[string]string{"minvalue": "min_value", "maxvalue": "max_value", "cache": "cache"}[f[i]]
			out = append(out, settingAttr{name: name, tokens: hclwrite.TokensForValue(cty.NumberIntVal(n))})
			i++
		default:
			return nil, false
		}
	}
	return out, len(out) > 0
}

// constraintPath is the block of the printed table that holds the
// constraint k (of any kind naming a constraint), from the constraint's
// description: "foreign_key\x00NAME", "primary_key", "unique\x00NAME",
// "check\x00NAME". Exclusion constraints have none.
func constraintPath(k CatalogKey, cat Catalog) (string, bool) {
	def := cat[CatalogKey{Kind: CatalogConstraint, Schema: k.Schema, Table: k.Table, Name: k.Name}]
	switch {
	case strings.HasPrefix(def, "FOREIGN KEY"):
		return "foreign_key\x00" + k.Name, true
	case strings.HasPrefix(def, "PRIMARY KEY"):
		return "primary_key", true
	case strings.HasPrefix(def, "UNIQUE"):
		return "unique\x00" + k.Name, true
	case strings.HasPrefix(def, "CHECK"):
		return "check\x00" + k.Name, true
	}
	return "", false
}

// constraintOptions are what keel's attributes say of a constraint beyond
// what the engine models, as its description shows them.
type constraintOptions struct {
	// timing is "", "DEFERRABLE" or "DEFERRABLE INITIALLY DEFERRED".
	timing              string
	notValid, matchFull bool
	// setColumns are the columns of ON DELETE SET NULL (...) or SET
	// DEFAULT (...).
	setColumns []string
}

func (o constraintOptions) empty() bool {
	return o.timing == "" && !o.notValid && !o.matchFull && len(o.setColumns) == 0
}

// fits reports whether keel's attributes of the block at path can say all
// of o: a check has no timing; a primary key or unique constraint is
// never NOT VALID, MATCH FULL or SET NULL.
func (o constraintOptions) fits(path string) bool {
	switch {
	case strings.HasPrefix(path, "foreign_key"):
		return true
	case strings.HasPrefix(path, "check"):
		return o.timing == "" && !o.matchFull && len(o.setColumns) == 0
	}
	return !o.notValid && !o.matchFull && len(o.setColumns) == 0
}

// String writes o as the description does.
func (o constraintOptions) String() string {
	var parts []string
	if o.matchFull {
		parts = append(parts, "MATCH FULL")
	}
	if len(o.setColumns) > 0 {
		parts = append(parts, "SET ("+strings.Join(o.setColumns, ", ")+")")
	}
	if o.timing != "" {
		parts = append(parts, o.timing)
	}
	if o.notValid {
		parts = append(parts, "NOT VALID")
	}
	return strings.Join(parts, " ")
}

// readConstraintOptions reads a constraint's description (what
// pg_get_constraintdef prints, and maybe " inherited"): its timing and
// NOT VALID at the end, and of a foreign key MATCH FULL after the
// referenced columns and the columns of ON DELETE SET NULL (...).
func readConstraintOptions(desc string) constraintOptions {
	var o constraintOptions
	desc = strings.TrimSuffix(desc, " inherited and local")
	desc = strings.TrimSuffix(desc, " inherited")
	if s, ok := strings.CutSuffix(desc, " NOT VALID"); ok {
		desc, o.notValid = s, true
	}
	for _, t := range []string{"DEFERRABLE INITIALLY DEFERRED", "DEFERRABLE"} {
		if s, ok := strings.CutSuffix(desc, " "+t); ok {
			desc, o.timing = s, t
			break
		}
	}
	if !strings.HasPrefix(desc, "FOREIGN KEY") {
		return o
	}
	toks, depths := significant(desc)
	word := func(i int, w string) bool {
		return i < len(toks) && depths[i] == 0 && toks[i].Kind == pgsql.Word && strings.EqualFold(toks[i].Text, w)
	}
	for i := range toks {
		switch {
		case word(i, "MATCH") && word(i+1, "FULL"):
			o.matchFull = true
		case word(i, "ON") && word(i+1, "DELETE") && word(i+2, "SET") && (word(i+3, "NULL") || word(i+3, "DEFAULT")) &&
			i+4 < len(toks) && toks[i+4].Text == "(":
			for j := i + 5; j < len(toks) && toks[j].Text != ")"; j++ {
				switch toks[j].Kind {
				case pgsql.Word:
					o.setColumns = append(o.setColumns, toks[j].Text)
				case pgsql.QuotedIdent:
					o.setColumns = append(o.setColumns, toks[j].Value)
				}
			}
		}
	}
	return o
}

// significant lexes SQL text (as PostgreSQL printed it) into its tokens
// other than spaces and comments, each with the depth of parentheses it is
// at (a parenthesis itself at the depth outside it).
func significant(sql string) ([]pgsql.Token, []int) {
	all, err := pgsql.Lex(sql)
	if err != nil {
		return nil, nil
	}
	var (
		toks   []pgsql.Token
		depths []int
		depth  int
	)
	for _, t := range all {
		if t.Kind == pgsql.Space || t.Kind == pgsql.Comment {
			continue
		}
		if t.Kind == pgsql.Other && t.Text == ")" {
			depth--
		}
		toks, depths = append(toks, t), append(depths, depth)
		if t.Kind == pgsql.Other && t.Text == "(" {
			depth++
		}
	}
	return toks, depths
}

// columnListTokens writes [column.a, column["B C"]].
func columnListTokens(names []string) hclwrite.Tokens {
	items := make([]hclwrite.Tokens, len(names))
	for i, n := range names {
		step := hcl.Traverser(hcl.TraverseAttr{Name: n})
		if !hclsyntax.ValidIdentifier(n) {
			step = hcl.TraverseIndex{Key: cty.StringVal(n)}
		}
		items[i] = hclwrite.TokensForTraversal(hcl.Traversal{hcl.TraverseRoot{Name: "column"}, step})
	}
	return hclwrite.TokensForTuple(items)
}

// indexParams reads the storage parameters of an index's description
// (pg_get_indexdef's WITH (...)), in its order, as attributes of
// storage_params: all but pages_per_range, which the engine's
// page_per_range says. ok is false when there are none to write, and for
// an index a partition has from its parent's (which says them).
func indexParams(desc string) (params []hclwrite.ObjectAttrTokens, ok bool) {
	toks, depths := significant(strings.TrimPrefix(desc, "primary key: "))
	if attachedIndex(toks, depths) {
		return nil, false
	}
	for i := 0; i+1 < len(toks); i++ {
		if depths[i] != 0 || toks[i].Kind != pgsql.Word || !strings.EqualFold(toks[i].Text, "WITH") || toks[i+1].Text != "(" {
			continue
		}
		// name=value, ...: a value is a word or a string literal.
		for j := i + 2; j+2 < len(toks) && depths[j] == 1; j += 4 {
			name, value := toks[j].Text, toks[j+2].Text
			if toks[j+2].Kind == pgsql.String {
				value = toks[j+2].Value
			}
			if toks[j].Kind != pgsql.Word || toks[j+1].Text != "=" {
				return nil, false
			}
			if name != "pages_per_range" {
				params = append(params, hclwrite.ObjectAttrTokens{Name: hclwrite.TokensForIdentifier(name), Value: paramTokens(value)})
			}
		}
		break
	}
	return params, len(params) > 0
}

// attachedIndex reports whether an index's description, as tokens, ends
// with "attached" (and maybe its comment).
func attachedIndex(toks []pgsql.Token, depths []int) bool {
	n := len(toks)
	if n >= 2 && toks[n-1].Kind == pgsql.String && toks[n-2].Kind == pgsql.Word && toks[n-2].Text == "comment" {
		n -= 2
	}
	return n >= 1 && depths[n-1] == 0 && toks[n-1].Kind == pgsql.Word && toks[n-1].Text == "attached"
}

// indexPath is the block of the printed table that holds the index k: an
// index block, or the unique block of its unique constraint. A primary
// key's or an exclusion constraint's index has none.
func indexPath(k CatalogKey, cat Catalog) (string, bool) {
	if strings.HasPrefix(cat[k], "primary key:") {
		return "", false
	}
	def, isConstraint := cat[CatalogKey{Kind: CatalogConstraint, Schema: k.Schema, Table: k.Table, Name: k.Name}]
	switch {
	case !isConstraint:
		return "index\x00" + k.Name, true
	case strings.HasPrefix(def, "UNIQUE"):
		return "unique\x00" + k.Name, true
	}
	return "", false
}

// objectText writes storage parameters on one line, for a note.
func objectText(params []hclwrite.ObjectAttrTokens) string {
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = string(p.Name.Bytes()) + " = " + string(p.Value.Bytes())
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}
