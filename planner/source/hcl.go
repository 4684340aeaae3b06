package source

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"keel/planner/state"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// HCLFiles returns the desired-state files at path: the file itself, or the
// `.hcl` files of a directory in name order.
func HCLFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading desired state: %w", err)
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	files, err := filepath.Glob(filepath.Join(path, "*.hcl"))
	if err != nil {
		return nil, fmt.Errorf("reading desired state: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("reading desired state: directory %s holds no .hcl file", path)
	}
	sort.Strings(files)
	return files, nil
}

// HCL is a desired state written in Atlas HCL.
type HCL struct {
	// Files are the files read, in order.
	Files []string
	// srcs are the files' contents, as read.
	srcs [][]byte
	// parsed is closed once state and err are set; start starts the parse.
	start  sync.Once
	parsed chan struct{}
	state  *state.State
	err    error
	// scanned are the files' top-level blocks (scanBlocks), read once.
	scanned func() (*blockSet, error)
	// read are the files' top-level blocks as the parse read them, when it
	// read every file block by block (set with state, before parsed is
	// closed): scanned then needs no second syntax parse.
	read *blockSet
}

// readBlocks collects the blocks state.ParseHCLReading's parse reads.
type readBlocks struct {
	mu    sync.Mutex
	files [][]readBlockAt
}

// readBlockAt is a top-level block read, with its index in its file.
type readBlockAt struct {
	i        int
	blk      *hclBlock
	eligible bool
}

// Block reads b as scanBlocks does (readBlock), at once: the parse goes on
// to change the blocks' bodies.
func (r *readBlocks) Block(file, i int, b *hclsyntax.Block, src []byte) {
	blk, eligible := readBlock(b, src)
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.files) <= file {
		r.files = append(r.files, nil)
	}
	r.files[file] = append(r.files[file], readBlockAt{i, blk, eligible})
}

// set is the blocks read, in the files' order, as scanBlocks makes it.
func (r *readBlocks) set() *blockSet {
	set := &blockSet{blocks: make(map[string]*hclBlock), eligible: true}
	for _, f := range r.files {
		slices.SortFunc(f, func(a, b readBlockAt) int { return a.i - b.i })
		for _, b := range f {
			set.add(b.blk, b.eligible)
		}
	}
	return set
}

// readInParse returns the blocks the parse read, once it is done and read
// every file block by block; else nil.
func (h *HCL) readInParse() *blockSet {
	select {
	case <-h.parsed:
		return h.read
	default:
		return nil
	}
}

// blocks are the files' top-level blocks, read with the syntax parser only.
func (h *HCL) blocks() (*blockSet, error) {
	if h.scanned == nil {
		if set := h.readInParse(); set != nil {
			return set, nil
		}
		return scanBlocks(h.Files, h.srcs)
	}
	return h.scanned()
}

// lineStarts calls fn with what follows prefix at each start of a line in
// src that begins with it (as the regular expression (?m)^prefix would
// find, at a fraction of its time on a large file).
func lineStarts(src []byte, prefix string, fn func(rest []byte)) {
	if bytes.HasPrefix(src, []byte(prefix)) {
		fn(src[len(prefix):])
	}
	needle := []byte("\n" + prefix)
	for i := 0; ; {
		j := bytes.Index(src[i:], needle)
		if j < 0 {
			return
		}
		i += j + len(needle)
		fn(src[i:])
	}
}

// schemaBlockName is the name in the first line of a schema block, as keel
// and Atlas print it: rest follows `schema "` and must be an unquoted
// identifier, then `" {`.
func schemaBlockName(rest []byte) (string, bool) {
	n := 0
	for n < len(rest) {
		c := rest[n]
		if c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || n > 0 && ('0' <= c && c <= '9' || c == '$') {
			n++
			continue
		}
		break
	}
	if n == 0 || !bytes.HasPrefix(rest[n:], []byte(`" {`)) {
		return "", false
	}
	return string(rest[:n]), true
}

// Tables is about how many tables the files declare: table blocks that
// start a line, counted without parsing. It only tells a large schema
// from a small one (to read it on more connections).
func (h *HCL) Tables() int {
	n := 0
	for _, src := range h.srcs {
		lineStarts(src, `table "`, func([]byte) { n++ })
	}
	return n
}

// SchemaLines are the names of the schema blocks that start a line as keel
// and Atlas print them (schema "NAME" {), sorted, found without parsing:
// the caller checks them against the normalized state. None when the files
// have no such line.
func (h *HCL) SchemaLines() []string {
	var names []string
	for _, src := range h.srcs {
		lineStarts(src, `schema "`, func(rest []byte) {
			if name, ok := schemaBlockName(rest); ok {
				names = append(names, name)
			}
		})
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// SchemaNames are the schemas the files declare, read without evaluating
// the files (a full parse of a large desired state is most of a plan's
// time when little else is to do). The names are a guess the caller checks:
// the schema blocks found by their first line, or else by the syntax
// parser.
func (h *HCL) SchemaNames() ([]string, error) {
	if names := h.SchemaLines(); len(names) > 0 {
		return names, nil
	}
	var names []string
	set, err := h.blocks()
	if err != nil {
		st, err := h.Parsed()
		if err != nil {
			return nil, err
		}
		return st.SchemaNames(), nil
	}
	for _, b := range set.blocks {
		if b.kind == "schema" {
			if _, label, ok := strings.Cut(b.id, "\x00"); ok {
				names = append(names, strings.SplitN(label, "\x00", 2)[0])
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// Parsed returns the state as written, before normalization, parsing it on
// first use. Errors name the file and line.
func (h *HCL) Parsed() (*state.State, error) {
	h.parseInBackground()
	<-h.parsed
	return h.state, h.err
}

// parseInBackground starts parsing, if nothing did yet, without waiting.
func (h *HCL) parseInBackground() {
	h.start.Do(func() {
		go func() {
			defer close(h.parsed)
			read := &readBlocks{}
			var whole bool
			h.state, whole, h.err = state.ParseHCLReading(h.Files, h.srcs, read)
			if whole {
				h.read = read.set()
			}
		}()
	})
}

// LoadHCL reads the desired state from Atlas HCL files (a file, or a directory
// of .hcl files) and parses it. `extension` blocks, which the open-source
// engine rejects, are taken out and kept as the state's Extensions; the rest
// is evaluated by the engine. Errors name the file and line.
func LoadHCL(path string) (*HCL, error) {
	h, err := OpenHCL(path)
	if err != nil {
		return nil, err
	}
	if _, err := h.Parsed(); err != nil {
		return nil, err
	}
	return h, nil
}

// OpenHCL reads the desired-state files; they are parsed when first needed
// (Parsed). A plan whose normalized state is cached and whose target already
// matches it never needs the parse, which is most of a large plan's memory.
func OpenHCL(path string) (*HCL, error) {
	files, err := HCLFiles(path)
	if err != nil {
		return nil, err
	}
	srcs := make([][]byte, len(files))
	for i, f := range files {
		if srcs[i], err = os.ReadFile(f); err != nil {
			return nil, fmt.Errorf("reading desired state: %w", err)
		}
	}
	h := &HCL{Files: files, srcs: srcs, parsed: make(chan struct{})}
	h.scanned = sync.OnceValues(func() (*blockSet, error) {
		if set := h.readInParse(); set != nil {
			return set, nil
		}
		return scanBlocks(h.Files, h.srcs)
	})
	return h, nil
}
