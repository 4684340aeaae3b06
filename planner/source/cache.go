package source

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"keel/internal/future"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"

	"github.com/jackc/pgx/v5"
)

// Cache keeps normalized desired states on disk. Normalizing loads the
// desired state into a throwaway database and inspects it back, which takes
// seconds for a large schema; the result depends only on the desired state's
// content, the server's version (and the default versions of the declared
// extensions there) and keel's own build, so it is stored under a hash of
// those and read back on the next plan. An entry that cannot be read, does
// not parse, or does not read back to the state it was made from is ignored
// and made again.
//
// Only HCL desired states are cached: SQL files may do anything when they run,
// and a database source is not normalized at all.
type Cache struct {
	// Dir holds the entries, one file each.
	Dir string
	// Background writes a new entry's file while the plan goes on (its
	// checksum, JSON and file: 50-80 ms at 1,000 tables); Flush waits for
	// it. The CLI sets it and flushes before it returns; readers in the
	// same process wait for it too.
	Background bool
}

// DefaultCache is the cache the CLI uses: $KEEL_CACHE_DIR, else "keel" in
// the user's cache directory ($XDG_CACHE_HOME, else ~/.cache on Linux). It is
// nil, no cache, when KEEL_CACHE is "off" or no cache directory is known.
func DefaultCache() *Cache {
	switch strings.ToLower(os.Getenv("KEEL_CACHE")) {
	case "off", "0", "false", "no":
		return nil
	}
	if d := os.Getenv("KEEL_CACHE_DIR"); d != "" {
		return &Cache{Dir: d, Background: true}
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	return &Cache{Dir: filepath.Join(d, "keel"), Background: true}
}

// cacheFormat changes when the form of an entry changes, or what keel
// accepts in a desired state does (an entry vouches that its files read).
// 9: keel's setting attributes (unlogged, storage_params, deferrable, ...),
// and fingerprints that cover the catalog's settings and constraints.
// 10: the columns' `using` conversions, kept in the entry; not_valid,
// match and on_delete_set_columns of constraints, storage_params of indexes.
// 11: partitioned tables and partitions (partition_of, bound) in HCL, and
// fingerprints that cover the catalog's partitions.
// 15: entries are checked to read back to their fingerprint when first
// read back (Verified), not when stored.
// 16: the realm in keel's own encoding (state.EncodeRealm), not the
// engine's HCL; fingerprints from keel's encoding.
// 17: the table blocks' references (scanChanged), and the entry's base.
// 18: the catalog in encodeCatalog's form, and the number of tables.
// 19: the realm's and the catalog's bytes after the JSON line, not in it
// (encoding/json's base64 of them was half of storing an entry).
const cacheFormat = "keel-normalized-state/19"

// Cached is one normalized state, as stored.
type Cached struct {
	Format string `json:"format"`
	Key    string `json:"key"`
	// Realm is the state's realm in keel's own encoding (state.EncodeRealm),
	// stored after the JSON line (RealmBytes long), then Catalog.
	Realm      []byte `json:"-"`
	RealmBytes int    `json:"realm_bytes"`
	// Extensions are the state's extensions.
	Extensions []plan.Extension `json:"extensions"`
	// Fingerprint of the state, so that a reader need not compute it again.
	Fingerprint plan.Fingerprint `json:"fingerprint"`
	// Checksum is a hash of the rest, to tell a damaged entry.
	Checksum string `json:"checksum"`
	// Verified is set once Realm was read back to RealmHash. An entry is
	// stored unverified (a plan whose target already matches never reads it
	// back); the first plan that reads it back checks it, and drops it if
	// it differs.
	Verified bool `json:"verified,omitempty"`
	// Schemas are the state's schemas.
	Schemas []string `json:"schemas"`
	// RealmHash is realmHash of the state as normalized (not as read back).
	RealmHash string `json:"realm_hash"`
	// ExtensionPositions are where the extensions are declared, as "N:line"
	// with N the index of the file: the same bytes may sit in another path.
	ExtensionPositions map[string]string `json:"extension_positions"`
	// ExtensionDefaults are the server's default versions of Extensions when
	// the entry was made (extensionDefaults).
	ExtensionDefaults string `json:"extension_defaults"`
	// Catalog is the state's catalog, as read in the throwaway database,
	// in encodeCatalog's form (the same entries as JSON objects took most
	// of the time of reading an entry); stored after Realm.
	Catalog      []byte `json:"-"`
	CatalogBytes int    `json:"catalog_bytes"`
	// TableCount is how many tables the state has.
	TableCount int `json:"tables"`
	// Using are the columns' conversions (State.Using), which the realm
	// does not hold; each position is "N:line:col" with N the index of
	// the file, as ExtensionPositions.
	Using []UsingEntry `json:"using,omitempty"`
	// Blocks are the hashes of the files' top-level blocks, by kind,
	// labels and schema, when normalizeChanged can start from the entry.
	Blocks map[string]string `json:"blocks,omitempty"`
	// BlockRefs are the tables the table blocks' foreign keys reference,
	// by block id, with Blocks.
	BlockRefs map[string][]string `json:"block_refs,omitempty"`
	// Base is the key of the entry this one was made on, when only the
	// tables that changed were normalized (normalizeChanged).
	Base string `json:"base,omitempty"`

	cache *Cache // where the entry was read from (readFile)
	// adopted, when not nil, is the target's state this base was made of
	// (adoptedBase): no file, nothing stored, read back as it is.
	adopted *state.State
	// normalized is how many tables normalizeChanged normalized on the
	// entry, of tables in all.
	normalized, tables int
	cat                state.Catalog // Catalog, decoded (catalog, on first use)
	catRead            bool          // cat was decoded, or failed to with catErr
	catErr             error
}

// UsingEntry is one column's conversion in a cache entry.
type UsingEntry struct {
	Column     state.CatalogKey `json:"column"`
	Conversion state.Conversion `json:"conversion"`
}

// using is the entry's conversions, with their positions in h's files.
func (e *Cached) using(h *HCL) map[state.CatalogKey]state.Conversion {
	if len(e.Using) == 0 {
		return nil
	}
	out := make(map[state.CatalogKey]state.Conversion, len(e.Using))
	for _, u := range e.Using {
		c := u.Conversion
		if idx, rest, ok := strings.Cut(c.Pos, ":"); ok {
			if n, err := strconv.Atoi(idx); err == nil && n >= 0 && n < len(h.Files) {
				c.Pos = h.Files[n] + ":" + rest
			}
		}
		out[u.Column] = c
	}
	return out
}

// catalog is the entry's catalog, a copy of its own for the caller. It is
// decoded on first use (the checksum readFile checked covers its bytes):
// a plan that changes a few tables reads the entry at once, for its
// blocks' hashes, and the catalog while the server loads those tables.
func (e *Cached) catalog() (state.Catalog, error) {
	if !e.catRead {
		e.cat, e.catErr = decodeCatalog(e.Catalog)
		e.catRead = true
	}
	if e.catErr != nil {
		return nil, fmt.Errorf("the cache entry %s: its catalog does not read back: %w", e.Key, e.catErr)
	}
	return maps.Clone(e.cat), nil
}

// encodeCatalog writes a catalog's entries, sorted, each as five strings
// (kind, schema, table, name, description), each string its length as a
// uvarint and its bytes.
func encodeCatalog(cat state.Catalog) []byte {
	keys := make([]state.CatalogKey, 0, len(cat))
	for k := range cat {
		keys = append(keys, k)
	}
	// In a fixed order, field by field (printing each key to compare took
	// a tenth of storing an entry of 5,000 tables).
	slices.SortFunc(keys, func(a, b state.CatalogKey) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Schema, b.Schema), cmp.Compare(a.Table, b.Table), cmp.Compare(a.Name, b.Name))
	})
	var b []byte
	for _, k := range keys {
		for _, s := range []string{k.Kind, k.Schema, k.Table, k.Name, cat[k]} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return b
}

