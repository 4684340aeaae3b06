package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"keel/internal/trace"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// A database keel never applied has no kept state, and a fresh runner's
// cache holds nothing: its first plan would normalize the whole desired
// state, creating every table again in a throwaway database (at 1,000
// tables, longer than PostgreSQL takes to create them on one connection).
// Such a database is mostly adopted: its files are what keel inspect
// printed of it, and its tables are, in PostgreSQL's normal form, what the
// files say. So a plan that reads the target before normalizing (see
// AdoptFrom) prints the target's tables as keel inspect does
// (state.MarshalHCL) and takes the target's state as the base of the files'
// change (normalizeChanged): a table whose block is, byte for byte, the
// block printed of the table in the database is taken as the database has
// it; the tables whose blocks differ, and those whose foreign keys point at
// them, are normalized in a scratch database as after any change. The
// schemas, extensions and enums are always normalized there, and what
// PostgreSQL's catalog says of them there must be what it says in the
// target (compose), else the whole desired state is normalized: so a
// database with objects the files leave out (a view, a grant, a trigger)
// is never taken for them. KEEL_CACHE=off normalizes the whole state.

// AdoptFrom gives Load the target's state and catalog, as the plan read
// them (read waits for them; nil when they could not be read): for files
// with no cache entry, no base and no kept state, the target is then the
// base of their change (see above). Only for a dev server that is the
// target's (the same server prints the same catalog).
func (d *DevDatabase) AdoptFrom(read func() (*state.State, state.Catalog)) {
	d.adopt = read
	if d.adopted == nil {
		d.adopted = &adoption{}
	}
}

// Adopted says, after Load, whether the desired state was made on the
// target's state: how many tables were taken as the database has them, and
// how many normalized.
func (d *DevDatabase) Adopted() (taken, normalized int, ok bool) {
	if d.adopted == nil || !d.adopted.done {
		return 0, 0, false
	}
	return d.adopted.taken, d.adopted.normalized, true
}

// adoption is what Load made of the target's state (done, when it took it).
type adoption struct {
	done              bool
	taken, normalized int
}

// adoptedBase is the target's state as a base entry: its blocks as
// state.MarshalHCL prints them, its realm (a copy: the plan compares the
// target's own) and its catalog. Nil when the target could not be read, or
// holds what a base cannot (indexes left invalid, objects keel does not
// manage), or does not print.
//
// want are the hashes of the files' blocks (blockHashes), for printBlocks.
func (d *DevDatabase) adoptedBase(ctx context.Context, want map[string]bool) *Cached {
	if d.adopt == nil {
		return nil
	}
	target, cat := d.adopt()
	if target == nil || cat == nil || target.Realm == nil || len(target.Invalid) > 0 || len(target.NotManaged) > 0 {
		return nil
	}
	// A copy: the plan compares the target's own realm, and printing
	// changes what it prints for a moment (marshalRealm).
	enc, err := state.EncodeRealm(target.Realm)
	if err != nil {
		return nil
	}
	realm, err := state.DecodeRealm(enc)
	if err != nil {
		return nil
	}
	set, ok := printBlocks(realm, target.Extensions, cat, want)
	if !ok || !set.eligible {
		return nil
	}
	// A table whose block may not say all the catalog says is normalized
	// as if it had changed.
	hashes := set.hashes()
	unprinted := tablesNotPrinted(realm, cat, set.blocks)
	for id, b := range set.blocks {
		if _, less := unprinted[b.schema+"\x00"+b.name]; b.kind == "table" && less {
			hashes[id] = "not printed whole: " + id
		}
	}
	own := make(state.Catalog, len(cat))
	for k, v := range cat {
		own[k] = v
	}
	trace.Mark(ctx, "desired state: the database's tables printed as keel inspect prints them")
	return &Cached{Blocks: hashes, BlockRefs: set.refs(), Verified: true,
		adopted: &state.State{Realm: realm, Catalog: own}}
}

// printChunk is how many tables printBlocks prints at a time.
const printChunk = 250

