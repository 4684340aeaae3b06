package state

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"keel/internal/hclerr"
	"keel/planner/plan"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// ParseHCL parses and evaluates the files' contents, srcs.
func ParseHCL(files []string, srcs [][]byte) (*State, error) {
	st, err := parseHCL(files, srcs, nil)
	return st, asSchemaError(err)
}

// BlockReader reads the files' top-level blocks as ParseHCLReading's syntax
// parse finds them, before anything reads or changes them: Block is called
// for each block of a file parsed block by block (see LayoutBlocks), from
// several goroutines at once, with the block's index in its file, the
// block, its position's byte offsets being src's.
type BlockReader interface {
	Block(file, i int, b *hclsyntax.Block, src []byte)
}

// ParseHCLReading is ParseHCL, with r given each top-level block as the
// syntax parser reads it. whole reports whether every file was parsed
// block by block, so that r saw every block of every file, each once;
// otherwise what r saw is not the files' blocks.
func ParseHCLReading(files []string, srcs [][]byte, r BlockReader) (st *State, whole bool, err error) {
	hook := &blockHook{r: r}
	st, err = parseHCL(files, srcs, hook)
	return st, err == nil && hook.byBlocks == len(files), asSchemaError(err)
}

// blockHook gives a BlockReader the blocks of the file being parsed, and
// counts the files parsed block by block.
type blockHook struct {
	r        BlockReader
	file     int
	byBlocks int
}

// byBlocks is whether parseHCL parses files block by block where it can
// (false in tests that compare with a whole parse).
var byBlocks = true

func parseHCL(files []string, srcs [][]byte, hook *blockHook) (*State, error) {
	parser := hclparse.NewParser()
	var (
		exts     []plan.Extension
		settings []Setting
		using    map[CatalogKey]Conversion
		parts    []partitionDecl
		inherits []inheritDecl
		objects  []ObjectDecl
		tables   []tableDecl
		bodies   []*hclsyntax.Body
		pos      = make(map[string]string)
		problems []string
	)
	for i, f := range files {
		var (
			file *hcl.File
			ok   bool
		)
		if byBlocks {
			if hook != nil {
				hook.file = i
			}
			if file, ok = parseByBlocks(srcs[i], f, hook); ok && hook != nil {
				hook.byBlocks++
			}
		}
		if ok {
			parser.AddFile(f, file)
		} else {
			var diags hcl.Diagnostics
			if file, diags = parser.ParseHCL(srcs[i], f); diags.HasErrors() {
				return nil, hclerr.Wrap(diags)
			}
		}
		body, ok := file.Body.(*hclsyntax.Body)
		if !ok {
			return nil, fmt.Errorf("%s: not an HCL native-syntax file", f)
		}
		found, err := takeExtensions(body)
		if err != nil {
			return nil, err
		}
		if err := checkReferences(body); err != nil {
			return nil, err
		}
		problems = append(problems, checkGrammar(body)...)
		recordPositions(body, pos)
		// Partitions, which the engine does not see, and keel's own
		// attributes come out before the engine evaluates the rest.
		objs, bad := readObjects(body)
		objects, problems = append(objects, objs...), append(problems, bad...)
		in, bad := takeInherits(body)
		inherits, problems = append(inherits, in...), append(problems, bad...)
		p, t, bad := takePartitions(body)
		parts, tables, problems = append(parts, p...), append(tables, t...), append(problems, bad...)
		taken, conv, bad := takeSettings(body)
		problems = append(problems, bad...)
		settings = append(settings, taken...)
		for k, c := range conv {
			if using == nil {
				using = make(map[CatalogKey]Conversion)
			}
			using[k] = c
		}
		exts = append(exts, found...)
		bodies = append(bodies, body)
	}
	partitions, bad := resolvePartitions(parts, tables)
	problems = append(problems, bad...)
	inheriting, bad := resolveInherits(inherits, tables, parts)
	problems = append(problems, bad...)
	problems = append(problems, resolveObjects(objects, bodies)...)
	if err := schemaError(problems); err != nil {
		return nil, err
	}
	seen := make(map[string]string)
	for _, e := range exts {
		if prev, ok := seen[e.Name]; ok {
			return nil, fmt.Errorf("%s: extension %q is already declared at %s", e.Pos, e.Name, prev)
		}
		seen[e.Name] = e.Pos
	}
	for _, body := range bodies {
		if err := rewriteExtensionTypes(body, exts); err != nil {
			return nil, err
		}
	}
	realm := &schema.Realm{}
	if err := postgres.EvalHCL(parser, realm, nil); err != nil {
		return nil, fmt.Errorf("evaluating %s: %w", strings.Join(files, ", "), hclerr.Wrap(err))
	}
	if len(realm.Schemas) == 0 {
		return nil, fmt.Errorf("%s: no schema block: declare at least `schema \"public\" {}`", strings.Join(files, ", "))
	}
	for _, s := range realm.Schemas {
		for _, o := range s.Objects {
			if e, ok := o.(*schema.EnumType); ok && len(e.Values) == 0 {
				key := "enum " + DisplayName(s, e.T)
				return nil, fmt.Errorf("%s: %s has no values: give it values = [\"...\", ...] (an enum without values is not supported)", pos[key], key)
			}
		}
	}
	for _, e := range exts {
		if e.Schema != "" {
			if _, ok := realm.Schema(e.Schema); !ok {
				return nil, fmt.Errorf("%s: extension %q refers to schema %q, which no schema block declares", e.Pos, e.Name, e.Schema)
			}
		}
	}
	for _, p := range partitions {
		if _, ok := realm.Schema(p.Schema); !ok {
			return nil, fmt.Errorf("%s: partition %q is in schema %q, which no schema block declares", p.Pos, p.Name, p.Schema)
		}
	}
	sortExtensions(exts)
	if err := checkSettingTables(realm, settings, using); err != nil {
		return nil, err
	}
	return &State{Realm: realm, Extensions: exts, Positions: pos, Settings: settings, Using: using, Partitions: partitions, Inherits: inheriting, Objects: objects}, nil
}