// decodeCatalog reads what encodeCatalog wrote.
func decodeCatalog(b []byte) (state.Catalog, error) {
	cat := make(state.Catalog)
	var f [5]string
	for len(b) > 0 {
		for i := range f {
			n, k := binary.Uvarint(b)
			if k <= 0 || n > uint64(len(b)-k) {
				return nil, errors.New("a damaged catalog in a cache entry")
			}
			f[i], b = string(b[k:k+int(n)]), b[k+int(n):]
		}
		cat[state.CatalogKey{Kind: f[0], Schema: f[1], Table: f[2], Name: f[3]}] = f[4]
	}
	return cat, nil
}

func (e *Cached) checksum() string {
	ext, _ := json.Marshal(e.Extensions)
	cat := e.Catalog
	using, _ := json.Marshal(e.Using)
	blocks, _ := json.Marshal(e.Blocks)
	refs, _ := json.Marshal(e.BlockRefs)
	h := sha256.New()
	// The fingerprint and realm hash too: a plan whose target matches
	// trusts them without reading the realm back.
	h.Write([]byte(e.Fingerprint.Hash + "\x00" + e.RealmHash + "\x00" + e.Base + "\x00"))
	h.Write(e.Realm)
	h.Write(ext)
	h.Write(cat)
	h.Write(using)
	h.Write(blocks)
	h.Write(refs)
	return hex.EncodeToString(h.Sum(nil))
}