// printBlocks reads the blocks of state.MarshalHCL of the realm r (keel's
// copy), extensions and catalog, as scanChanged reads them. The tables
// are printed printChunk at a time, on workers goroutines, each chunk with
// the catalog entries of its tables: the engine's
// printer holds what it prints whole (at 5,000 tables, one print took 1.8
// s of CPU, much of it collecting garbage, and raised the plan's memory
// above 500 MB). The engine prints a table the same way in a chunk as in
// the whole realm (nothing of it looks at the other tables once the realm
// is left out, which marshalRealm does too); the schemas, enums and
// extensions are printed once, without tables.
//
// want, when not nil, are the hashes of the files' blocks: once more
// printed tables than a quarter (and 8) have blocks the files do not have,
// the files are normalized whole anyway (normalizeChanged): printing stops
// there, and ok is false.
func printBlocks(r *schema.Realm, exts []plan.Extension, cat state.Catalog, want map[string]bool) (*blockSet, bool) {
	deps := false
	type chunkTable struct {
		s *schema.Schema
		t *schema.Table
	}
	var all []chunkTable
	for _, s := range r.Schemas {
		for _, t := range s.Tables {
			deps = deps || len(t.Deps) > 0
			all = append(all, chunkTable{s, t})
		}
	}
	if deps || len(all) <= printChunk {
		printed, err := state.MarshalHCL(&state.State{Realm: r, Extensions: exts, Catalog: cat})
		if err != nil {
			return nil, false
		}
		return scanChanged([]string{"the database"}, [][]byte{printed}, nil)
	}
	// What the chunks share is made ready here, once: the schemas of no
	// realm (see marshalRealm), enums without values with an empty list.
	for _, s := range r.Schemas {
		s.Realm = nil
		for _, o := range s.Objects {
			if e, ok := o.(*schema.EnumType); ok && e.Values == nil {
				e.Values = []string{}
				defer func() { e.Values = nil }()
			}
		}
	}
	defer func() {
		for _, s := range r.Schemas {
			s.Realm = r
		}
	}()
	byTable := make(map[string]state.Catalog)
	rest := make(state.Catalog)
	for k, v := range cat {
		t, ok := tableOf(k)
		if !ok {
			rest[k] = v
			continue
		}
		if byTable[t] == nil {
			byTable[t] = make(state.Catalog)
		}
		byTable[t][k] = v
	}
	// print prints the schemas with the tables of one chunk (none: the
	// schemas, enums and extensions) and reads its blocks: of a chunk,
	// its tables only (the extensions name their types in columns).
	print := func(chunk []chunkTable, exts []plan.Extension, cat state.Catalog) (*blockSet, bool) {
		realm := &schema.Realm{Attrs: r.Attrs, Objects: r.Objects}
		copies := make(map[*schema.Schema]*schema.Schema)
		for _, s := range r.Schemas {
			c := &schema.Schema{Name: s.Name, Attrs: s.Attrs, Objects: s.Objects}
			copies[s] = c
			realm.Schemas = append(realm.Schemas, c)
		}
		in := make(map[*schema.Table]bool, len(chunk))
		for _, ct := range chunk {
			c := copies[ct.s]
			c.Tables = append(c.Tables, ct.t)
			in[ct.t] = true
			for k, v := range byTable[ct.s.Name+"\x00"+ct.t.Name] {
				cat[k] = v
			}
		}
		// The tables the chunk's foreign keys reference are printed with
		// it, without foreign keys of their own (the printer looks them
		// up by name), and left out of its blocks.
		mine := make(map[string]bool, len(chunk))
		for _, ct := range chunk {
			mine[ct.s.Name+"\x00"+ct.t.Name] = true
			for _, fk := range ct.t.ForeignKeys {
				ref := fk.RefTable
				if ref == nil || ref.Schema == nil || in[ref] {
					continue
				}
				c, ok := copies[ref.Schema]
				if !ok {
					return nil, false
				}
				in[ref] = true
				stripped := *ref
				stripped.ForeignKeys = nil
				c.Tables = append(c.Tables, &stripped)
			}
		}
		printed, err := state.MarshalHCL(&state.State{Realm: realm, Extensions: exts, Catalog: cat})
		if err != nil {
			return nil, false
		}
		set, ok := scanChanged([]string{"the database"}, [][]byte{printed}, nil)
		if !ok || len(chunk) == 0 {
			return set, ok
		}
		for id, b := range set.blocks {
			if b.kind != "table" || !mine[b.schema+"\x00"+b.name] {
				delete(set.blocks, id)
			}
		}
		return set, ok
	}
	var chunks [][]chunkTable
	for len(all) > 0 {
		n := min(printChunk, len(all))
		chunks = append(chunks, all[:n])
		all = all[n:]
	}
	sets := make([]*blockSet, len(chunks)+1)
	oks := make([]bool, len(chunks)+1)
	var wg sync.WaitGroup
	next := make(chan int, len(chunks)+1)
	for i := range len(chunks) + 1 {
		next <- i
	}
	close(next)
	var differ atomic.Int64 // printed tables whose blocks the files do not have
	limit := int64(max(8, len(all)/4))
	for range workers(len(all)) {
		wg.Go(func() {
			for i := range next {
				if want != nil && differ.Load() > limit {
					continue
				}
				if i == len(chunks) {
					sets[i], oks[i] = print(nil, exts, maps.Clone(rest))
					continue
				}
				sets[i], oks[i] = print(chunks[i], exts, make(state.Catalog))
				if want != nil && oks[i] {
					n := 0
					for h := range maps.Values(sets[i].hashes()) {
						if !want[h] {
							n++
						}
					}
					differ.Add(int64(n))
				}
			}
		})
	}
	wg.Wait()
	if want != nil && differ.Load() > limit {
		return nil, false
	}
	out := &blockSet{blocks: make(map[string]*hclBlock), eligible: true}
	for i, set := range sets {
		if !oks[i] {
			return nil, false
		}
		out.eligible = out.eligible && set.eligible
		for _, b := range set.blocks {
			out.add(b, true)
		}
	}
	return out, true
}