// LayoutBlocks splits src into top-level blocks by their layout, as keel
// inspect and the engine print them and as they are mostly written: a block
// starts at the start of a line and ends on the next line that is only "}"
// (or on its first line, when that ends with "{}"), with only blank and
// comment lines between blocks. It returns their byte ranges, each from the
// first character of its first line to its closing brace; ok is false for
// another layout. A piece is the block it seems only if it parses, alone,
// as exactly one block (a heredoc or block comment with a line "}" inside
// a block splits it where the parser would not).
func LayoutBlocks(src []byte) (pieces [][2]int, ok bool) {
	start := -1
	for off := 0; off < len(src); {
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src) - off
		}
		line := src[off : off+end]
		switch {
		case start >= 0:
			if string(line) == "}" {
				pieces = append(pieces, [2]int{start, off + 1})
				start = -1
			}
		case len(bytes.TrimSpace(line)) == 0, bytes.HasPrefix(line, []byte("#")), bytes.HasPrefix(line, []byte("//")):
		case len(line) > 0 && (line[0] >= 'a' && line[0] <= 'z' || line[0] >= 'A' && line[0] <= 'Z' || line[0] == '_'):
			switch {
			case bytes.HasSuffix(line, []byte("{}")):
				pieces = append(pieces, [2]int{off, off + end})
			case bytes.HasSuffix(line, []byte("{")):
				start = off
			default:
				return nil, false
			}
		default:
			return nil, false
		}
		off += end + 1
	}
	return pieces, start < 0
}

// parseByBlocks parses src, the file filename, one top-level block at a
// time when its layout allows (see LayoutBlocks): the syntax parser's tokens
// of a block are garbage once it is parsed, where those of a whole file of
// thousands of tables are a few hundred megabytes at once. The blocks keep
// their positions in the file. ok is false when the layout does not allow
// it or a piece does not parse alone as exactly one block: the caller then
// parses the file whole (and reports its errors from there).
func parseByBlocks(src []byte, filename string, hook *blockHook) (file *hcl.File, ok bool) {
	pieces, ok := LayoutBlocks(src)
	if !ok {
		return nil, false
	}
	// Where each piece starts (line and column), then the pieces parsed
	// on every core at once, each worker taking the next piece not yet
	// taken; the blocks keep the file's order.
	starts := make([]hcl.Pos, len(pieces))
	pos := hcl.InitialPos
	advance := func(to int) {
		for _, c := range src[pos.Byte:to] {
			if c == '\n' {
				pos.Line, pos.Column = pos.Line+1, 1
			} else {
				pos.Column++
			}
		}
		pos.Byte = to
	}
	for i, p := range pieces {
		advance(p[0])
		starts[i] = pos
	}
	advance(len(src))
	blocks := make([]*hclsyntax.Block, len(pieces))
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), len(pieces)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(pieces) {
					return
				}
				p := pieces[i]
				f, diags := hclsyntax.ParseConfig(src[p[0]:p[1]], filename, starts[i])
				if diags.HasErrors() {
					failed.Store(true)
					return
				}
				b := f.Body.(*hclsyntax.Body)
				if len(b.Blocks) != 1 || len(b.Attributes) > 0 ||
					b.Blocks[0].Range().Start.Byte != p[0] || b.Blocks[0].Range().End.Byte != p[1] {
					failed.Store(true)
					return
				}
				blocks[i] = b.Blocks[0]
				if hook != nil {
					hook.r.Block(hook.file, i, blocks[i], src)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() {
		return nil, false
	}
	body := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, Blocks: blocks}
	body.SrcRange = hcl.Range{Filename: filename, Start: hcl.InitialPos, End: pos}
	body.EndRange = hcl.Range{Filename: filename, Start: pos, End: pos}
	return &hcl.File{Body: body, Bytes: src}, true
}

