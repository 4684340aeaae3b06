package source

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"keel/internal/pgsql"
	"keel/internal/pgtest"
	"keel/planner/pg"
)

// scratchExtra adds to the example schema.hcl what loads differently: a
// function whose return type is a table (it fails before the tables, and
// is made again after them: in a scratch database, in a savepoint), and a
// partitioned table with a partition.
const scratchExtra = `
function "pending_orders" {
  schema = schema.public
  lang   = SQL
  return = sql("SETOF public.orders")
  as     = "SELECT * FROM public.orders WHERE status = 'pending'"
}
table "events" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "at" {
    type = date
  }
  primary_key {
    columns = [column.id, column.at]
  }
  partition {
    type    = RANGE
    columns = [column.at]
  }
}
table "events_2026" {
  schema       = schema.public
  partition_of = table.events
  bound        = "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
}
`

// scratchServer returns a connection to a database of the test's own and a
// scratch name of the test's own, whose databases are dropped at its end.
func scratchServer(t *testing.T) (*pg.Conn, string) {
	t.Helper()
	ctx := context.Background()
	u, dbName := pgtest.NewDatabase(t)
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Open(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// A name that needs quoting.
	name := dbName + `_scr"atch`
	t.Cleanup(func() {
		for _, n := range (DevDatabase{Scratch: name}).scratchNames() {
			pgtest.Exec(t, pgtest.ServerURL(), "DROP DATABASE IF EXISTS "+pgsql.QuoteIdent(n)+" WITH (FORCE)")
		}
	})
	return conn, name
}

// scratchEmpty reports whether the scratch database name holds no relation,
// type, function or schema of its own.
func scratchEmpty(t *testing.T, name string) bool {
	t.Helper()
	u := pgtest.WithDatabase(t, pgtest.ServerURL(), name)
	return pgtest.QueryValue[int](t, u, `SELECT (SELECT count(*) FROM pg_class WHERE oid >= 16384)
  + (SELECT count(*) FROM pg_proc WHERE oid >= 16384) + (SELECT count(*) FROM pg_type WHERE oid >= 16384)
  + (SELECT count(*) FROM pg_namespace WHERE oid >= 16384 AND nspname !~ '^pg_(toast_)?temp_')
  + (SELECT count(*) FROM pg_extension WHERE oid >= 16384)`) == 0
}

func writeHCL(t *testing.T, src string) *HCL {
	t.Helper()
	path := filepath.Join(t.TempDir(), "schema.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := OpenHCL(path)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A small desired state normalized in a scratch database is the state a
// throwaway database gives, entry for entry, and the scratch database is
// empty again afterwards.
func TestScratchNormalizesAsAThrowaway(t *testing.T) {
	ctx := context.Background()
	conn, name := scratchServer(t)
	example, err := os.ReadFile("../../schema.hcl")
	if err != nil {
		t.Fatal(err)
	}
	src := string(example) + scratchExtra

	dev, done, err := DevDatabase{NoScratch: true}.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	whole, err := writeHCL(t, src).Load(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	before := scratchLoads.Load()
	dev.NoScratch, dev.Scratch = false, name
	got, err := writeHCL(t, src).Load(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	if scratchLoads.Load() != before+1 {
		t.Fatal("the state was not normalized in a scratch database")
	}
	wfp, err := whole.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	gfp, err := got.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	if wfp.Hash != gfp.Hash {
		t.Errorf("fingerprints differ: %v", wfp.Changes(gfp))
	}
	if !reflect.DeepEqual(whole.Catalog, got.Catalog) {
		for _, d := range got.Catalog.Differences(whole.Catalog) {
			t.Errorf("catalog: %s: scratch %q, throwaway %q", d.Key, d.Desired, d.Live)
		}
		t.Fatalf("catalogs differ (%d entries in the scratch's, %d in the throwaway's)", len(got.Catalog), len(whole.Catalog))
	}
	if len(got.Objects) == 0 && len(whole.Objects) > 0 {
		t.Fatal("the scratch's state has no objects")
	}
	if !scratchEmpty(t, name) {
		t.Fatal("the scratch database is not empty after normalizing")
	}
}

// A desired state that does not load fails as it does in a throwaway
// database (the throwaway database says why), and leaves the scratch
// database empty.
func TestScratchFailedLoad(t *testing.T) {
	ctx := context.Background()
	conn, name := scratchServer(t)
	dev, done, err := DevDatabase{Scratch: name}.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	_, err = writeHCL(t, `schema "public" {}
table "ok" {
  schema = schema.public
  column "id" {
    type = int
  }
}
table "bad" {
  schema = schema.public
  column "id" {
    type    = uuid
    default = sql("no_such_function()")
  }
}
`).Load(ctx, dev)
	if err == nil || !strings.Contains(err.Error(), "schema.hcl:8: the desired state does not load into PostgreSQL") ||
		!strings.Contains(err.Error(), "no_such_function") {
		t.Fatalf("error %v, want the bad table's position and the server's reason", err)
	}
	if !scratchEmpty(t, name) {
		t.Fatal("the scratch database is not empty after a failed load")
	}
}

// A scratch database in use by another run, or holding something committed
// there, is not used: the next one is, or a throwaway database.
func TestScratchInUseOrNotEmpty(t *testing.T) {
	ctx := context.Background()
	conn, name := scratchServer(t)
	dev, done, err := DevDatabase{Scratch: name}.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	names := dev.scratchNames()
	first := dev.openScratch(ctx)
	if first == nil || first.name != names[0] {
		t.Fatalf("opened %v, want %s", first, names[0])
	}
	// In use: the second, created through a connection to the first (none
	// more to the server's database, which may be the target's).
	var dbName string
	if err := conn.Pgx().QueryRow(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	sessions := func() int {
		t.Helper()
		// The count grows as sessions end: read it until it holds.
		n := -1
		for i := 0; i < 100; i++ {
			m := pgtest.QueryValue[int](t, pgtest.ServerURL(), "SELECT sessions::int FROM pg_stat_database WHERE datname = $1", dbName)
			if m == n {
				break
			}
			n = m
			time.Sleep(100 * time.Millisecond)
		}
		return n
	}
	before := sessions()
	second := dev.openScratch(ctx)
	if second == nil || second.name != names[1] {
		t.Fatalf("with %s in use, opened %v, want %s", names[0], second, names[1])
	}
	if n := sessions() - before; n != 0 {
		t.Errorf("creating %s opened %d connections to the server's database %s, want none (made through %s's)", names[1], n, dbName, names[0])
	}
	second.close()
	first.close()
	// Something committed in the first: it is passed over.
	pgtest.Exec(t, pgtest.WithDatabase(t, pgtest.ServerURL(), names[0]), "CREATE TABLE left_here (id int)")
	s := dev.openScratch(ctx)
	if s == nil || s.name != names[1] {
		t.Fatalf("with a table in %s, opened %v, want %s", names[0], s, names[1])
	}
	s.close()
	pgtest.Exec(t, pgtest.WithDatabase(t, pgtest.ServerURL(), names[0]), "DROP TABLE left_here", "ALTER DATABASE "+pgsql.QuoteIdent(names[0])+" SET search_path = x")
	if s := dev.openScratch(ctx); s == nil || s.name != names[1] {
		t.Fatalf("with a setting on %s, opened %v, want %s", names[0], s, names[1])
	} else {
		s.close()
	}
	// All in use: none, and the state goes to a throwaway database.
	var held []*scratch
	for range names {
		if s := dev.openScratch(ctx); s != nil {
			held = append(held, s)
		}
	}
	if len(held) != len(names)-1 {
		t.Fatalf("opened %d scratch databases, want %d", len(held), len(names)-1)
	}
	loads := scratchLoads.Load()
	if _, err := writeHCL(t, "schema \"public\" {}\ntable \"t\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n}\n").Load(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if scratchLoads.Load() != loads {
		t.Fatal("normalized in a scratch database that another run holds")
	}
	for _, s := range held {
		s.close()
	}
	// KEEL_SCRATCH=off: none.
	t.Setenv("KEEL_SCRATCH", "off")
	if s := dev.openScratch(ctx); s != nil {
		s.close()
		t.Fatal("KEEL_SCRATCH=off opened a scratch database")
	}
}

// The scratch database a plan opens ahead (while it reads the target) for
// edited files is the one their changed tables are then loaded in, on the
// connection of its own opened ahead too, and the state is the one a whole
// normalization gives. Files read from the cache, or with no earlier entry
// in it, open nothing; what was opened and not taken is closed.
func TestScratchOpenedAhead(t *testing.T) {
	ctx := context.Background()
	conn, name := scratchServer(t)
	path := filepath.Join(t.TempDir(), "schema.hcl")
	orig := chainHCL(6)
	cache := &Cache{Dir: t.TempDir()}
	dev, done, err := DevDatabase{Cache: cache, Scratch: name}.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	if _, err := writeHCLAt(t, path, orig).Load(ctx, dev); err != nil {
		t.Fatal(err)
	}
	sessions := func() int {
		t.Helper()
		// A closed connection's session ends shortly after.
		n := -1
		for i := 0; i < 100; i++ {
			if n = pgtest.QueryValue[int](t, pgtest.ServerURL(), "SELECT count(*)::int FROM pg_stat_activity WHERE datname = $1", name); n == 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		return n
	}

	// The files as they were: read from the cache, nothing opened.
	same := dev
	same.OpenAhead(ctx, writeHCLAt(t, path, orig), conn)
	if same.aheadScratch != nil {
		t.Fatal("opened a scratch database ahead for files the cache holds")
	}

	// Edited: opened ahead, and taken by Load.
	edited := strings.Replace(orig, "table \"t03\" {\n  schema = schema.public\n", "table \"t03\" {\n  schema = schema.public\n  column \"note\" {\n    type = text\n    null = true\n  }\n", 1)
	h := writeHCLAt(t, path, edited)
	ahead := dev
	ahead.OpenAhead(ctx, h, conn)
	if ahead.aheadScratch == nil {
		t.Fatal("no scratch database opened ahead for edited files")
	}
	p := ahead.aheadScratch
	if ahead.aheadConn == nil {
		t.Fatal("no connection opened ahead for the normalization")
	}
	apartConn, _ := ahead.aheadConn.get()
	a, doneApart, err := ahead.Apart(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if apartConn == nil || a.admin != apartConn {
		t.Fatal("Apart did not take the connection opened ahead")
	}
	loads, changed := scratchLoads.Load(), changedLoads.Load()
	got, err := h.Load(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if err := doneApart(); err != nil {
		t.Fatal(err)
	}
	if !p.taken.Load() || p.get() == nil {
		t.Fatal("Load did not take the scratch database opened ahead")
	}
	ahead.CloseAhead()
	if scratchLoads.Load() != loads+1 || changedLoads.Load() != changed+1 {
		t.Fatal("the changed tables were not normalized in the scratch database")
	}
	sameAsWhole(t, conn, path, edited, got)
	if n := sessions(); n != 0 {
		t.Fatalf("%d sessions left on the scratch database after Load", n)
	}
	if !scratchEmpty(t, name) {
		t.Fatal("the scratch database is not empty")
	}

	// Opened ahead and not taken (the plan took the state from elsewhere):
	// closed.
	unused := dev
	unused.OpenAhead(ctx, writeHCLAt(t, path, strings.Replace(edited, `"note"`, `"other"`, 1)), conn)
	if unused.aheadScratch == nil || unused.aheadScratch.get() == nil {
		t.Fatal("no scratch database opened ahead")
	}
	unused.CloseAhead()
	if n := sessions(); n != 0 {
		t.Fatalf("%d sessions left on the scratch database after CloseScratch", n)
	}

	// Files this cache has no entry of at their path (a fresh runner, which
	// may take the state the last apply kept): none is opened.
	fresh := dev
	fresh.OpenAhead(ctx, writeHCLAt(t, filepath.Join(t.TempDir(), "schema.hcl"), edited), conn)
	if fresh.aheadScratch != nil || fresh.aheadConn != nil {
		t.Fatal("opened ahead for files with no earlier entry")
	}
}