// printTablesPerWorker is how many tables printBlocks prints on a
// goroutine of its own: each prints a chunk at a time, and two at 1,000
// tables took 15-20 MB more of a plan's peak memory (145-147 MB against
// 125-135 MB, near the 150 MB goal) for 0.05 s; at 5,000 tables two took
// 5.0 s against 6.2-6.6 s.
var printTablesPerWorker = 2000 // a test sets it lower

// workers is how many goroutines print n tables: one per
// printTablesPerWorker, at least one, at most as many as Go runs at once.
func workers(n int) int {
	return max(1, min(n/printTablesPerWorker, runtime.GOMAXPROCS(0)))
}

// blockHashes are the hashes of the top-level blocks of srcs as found by
// their layout (state.LayoutBlocks), as blockSet.hashes computes them; nil
// when a file is laid out otherwise.
func blockHashes(srcs [][]byte) map[string]bool {
	out := make(map[string]bool)
	for _, src := range srcs {
		pieces, ok := state.LayoutBlocks(src)
		if !ok {
			return nil
		}
		for _, p := range pieces {
			sum := sha256.Sum256(src[p[0]:p[1]])
			out[hex.EncodeToString(sum[:12])] = true
		}
	}
	return out
}

// adoptedExtensions are the extensions normalized with the skeleton (as
// declared), at their declarations in h's files.
func adoptedExtensions(norm []plan.Extension, h *HCL) []plan.Extension {
	out := make([]plan.Extension, len(norm))
	copy(out, norm)
	for i, x := range out {
		out[i].Pos = ""
		prefix := []byte("extension " + strconv.Quote(x.Name))
		for f, src := range h.srcs {
			line := 1
			for rest := src; len(rest) > 0; line++ {
				if bytes.HasPrefix(rest, prefix) && out[i].Pos == "" {
					out[i].Pos = fmt.Sprintf("%s:%d", h.Files[f], line)
				}
				nl := bytes.IndexByte(rest, '\n')
				if nl < 0 {
					break
				}
				rest = rest[nl+1:]
			}
		}
	}
	return out
}

// OnServerOf says whether d normalizes on the server of target's
// connection (no dev_url server of its own).
func (d DevDatabase) OnServerOf(target *pg.Conn) bool {
	return d.Server == nil || d.Server == target.DB()
}