// cacheKey hashes what a normalized HCL state depends on and can be known
// without parsing it: the files' bytes, keel's build and the server's
// version. (The declared extensions' default versions on the server are
// checked against the entry when it is read.) ok is false when it cannot be
// known; then nothing is cached.
func cacheKey(h *HCL, serverVersion string) (string, bool) {
	if len(h.srcs) != len(h.Files) || len(h.Files) == 0 {
		return "", false
	}
	build, ok := buildID()
	if !ok {
		return "", false
	}
	k := sha256.New()
	fmt.Fprintf(k, "%s\nbuild %s\nserver %s\n", cacheFormat, build, serverVersion)
	for _, src := range h.srcs {
		fmt.Fprintf(k, "file %d\n", len(src))
		k.Write(src)
	}
	return hex.EncodeToString(k.Sum(nil)), true
}

// serverVersion is the server's version number.
func serverVersion(ctx context.Context, conn *pgx.Conn) (string, error) {
	var v string
	err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')").Scan(&v)
	return v, err
}

// extensionDefaults is the default version of each extension there.
func extensionDefaults(ctx context.Context, conn *pgx.Conn, exts []plan.Extension) (string, error) {
	names := make([]string, 0, len(exts))
	for _, e := range exts {
		names = append(names, e.Name)
	}
	var v string
	err := conn.QueryRow(ctx, `
SELECT COALESCE(string_agg(name || '=' || COALESCE(default_version, ''), ',' ORDER BY name), '')
FROM pg_catalog.pg_available_extensions WHERE name = ANY($1)`, names).Scan(&v)
	return v, err
}

var buildOnce = sync.OnceValues(func() (string, bool) {
	bi, _ := debug.ReadBuildInfo()
	return buildIDOf(bi, os.Executable)
})

// buildIDOf names the build bi describes, of the executable exe returns.
// A build from a clean checkout, or of a released version (go install
// keel@v1.2.3), is told by what the Go toolchain stamped in it (the commit
// or the module's version and sum, the toolchain, the dependencies' sums
// and the build's settings): the same on every machine that builds it so,
// which lets a CI runner use what an apply elsewhere kept in the database
// (kept.go). Any other build by the executable's path, size and
// modification time: a rebuild with any change is another keel. (Hashing
// the executable costs tens of milliseconds on every plan.)
func buildIDOf(bi *debug.BuildInfo, exe func() (string, error)) (string, bool) {
	if bi != nil {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		released := bi.Main.Version != "" && bi.Main.Version != "(devel)" && bi.Main.Sum != ""
		if rev != "" && modified == "false" || released {
			sum := sha256.Sum256([]byte(bi.String()))
			return bi.Main.Path + "@" + bi.Main.Version + " " + rev + " " + hex.EncodeToString(sum[:]), true
		}
	}
	path, err := exe()
	if err != nil {
		return "", false
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", false
	}
	id := fmt.Sprintf("%s %d %d", path, fi.Size(), fi.ModTime().UnixNano())
	if bi != nil {
		id = bi.Main.Path + "@" + bi.Main.Version + " " + id
	}
	return id, true
}

// buildID identifies this build of keel.
func buildID() (string, bool) { return buildOnce() }

func (c *Cache) path(key string) string { return filepath.Join(c.Dir, key+".json") }

// read returns the entry stored under key, or nil when there is none that
// is whole and still matches the server on conn.
func (c *Cache) read(ctx context.Context, key string, conn *pgx.Conn) *Cached {
	e := c.readFile(key)
	if e == nil || !e.matches(ctx, conn) {
		return nil
	}
	return e
}

