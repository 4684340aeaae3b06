package source

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"keel/internal/pgtest"
	"keel/planner/pg"
	"keel/planner/state"
)

// testConn is a connection to a new database of its own.
func testConn(t *testing.T) *pg.Conn {
	t.Helper()
	u, _ := pgtest.NewDatabase(t)
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Open(context.Background(), "keel test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// An entry is stored without reading it back; the first load that reads it
// back checks that it has the entry's realm hash and records that. One
// that does not (here: its encoded realm altered, its checksum made to match) is
// removed and the state normalized again, so no plan comes from it.
func TestCacheEntryCheckedWhenFirstReadBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := testConn(t)
	path := filepath.Join(t.TempDir(), "schema.hcl")
	if err := os.WriteFile(path, []byte("schema \"public\" {}\ntable \"notes\" {\n  schema = schema.public\n  column \"body\" {\n    type = text\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := &Cache{Dir: t.TempDir()}
	load := func() (fingerprint string, entry *Cached, file string) {
		t.Helper()
		h, err := LoadHCL(path)
		if err != nil {
			t.Fatal(err)
		}
		dev, done, err := DevDatabase{Cache: cache}.Open(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		defer done()
		st, err := h.Load(ctx, dev)
		if err != nil {
			t.Fatal(err)
		}
		fp, err := st.Fingerprint()
		if err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(cache.Dir, "*.json"))
		if len(files) != 1 {
			t.Fatalf("cache entries: %v", files)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		e, ok := decodeEntry(b)
		if !ok {
			t.Fatal("the entry does not decode")
		}
		return fp.Hash, e, files[0]
	}
	fresh, e, file := load()
	if e.Verified {
		t.Fatal("the entry was read back when stored")
	}
	if got, e, _ := load(); got != fresh || !e.Verified {
		t.Fatalf("loaded from the cache: fingerprint %s (fresh %s), verified %t", got, fresh, e.Verified)
	}
	// Alter the entry so that it reads back to another state.
	if !bytes.Contains(e.Realm, []byte("\x04text")) {
		t.Fatal("the entry's realm has no text type")
	}
	e.Realm = bytes.Replace(e.Realm, []byte("\x04text"), []byte("\x04bool"), 1)
	e.Verified = false
	e.Checksum = e.checksum()
	b, _ := encodeEntry(e)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, e, _ := load(); got != fresh || e.Verified || bytes.Contains(e.Realm, []byte("\x04bool")) {
		t.Fatalf("an entry that does not read back was used: fingerprint %s (fresh %s), verified %t", got, fresh, e.Verified)
	}
}

// A cached catalog reads back as it was stored, and a damaged one does not
// read.
func TestCatalogEncodingReadsBack(t *testing.T) {
	cat := state.Catalog{
		{Kind: state.CatalogTable, Schema: "public", Name: "users"}:                      "comment 'a \"b\"'",
		{Kind: state.CatalogColumn, Schema: "public", Table: "users", Name: "we\x00ird"}: "",
		{Kind: state.CatalogIndex, Schema: "billing", Table: "t", Name: "t_idx"}:         "CREATE INDEX ...",
	}
	b := encodeCatalog(cat)
	back, err := decodeCatalog(b)
	if err != nil || !reflect.DeepEqual(back, cat) {
		t.Fatalf("read back %v (%v), stored %v", back, err, cat)
	}
	if empty, err := decodeCatalog(encodeCatalog(state.Catalog{})); err != nil || len(empty) != 0 {
		t.Fatalf("an empty catalog reads back as %v (%v)", empty, err)
	}
	for n := 1; n < len(b); n++ {
		if c, err := decodeCatalog(b[:n]); err == nil && len(c) == len(cat) {
			t.Fatalf("the first %d of %d bytes read as the whole catalog", n, len(b))
		}
	}
	if _, err := decodeCatalog(b[:len(b)-1]); err == nil {
		t.Fatal("a catalog cut short reads")
	}
}

// An entry's file is its JSON line, then its realm's and catalog's bytes:
// it reads back as written, and not at all when cut short or when a byte
// moves from the realm to the catalog.
func TestEntryFileReadsBackWhole(t *testing.T) {
	e := &Cached{Format: cacheFormat, Key: "k", Realm: []byte("realm\n\x00\x04text"), Catalog: []byte("\x05table\x06public"), Schemas: []string{"public"}}
	e.Checksum = e.checksum()
	b, ok := encodeEntry(e)
	if !ok {
		t.Fatal("the entry does not encode")
	}
	got, ok := decodeEntry(b)
	if !ok || !bytes.Equal(got.Realm, e.Realm) || !bytes.Equal(got.Catalog, e.Catalog) || got.checksum() != e.Checksum {
		t.Fatalf("the entry reads back as %+v (ok %t)", got, ok)
	}
	if _, ok := decodeEntry(b[:len(b)-1]); ok {
		t.Fatal("an entry cut short by a byte decodes")
	}
	if _, ok := decodeEntry(append(b[:len(b):len(b)], 'x')); ok {
		t.Fatal("an entry with a byte too many decodes")
	}
	moved := bytes.Replace(b, []byte(`"realm_bytes":12`), []byte(`"realm_bytes":11`), 1)
	moved = bytes.Replace(moved, []byte(`"catalog_bytes":13`), []byte(`"catalog_bytes":14`), 1)
	if got, ok := decodeEntry(moved); !ok || got.checksum() == e.Checksum {
		t.Fatalf("a byte moved from the realm to the catalog keeps the checksum (decoded: %t)", ok)
	}
}

// A cache that writes its entries in the background (the CLI's) serves
// them as one that writes them at once: a lookup in the same process right
// after the load, while the entry is still being written (the write held
// back here, as on a slow disk), waits for it and finds the entry and its
// state; after Flush the file is whole on disk, with the pointer that
// makes it the base of the files' next change. (Not parallel: it holds the
// package's background writes.)
func TestBackgroundCacheEntryFoundAtOnce(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	beforeBackgroundWrite = func() { <-release }
	defer func() { beforeBackgroundWrite = nil }()
	conn := testConn(t)
	path := filepath.Join(t.TempDir(), "schema.hcl")
	if err := os.WriteFile(path, []byte(chainHCL(3)), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := &Cache{Dir: t.TempDir(), Background: true}
	h, err := OpenHCL(path)
	if err != nil {
		t.Fatal(err)
	}
	dev, done, err := DevDatabase{Cache: cache}.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	st, err := h.Load(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		close(release)
	}()
	again, done2, err := DevDatabase{Cache: cache}.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer done2()
	e := again.Lookup(ctx, h)
	if e == nil {
		t.Fatal("the entry written in the background was not found right after the load")
	}
	cached, err := e.state()
	if err != nil {
		t.Fatal(err)
	}
	if cached.RealmHash() != st.RealmHash() {
		t.Fatal("the entry's state differs from the one loaded")
	}
	Flush()
	files, _ := filepath.Glob(filepath.Join(cache.Dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache entries after Flush: %v", files)
	}
	if tmp, _ := filepath.Glob(filepath.Join(cache.Dir, "*.tmp")); len(tmp) != 0 {
		t.Fatalf("files half written after Flush: %v", tmp)
	}
	if cache.baseKey(ctx, h, conn) != e.Key {
		t.Fatal("no pointer from the files' paths to the entry")
	}
}