// tablesNotPrinted are the tables ("schema\x00table") whose blocks, as
// keel inspect prints them, may not say all the catalog says: taken as the
// database has them, such a table would hide what a whole normalization
// of its block shows (a plan that drops what the block leaves out). Each
// check is of something the printer is known to leave out or print in a
// form that does not load (testdata/adopt in the corpus tests): a
// column, constraint or index of the catalog that the realm does not hold
// or the engine does not print (an exclusion constraint); a constraint that
// is not a primary key, foreign key, check or unique key, or is NO INHERIT;
// a primary key not named as PostgreSQL names it; a collation on a column
// or in an index; a type written as sql("..."); and what the printer says
// it cannot write.
func tablesNotPrinted(r *schema.Realm, cat state.Catalog, blocks map[string]*hclBlock) map[string]string {
	out := make(map[string]string) // the first reason, in sort order
	note := func(table, why string) {
		if was, ok := out[table]; !ok || why < was {
			out[table] = why
		}
	}
	names := make(map[string]bool)
	for _, s := range r.Schemas {
		for _, t := range s.Tables {
			table := s.Name + "\x00" + t.Name
			at := table + "\x00"
			for _, c := range t.Columns {
				names[at+state.CatalogColumn+"\x00"+c.Name] = true
				if hasCollation(c.Attrs) {
					note(table, "column "+strconv.Quote(c.Name)+": its collation")
				}
			}
			constraint := func(name string) { names[at+state.CatalogConstraint+"\x00"+name] = true }
			index := func(name string) { names[at+state.CatalogIndex+"\x00"+name] = true }
			if pk := t.PrimaryKey; pk != nil {
				if pk.Name != t.Name+"_pkey" {
					note(table, "primary key "+strconv.Quote(pk.Name)+": its name")
				}
				constraint(pk.Name)
				index(pk.Name)
			}
			for _, fk := range t.ForeignKeys {
				constraint(fk.Symbol)
			}
			for _, idx := range t.Indexes {
				if !printedIndex(idx) {
					continue
				}
				constraint(idx.Name) // a unique constraint is its index
				index(idx.Name)
			}
			for _, a := range t.Attrs {
				if c, ok := a.(*schema.Check); ok {
					constraint(c.Name)
				}
			}
		}
	}
	for k, v := range cat {
		if k.Table == "" {
			continue
		}
		table := k.Schema + "\x00" + k.Table
		switch k.Kind {
		case state.CatalogColumn, state.CatalogConstraint, state.CatalogIndex:
			if !names[table+"\x00"+k.Kind+"\x00"+k.Name] {
				note(table, k.Kind+" "+strconv.Quote(k.Name)+": not printed at all")
			}
		}
		switch {
		case k.Kind == state.CatalogConstraint && !constraintPrinted(v):
			note(table, "constraint "+strconv.Quote(k.Name)+": not printed at all")
		case k.Kind == state.CatalogConstraint && strings.Contains(v, " NO INHERIT"):
			note(table, "constraint "+strconv.Quote(k.Name)+": its NO INHERIT")
		case k.Kind == state.CatalogIndex && strings.Contains(v, " COLLATE "):
			note(table, "index "+strconv.Quote(k.Name)+": its collation")
		}
	}
	for _, b := range blocks {
		switch {
		case b.kind != "table":
		case bytes.Contains(b.src, []byte("type = sql(")):
			note(b.schema+"\x00"+b.name, "a column type printed as sql(...), which may not load")
		case bytes.Contains(b.src, []byte(state.CannotWriteMarker)):
			note(b.schema+"\x00"+b.name, "what its comment line says keel cannot write")
		}
	}
	return out
}

// PrintedWithLess lists the tables of st (read with its catalog) that
// printed, the HCL keel inspect printed of it, says less of than the
// catalog (see tablesNotPrinted), each as "schema.table: why", sorted; nil
// when printed is not laid out as keel prints.
func PrintedWithLess(st *state.State, printed []byte) []string {
	set, ok := scanChanged([]string{"printed"}, [][]byte{printed}, nil)
	if !ok || st.Realm == nil {
		return nil
	}
	var out []string
	for t, why := range tablesNotPrinted(st.Realm, st.Catalog, set.blocks) {
		schemaName, name, _ := strings.Cut(t, "\x00")
		out = append(out, plan.DisplayPart(schemaName)+"."+plan.DisplayPart(name)+": "+why)
	}
	sort.Strings(out)
	return out
}

// constraintPrinted says whether a constraint's definition is of a kind the
// printer writes: a primary key, foreign key, check or unique key.
func constraintPrinted(def string) bool {
	for _, p := range []string{"PRIMARY KEY ", "FOREIGN KEY ", "CHECK ", "UNIQUE "} {
		if strings.HasPrefix(def, p) {
			return true
		}
	}
	return false
}

// hasCollation says whether attrs hold a collation.
func hasCollation(attrs []schema.Attr) bool {
	for _, a := range attrs {
		if _, ok := a.(*schema.Collation); ok {
			return true
		}
	}
	return false
}

// printedIndex says whether the engine prints an index of its realm: its
// open-source build prints no exclusion constraint.
func printedIndex(idx *schema.Index) bool {
	for _, a := range idx.Attrs {
		if c, ok := a.(*postgres.Constraint); ok && c.IsExclude() {
			return false
		}
	}
	return true
}