// readFile returns the entry stored under key, or nil when there is none
// that is whole; matches tells whether it still matches the server.
func (c *Cache) readFile(key string) *Cached {
	Flush() // a reader in this process finds the entries being written
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return nil
	}
	e, ok := decodeEntry(b)
	if !ok || e.Format != cacheFormat || e.Key != key {
		return nil
	}
	if e.Checksum == "" || e.checksum() != e.Checksum {
		return nil
	}
	e.cache = c
	return e
}

// matches reports whether the declared extensions' default versions on the
// server on conn are still those the entry was made with.
func (e *Cached) matches(ctx context.Context, conn *pgx.Conn) bool {
	if e.adopted != nil {
		return true // the extensions are normalized with the changed tables
	}
	d, err := extensionDefaults(ctx, conn, e.Extensions)
	return err == nil && d == e.ExtensionDefaults
}

// Tables is how many tables the entry's state has.
func (e *Cached) Tables() int { return e.TableCount }

// For is the desired state from the entry, for the target's state current:
// when current hashes as the entry (the target already is the desired
// state, for tables and enums), current's realm with the entry's extensions
// and fingerprint, without reading the entry back; else the entry read back
// (nil when it does not read: normalize then).
func (e *Cached) For(current *state.State, h *HCL) *state.State {
	if current.RealmHash() == e.RealmHash {
		cat, err := e.catalog()
		if err != nil {
			return nil
		}
		want := &state.State{Realm: current.Realm, Extensions: e.extensions(h), Catalog: cat, Using: e.using(h)}
		want.SetFingerprint(e.Fingerprint)
		return want
	}
	want, err := e.load(h)
	if err != nil {
		return nil
	}
	return want
}

// load reads an entry back into a state. The first time, it checks that
// the realm read back has the entry's realm hash (it hashes every
// structure the engine knows), and records that in the entry; an entry
// that does not is removed, and the caller normalizes.
func (e *Cached) load(h *HCL) (*state.State, error) {
	if e.adopted != nil {
		return e.adopted, nil
	}
	st, err := e.state()
	if err != nil {
		return nil, err
	}
	if !e.Verified {
		if st.RealmHash() != e.RealmHash {
			if e.cache != nil {
				os.Remove(e.cache.path(e.Key))
			}
			return nil, fmt.Errorf("the cache entry %s does not read back to its state", e.Key)
		}
		e.Verified = true
		if e.cache != nil {
			e.cache.rewrite(e)
		}
	}
	st.SetFingerprint(e.Fingerprint)
	st.Extensions = e.extensions(h)
	st.Using = e.using(h)
	return st, nil
}

// extensions are the entry's extensions with the positions of their
// declarations in h's files.
func (e *Cached) extensions(h *HCL) []plan.Extension {
	exts := make([]plan.Extension, len(e.Extensions))
	copy(exts, e.Extensions)
	for i, x := range exts {
		idx, line, ok := strings.Cut(e.ExtensionPositions[x.Name], ":")
		n, err := strconv.Atoi(idx)
		if ok && err == nil && n >= 0 && n < len(h.Files) {
			exts[i].Pos = h.Files[n] + ":" + line
		}
	}
	return exts
}

// state reads the entry back.
func (e *Cached) state() (*state.State, error) {
	r, err := state.DecodeRealm(e.Realm)
	if err != nil {
		return nil, err
	}
	cat, err := e.catalog()
	if err != nil {
		return nil, err
	}
	return &state.State{Realm: r, Extensions: e.Extensions, Catalog: cat}, nil
}