// recordPositions notes where each schema, table and enum block starts, under
// the names steps use for objects ("table public.users").
func recordPositions(body *hclsyntax.Body, pos map[string]string) {
	for _, b := range body.Blocks {
		if len(b.Labels) != 1 {
			continue
		}
		name := b.Labels[0]
		switch b.Type {
		case "schema":
			pos["schema "+plan.DisplayPart(name)] = posOf(b.DefRange())
			continue
		case "table", "enum":
		default:
			continue
		}
		key := plan.DisplayPart(name)
		if a, ok := b.Body.Attributes["schema"]; ok {
			if s, err := schemaRef(a.Expr); err == nil {
				key = plan.DisplayName(s, name)
			}
		}
		pos[b.Type+" "+key] = posOf(b.DefRange())
	}
}

// takeExtensions removes the extension blocks from body and returns them.
func takeExtensions(body *hclsyntax.Body) ([]plan.Extension, error) {
	var (
		exts []plan.Extension
		kept = body.Blocks[:0:0]
	)
	for _, b := range body.Blocks {
		if b.Type != "extension" {
			kept = append(kept, b)
			continue
		}
		e, err := extensionBlock(b)
		if err != nil {
			return nil, err
		}
		exts = append(exts, e)
	}
	body.Blocks = kept
	return exts, nil
}

func posOf(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

func extensionBlock(b *hclsyntax.Block) (plan.Extension, error) {
	pos := posOf(b.DefRange())
	if len(b.Labels) != 1 || b.Labels[0] == "" {
		return plan.Extension{}, fmt.Errorf("%s: an extension block takes one label, its name: extension \"uuid-ossp\" { schema = schema.public }", pos)
	}
	e := plan.Extension{Name: b.Labels[0], Pos: pos}
	if len(b.Body.Blocks) > 0 {
		return plan.Extension{}, fmt.Errorf("%s: extension %q: unexpected block %q", posOf(b.Body.Blocks[0].DefRange()), e.Name, b.Body.Blocks[0].Type)
	}
	names := make([]string, 0, len(b.Body.Attributes))
	for n := range b.Body.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := b.Body.Attributes[n]
		apos := posOf(a.SrcRange)
		switch n {
		case "schema":
			s, err := schemaRef(a.Expr)
			if err != nil {
				return plan.Extension{}, fmt.Errorf("%s: extension %q: schema: %w", apos, e.Name, err)
			}
			e.Schema = s
		case "version", "comment":
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() || v.Type().FriendlyName() != "string" || v.IsNull() {
				return plan.Extension{}, fmt.Errorf("%s: extension %q: %s must be a string", apos, e.Name, n)
			}
			if n == "version" {
				e.Version = v.AsString()
			} else {
				e.Comment = v.AsString()
			}
		default:
			return plan.Extension{}, fmt.Errorf("%s: extension %q: unknown attribute %q (expected schema, version or comment)", apos, e.Name, n)
		}
	}
	return e, nil
}

// schemaRef reads `schema.NAME` (or a string) as a schema name.
func schemaRef(x hclsyntax.Expression) (string, error) {
	if t, ok := x.(*hclsyntax.ScopeTraversalExpr); ok {
		tr := t.Traversal
		if len(tr) == 2 && tr.RootName() == "schema" {
			if a, ok := tr[1].(hcl.TraverseAttr); ok {
				return a.Name, nil
			}
		}
		return "", errors.New("expected a reference like schema.public")
	}
	v, diags := x.Value(nil)
	if diags.HasErrors() || v.IsNull() || v.Type().FriendlyName() != "string" {
		return "", errors.New("expected a reference like schema.public")
	}
	return v.AsString(), nil
}

// checkReferences refuses references the engine cannot resolve, before it
// gives a confusing error or none: table["..."] and column["..."] with a
// name holding a double quote, a backslash or a character that does not
// print, and enum["..."] at all (the engine reads enums only as enum.NAME).
func checkReferences(body *hclsyntax.Body) error {
	var found error
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		if found != nil {
			return nil
		}
		var tr hcl.Traversal
		switch x := n.(type) {
		case *hclsyntax.ScopeTraversalExpr:
			tr = x.Traversal
		case *hclsyntax.RelativeTraversalExpr:
			tr = x.Traversal
		default:
			return nil
		}
		for i, step := range tr {
			idx, ok := step.(hcl.TraverseIndex)
			if !ok || i == 0 || !idx.Key.Type().Equals(cty.String) || idx.Key.IsNull() {
				continue
			}
			kind, name := traversalName(tr[i-1]), idx.Key.AsString()
			switch {
			case kind == "enum":
				found = fmt.Errorf("%s: enum[%q]: the engine refers to an enum only as enum.NAME, with NAME an identifier (letters, digits, _ and -): rename the enum",
					posCol(idx.SrcRange), name)
			case needsGuard(name):
				found = fmt.Errorf("%s: %s[%q]: Atlas HCL cannot refer to a name holding a double quote, a backslash or a character that does not print: rename it",
					posCol(idx.SrcRange), kind, name)
			}
		}
		return nil
	})
	return found
}

func traversalName(step hcl.Traverser) string {
	switch s := step.(type) {
	case hcl.TraverseRoot:
		return s.Name
	case hcl.TraverseAttr:
		return s.Name
	}
	return ""
}

func posCol(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