// put stores st under key, if it reads back to the same fingerprint. A
// failure to store is not an error: the next plan normalizes again. It asks
// the server on dev first, then calls free (dev is free for others), then
// encodes and writes the entry.
func (c *Cache) put(ctx context.Context, key string, st *state.State, dev *pg.Conn, h *HCL, set *blockSet, base string, free func() error) {
	files := h.Files
	if len(st.Invalid) > 0 || len(st.NotManaged) > 0 || st.Catalog == nil {
		return
	}
	defaults, err := extensionDefaults(ctx, dev.Pgx(), st.Extensions)
	if err != nil {
		return
	}
	version, verr := serverVersion(ctx, dev.Pgx())
	if free != nil {
		// It only starts work in the background: nothing to report.
		_ = free()
	}
	// The realm and the catalog are encoded while the state is hashed,
	// and, where c writes in the background, while the plan goes on (all
	// only read the state, which nothing changes once normalized): at
	// 1,000 tables each takes 50-100 ms.
	type encoding struct {
		realm, catalog []byte
		err            error
	}
	encoded := future.Go(func() (enc encoding) {
		if enc.realm, enc.err = state.EncodeRealm(st.Realm); enc.err == nil {
			enc.catalog = encodeCatalog(st.Catalog)
		}
		return enc
	})
	fp, err := st.Fingerprint()
	realmHash := st.RealmHash()
	if err != nil {
		encoded() // not left running
		return
	}
	e := Cached{Format: cacheFormat, Key: key, Extensions: st.Extensions, Fingerprint: fp,
		Schemas: st.SchemaNames(), ExtensionDefaults: defaults, RealmHash: realmHash,
		ExtensionPositions: make(map[string]string), Base: base}
	for _, x := range st.Extensions {
		for i, f := range files {
			if line, ok := strings.CutPrefix(x.Pos, f+":"); ok {
				e.ExtensionPositions[x.Name] = fmt.Sprintf("%d:%s", i, line)
			}
		}
	}
	for k := range st.Catalog {
		if k.Kind == state.CatalogTable {
			e.TableCount++
		}
	}
	for k, c := range st.Using {
		for i, f := range files {
			if rest, ok := strings.CutPrefix(c.Pos, f+":"); ok {
				c.Pos = fmt.Sprintf("%d:%s", i, rest)
				break
			}
		}
		e.Using = append(e.Using, UsingEntry{Column: k, Conversion: c})
	}
	sort.Slice(e.Using, func(i, j int) bool { return e.Using[i].Column.String() < e.Using[j].Column.String() })
	if set == nil {
		set, _ = h.blocks()
	}
	if set != nil && set.eligible {
		e.Blocks, e.BlockRefs = set.hashes(), set.refs()
	}
	// The entry is the base of the next plan of these files once they
	// change (normalizeChanged): the pointer to it, by the files' paths.
	latest := ""
	if e.Blocks != nil && verr == nil {
		if k, ok := latestKey(h, version); ok {
			latest = k
		}
	}
	e.Extensions = slices.Clone(e.Extensions)
	store := func() {
		enc := encoded()
		if enc.err != nil {
			return
		}
		e.Realm, e.Catalog = enc.realm, enc.catalog
		e.Checksum = e.checksum()
		c.write(key, &e)
		if latest != "" {
			c.writeFile(latest+".latest", []byte(key))
		}
	}
	if !c.Background {
		store()
		return
	}
	pendingWrites.Add(1)
	go func() {
		defer pendingWrites.Done()
		if beforeBackgroundWrite != nil {
			beforeBackgroundWrite()
		}
		store()
	}()
}

// rewrite stores e again under its key (once it is verified): in the
// background when c writes in the background, from a copy (e is the
// caller's).
func (c *Cache) rewrite(e *Cached) {
	if !c.Background {
		c.write(e.Key, e)
		return
	}
	cp := *e
	pendingWrites.Add(1)
	go func() {
		defer pendingWrites.Done()
		if beforeBackgroundWrite != nil {
			beforeBackgroundWrite()
		}
		c.write(cp.Key, &cp)
	}()
}

// beforeBackgroundWrite, when set, runs before an entry is written in the
// background (for tests: a slow disk).
var beforeBackgroundWrite func()

// pendingWrites are the entries a Cache with Background set is writing.
var pendingWrites sync.WaitGroup

// Flush waits until the entries that caches with Background set are
// writing are written. A process that exits without it may lose them (a
// later plan normalizes again; a reader never sees half an entry).
func Flush() { pendingWrites.Wait() }

// pointLatest makes e, the entry found under key for h's files, the base
// of their next plan once they change (normalizeChanged). An entry is found
// by the files' bytes, the pointer to the last one by their paths: without
// this, the same bytes at other paths (a copied file, another checkout, a
// cache restored on a CI runner) found their entry, but their first change
// was normalized whole.
func (c *Cache) pointLatest(h *HCL, serverVersion, key string, e *Cached) {
	if e.Blocks != nil {
		c.pointLatestKey(h, serverVersion, key)
	}
}

// pointLatestKey points the pointer to the last entry of h's files at key.
func (c *Cache) pointLatestKey(h *HCL, serverVersion, key string) {
	if serverVersion == "" {
		return
	}
	latest, ok := latestKey(h, serverVersion)
	if !ok {
		return
	}
	Flush() // a reader in this process finds the entries being written
	if b, err := os.ReadFile(filepath.Join(c.Dir, latest+".latest")); err == nil && string(b) == key {
		return
	}
	c.writeFile(latest+".latest", []byte(key))
}

// latestKey names the pointer to the last entry made for files at these
// paths, by this keel and server version.
func latestKey(h *HCL, serverVersion string) (string, bool) {
	build, ok := buildID()
	if !ok || serverVersion == "" {
		return "", false
	}
	k := sha256.New()
	fmt.Fprintf(k, "%s\nbuild %s\nserver %s\nlatest\n", cacheFormat, build, serverVersion)
	for _, f := range h.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return "", false
		}
		fmt.Fprintf(k, "file %q\n", abs)
	}
	return hex.EncodeToString(k.Sum(nil)), true
}

// baseKey is the key of the last entry made for h's files, or "".
func (c *Cache) baseKey(ctx context.Context, h *HCL, dev *pg.Conn) string {
	v, err := serverVersion(ctx, dev.Pgx())
	if err != nil {
		return ""
	}
	latest, ok := latestKey(h, v)
	if !ok {
		return ""
	}
	Flush() // a reader in this process finds the entries being written
	key, err := os.ReadFile(filepath.Join(c.Dir, latest+".latest"))
	if err != nil {
		return ""
	}
	return string(key)
}

// ReadNamed returns the cache's file name, which WriteNamed wrote; ok is
// false when there is none.
func (c *Cache) ReadNamed(name string) (b []byte, ok bool) {
	Flush() // a reader in this process finds the entries being written
	b, err := os.ReadFile(filepath.Join(c.Dir, name))
	return b, err == nil
}

// WriteNamed stores b as the cache's file name, whole or not at all. A
// failure to store is not an error.
func (c *Cache) WriteNamed(name string, b []byte) { c.writeFile(name, b) }

// write stores an entry under key. A failure to store is not an error.
func (c *Cache) write(key string, e *Cached) {
	if b, ok := encodeEntry(e); ok {
		c.writeFile(key+".json", b)
	}
}

// encodeEntry is an entry's file: its JSON on one line, then the realm's
// and the catalog's bytes.
func encodeEntry(e *Cached) ([]byte, bool) {
	e.RealmBytes, e.CatalogBytes = len(e.Realm), len(e.Catalog)
	head, err := json.Marshal(e)
	if err != nil {
		return nil, false
	}
	b := make([]byte, 0, len(head)+1+len(e.Realm)+len(e.Catalog))
	b = append(append(b, head...), '\n')
	b = append(b, e.Realm...)
	return append(b, e.Catalog...), true
}

// decodeEntry reads what encodeEntry wrote; ok is false when it is not
// whole (the bytes after the JSON line are not as long as it says).
func decodeEntry(b []byte) (*Cached, bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, false
	}
	e := &Cached{}
	if err := json.Unmarshal(b[:i], e); err != nil {
		return nil, false
	}
	rest := b[i+1:]
	if e.RealmBytes < 0 || e.CatalogBytes < 0 || len(rest) != e.RealmBytes+e.CatalogBytes {
		return nil, false
	}
	e.Realm, e.Catalog = rest[:e.RealmBytes:e.RealmBytes], rest[e.RealmBytes:]
	return e, true
}

// writeFile writes a file of the cache. A failure to is not an error.
func (c *Cache) writeFile(name string, b []byte) {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return
	}
	// Write then rename, so that a reader never sees half a file.
	tmp, err := os.CreateTemp(c.Dir, name+".*.tmp")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return
	}
	if err := os.Rename(tmp.Name(), filepath.Join(c.Dir, name)); err != nil {
		os.Remove(tmp.Name())
	}
}

// EncodeCatalog writes a catalog as cache entries keep it; DecodeCatalog
// reads it back.
func EncodeCatalog(cat state.Catalog) []byte { return encodeCatalog(cat) }

// DecodeCatalog reads what EncodeCatalog wrote.
func DecodeCatalog(b []byte) (state.Catalog, error) { return decodeCatalog(b) }

// BuildID names this build of keel (its commit and toolchain, for a build
// of a clean checkout; else the executable's path, size and modification
// time), as cache entries are keyed on it; ok is false when it cannot be
// told.
func BuildID() (id string, ok bool) { return buildID() }
