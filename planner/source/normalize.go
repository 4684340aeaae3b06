package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"keel/internal/trace"
	"keel/planner/diff"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// Desired is a source of the desired state: an HCL file, and later SQL files
// or another database. Load returns the state in the form the server reports
// back on inspection, so that it compares with a live state as equal when it
// is equal: `uuid_generate_v4()` becomes `public.uuid_generate_v4()`,
// `status <> 'paid'` becomes `(status <> 'paid'::public.order_status)`.
type Desired interface {
	Load(ctx context.Context, dev DevDatabase) (*state.State, error)
}

// DevDatabase creates throwaway databases on Server, to load a desired state
// into and inspect it back. A throwaway database is never the target: it gets
// its own name, is created from template0 and is dropped afterwards, also
// when the context is cancelled or loading fails.
type DevDatabase struct {
	// Server is any database on the server where the throwaway database may
	// be created; the connecting role needs CREATEDB. Nil means the
	// target's server, through the target's connection.
	Server *pg.DB
	// Prefix starts the throwaway database's name; the default is
	// "keel_tmp_". The name goes on with the creation time and a random
	// part: keel_tmp_1764172398_3fa9c2e1b7d0 (see sweepThrowaways).
	Prefix string
	// Cache, if not nil, keeps normalized HCL desired states across runs
	// (see Cache); the CLI uses DefaultCache.
	Cache *Cache
	// Scratch names the scratch databases small desired states are
	// normalized in, in a transaction rolled back (see scratch.go); the
	// default is KEEL_SCRATCH, else "keel_scratch". NoScratch, or
	// KEEL_SCRATCH=off, uses throwaway databases only.
	Scratch   string
	NoScratch bool

	// admin is a connection to the server, for CREATE DATABASE and the
	// cache's questions about the server (set by open).
	admin *pg.Conn
	// lookedUp says that entry and key are the cache's answer for the
	// desired state being loaded, so that it is not asked twice.
	lookedUp bool
	entry    *Cached
	key      string
	// version is the server's version, and entryKey the key of the files'
	// entry, once EntryKey read them.
	version, entryKey string
	// later, when not nil, takes what may finish in the background on
	// admin, a connection of d's own (see Apart): sending the throwaway
	// database's drop, which the server finishes on its own
	// (dropDetached).
	later *sync.WaitGroup
	// kept, when not nil, is the entry RestoreKept took from the target.
	kept *keptState
	// adopt, when not nil, gives the target's state (AdoptFrom); adopted
	// says what Load made of it.
	adopt   func() (*state.State, state.Catalog)
	adopted *adoption
	// aheadScratch and aheadConn are what OpenAhead opens for Load and Apart.
	aheadScratch *pendingScratch
	aheadConn    *pendingConn
}

// Open returns d with a connection to its server: target's, when d has no
// Server of its own, else a new one, which done closes. Lookup, With and the
// cache use it.
func (d DevDatabase) Open(ctx context.Context, target *pg.Conn) (DevDatabase, func(), error) {
	if d.Server == nil {
		d.Server, d.admin = target.DB(), target
		return d, func() {}, nil
	}
	c, err := d.Server.Open(ctx, "keel normalize")
	if err != nil {
		return d, nil, fmt.Errorf("normalizing the desired state on the dev_url server: %w", err)
	}
	d.admin = c
	return d, func() { c.Close() }, nil
}

// Apart returns d with a connection of its own when d shares the target's
// connection, so that the target can be read while d normalizes. On it, a
// throwaway database's drop is sent once the state is read from it, and
// left to the server (dropDetached): done waits until it is sent and closes
// the connection. It keeps d's cache lookup.
func (d DevDatabase) Apart(ctx context.Context, target *pg.Conn) (DevDatabase, func() error, error) {
	if d.admin != target {
		return d, func() error { return nil }, nil
	}
	var c *pg.Conn
	if p := d.aheadConn.take(); p != nil {
		c, _ = p.get() // else opened again, and its error said
	}
	if c == nil {
		var err error
		if c, err = d.Server.Open(ctx, "keel normalize"); err != nil {
			return d, nil, fmt.Errorf("normalizing the desired state: %w", err)
		}
	}
	d.admin, d.later = c, &sync.WaitGroup{}
	later := d.later
	return d, func() error {
		later.Wait()
		c.Close()
		return nil
	}, nil
}

// Lookup returns the cache's normalized form of h on d's server, or nil;
// Load then does not ask the cache again.
func (d *DevDatabase) Lookup(ctx context.Context, h *HCL) *Cached {
	if wait := d.LookupAsync(ctx, h); wait != nil {
		return wait()
	}
	return nil
}

// LookupAsync is Lookup, with the entry's file read in the background
// (reading and checking an entry of 1,000 tables takes about 50 ms): the
// function it returns waits for it, then asks the server whether it still
// matches, on the dev connection, which must be free by then. It returns
// nil when there is nothing to wait for: no cache, or no entry for the
// files (then Load normalizes without asking again).
func (d *DevDatabase) LookupAsync(ctx context.Context, h *HCL) func() *Cached {
	if d.Cache == nil || d.admin == nil {
		return nil
	}
	key, ok := d.EntryKey(ctx, h)
	d.entry, d.key, d.lookedUp = nil, key, true
	if !ok {
		return nil
	}
	Flush() // a reader in this process finds the entries being written
	if _, err := os.Stat(d.Cache.path(key)); err != nil {
		return nil
	}
	read := make(chan *Cached, 1)
	go func() { read <- d.Cache.readFile(key) }()
	return func() *Cached {
		e := <-read
		if e != nil && !e.matches(ctx, d.admin.Pgx()) {
			e = nil
		}
		d.entry = e
		return e
	}
}

// EntryKey is the key of h's cache entry on d's server (the files' bytes,
// keel's build and the server's version); ok is false without a cache or
// when it cannot be known.
func (d *DevDatabase) EntryKey(ctx context.Context, h *HCL) (key string, ok bool) {
	if d.Cache == nil || d.admin == nil {
		return "", false
	}
	v := d.version // asked once per connection to the server
	if v == "" {
		var err error
		if v, err = serverVersion(ctx, d.admin.Pgx()); err != nil {
			return "", false
		}
	}
	key, ok = cacheKey(h, v)
	if ok {
		d.version, d.entryKey = v, key
	}
	return key, ok
}

// PointLatest makes the cache's entry for h's files, whose key EntryKey
// gave, the base of their next change (normalizeChanged), as a plan that
// finds the entry does: for a plan that reads no entry (a match record
// answered it). Nothing happens when there is no such entry.
func (d *DevDatabase) PointLatest(h *HCL) {
	if d.Cache == nil || d.entryKey == "" {
		return
	}
	Flush() // a reader in this process finds the entries being written
	if _, err := os.Stat(d.Cache.path(d.entryKey)); err != nil {
		return
	}
	d.Cache.pointLatestKey(h, d.version, d.entryKey)
}

// ExtensionDefaults is a hash of the default version of every extension
// d's server can install (its extension files): normalizing installs the
// declared extensions at their defaults.
func (d *DevDatabase) ExtensionDefaults(ctx context.Context) (string, error) {
	if d.admin == nil {
		return "", errors.New("no connection to the dev server")
	}
	var v string
	err := d.admin.Pgx().QueryRow(ctx, `SELECT pg_catalog.md5(COALESCE(pg_catalog.string_agg(name || '=' || COALESCE(default_version, ''), ',' ORDER BY name), ''))
FROM pg_catalog.pg_available_extensions`).Scan(&v)
	return v, err
}

// With creates a throwaway database, calls fn with it and drops it.
func (d DevDatabase) With(ctx context.Context, fn func(db *pg.DB) error) (err error) {
	t := d.start(ctx)
	defer func() { err = errors.Join(err, t.drop(ctx)) }()
	return t.use(fn)
}

// Load implements Desired: it creates the HCL's schemas, extensions and
// objects in a throwaway database and inspects them back.
func (h *HCL) Load(ctx context.Context, dev DevDatabase) (st *state.State, err error) {
	var key, baseKey string
	if dev.Cache != nil {
		if !dev.lookedUp {
			dev.Lookup(ctx, h)
		}
		e, k := dev.entry, dev.key
		if key = k; e != nil {
			if st, err := e.load(h); err == nil {
				dev.Cache.pointLatest(h, dev.version, key, e)
				dev.tookKept(key, false)
				trace.Mark(ctx, "desired state: from the cache")
				return st, nil
			}
		}
		if e == nil {
			baseKey = dev.Cache.baseKey(ctx, h, dev.admin)
		}
	}
	// A database to normalize in is needed from here on. Small files, and
	// files changed since an entry was made for them (only the changed
	// tables are loaded), go to a scratch database, opened while the files
	// are read; otherwise PostgreSQL creates a throwaway database
	// meanwhile. Once the state is read from a throwaway database, it is
	// dropped: where dev has a connection of its own, the drop is sent and
	// left to the server (dropDetached), which unlinks the database's files
	// while the state is stored and the plan computed, and after keel
	// exits; otherwise keel waits for it.
	// Files with neither an entry nor a base, planned against a target
	// read first, are made on the target's state (see adoptedBase).
	adopting := dev.Cache != nil && dev.entry == nil && baseKey == "" && dev.adopt != nil && dev.adopted != nil
	var sc *pendingScratch
	if _, off := scratchEnv(); !off && !dev.NoScratch && (baseKey != "" || adopting || h.size() < scratchBytes) {
		if sc = dev.aheadScratch.take(); sc == nil {
			sc = dev.startScratch(ctx)
		}
		defer sc.close()
	}
	var tw *throwaway
	if sc == nil {
		tw = dev.start(ctx)
	}
	throwaway := func() *throwaway {
		if tw == nil {
			tw = dev.start(ctx)
		}
		return tw
	}
	released := false
	release := func() error {
		if released || tw == nil {
			return nil
		}
		released = true
		if dev.later != nil {
			dev.later.Go(tw.dropDetached)
			return nil
		}
		return tw.drop(ctx)
	}
	defer func() { err = errors.Join(err, release()) }()
	// What the cache calls once its questions to the server are asked:
	// the background drop starts then, on the same connection.
	free := func() error {
		if dev.later != nil {
			return release()
		}
		return nil
	}
	// inScratch normalizes a small state in the scratch database; ok is
	// false when there is none, or the state did not load there (a
	// throwaway database then says why).
	inScratch := func(declared *state.State) (*state.State, bool) {
		s := sc.get()
		if s == nil || countTables(declared) >= parallelFrom {
			return nil, false
		}
		st, err := s.load(ctx, declared)
		return st, err == nil
	}
	// Files changed since an entry was made for them: normalize the
	// tables that changed only, on that entry (read meanwhile; whether it
	// matches the server is asked once the connection is free again).
	var base *Cached
	if baseKey != "" {
		base = dev.Cache.readFile(baseKey)
	}
	changedOn := func(base *Cached) func(declared *state.State) (*state.State, error) {
		return func(declared *state.State) (*state.State, error) {
			if sc.get() != nil && !base.matches(ctx, dev.admin.Pgx()) {
				return nil, errNotIncremental
			}
			if st, ok := inScratch(declared); ok {
				return st, nil
			}
			t := throwaway()
			if !t.wait() || !base.matches(ctx, dev.admin.Pgx()) {
				return nil, errNotIncremental
			}
			var norm *state.State
			err := t.use(func(db *pg.DB) (err error) {
				norm, err = loadAndInspect(ctx, db, declared, false)
				return err
			})
			return norm, err
		}
	}
	if base != nil {
		if st, set, err := normalizeChanged(h, base, changedOn(base)); err == nil {
			changedLoads.Add(1)
			trace.Mark(ctx, "desired state: the changed tables normalized on the entry of the files' earlier form")
			dev.tookKept(baseKey, true)
			// Stored too: the same files planned again, or applied, are
			// then read from the cache.
			if key != "" {
				dev.Cache.put(ctx, key, st, dev.admin, h, set, baseKey, free)
			}
			return st, release()
		}
	}
	if adopting {
		if ab := dev.adoptedBase(ctx, blockHashes(h.srcs)); ab != nil {
			if st, set, err := normalizeChanged(h, ab, changedOn(ab)); err == nil {
				*dev.adopted = adoption{done: true, taken: ab.tables - ab.normalized, normalized: ab.normalized}
				trace.Mark(ctx, "desired state: %d tables taken as the database has them, %d normalized", ab.tables-ab.normalized, ab.normalized)
				if key != "" {
					dev.Cache.put(ctx, key, st, dev.admin, h, set, "", free)
				}
				return st, release()
			}
		}
		trace.Mark(ctx, "desired state: not made on the database's tables")
		// A large state is created in a throwaway database: made while
		// the files are parsed.
		if h.size() >= scratchBytes {
			throwaway()
		}
	}
	declared, err := h.Parsed()
	if err != nil {
		return nil, err
	}
	trace.Mark(ctx, "desired state: files parsed (%d tables)", countTables(declared))
	if key != "" && h.scanned != nil {
		// The blocks' hashes the entry keeps, read while the server
		// loads the state.
		go func() { _, _ = h.blocks() }()
	}
	if st, ok := inScratch(declared); ok {
		trace.Mark(ctx, "desired state: loaded and read back in the scratch database")
		if key != "" {
			dev.Cache.put(ctx, key, st, dev.admin, h, nil, "", free)
			trace.Mark(ctx, "desired state: stored in the cache")
		}
		return st, release()
	}
	parallel := true
	load := func(db *pg.DB) error {
		st, err = loadAndInspect(ctx, db, declared, parallel)
		return err
	}
	if t := throwaway(); t.used { // by the tables that changed: the whole needs an empty one
		err = dev.With(ctx, load)
	} else {
		err = t.use(load)
	}
	if again := (*inParallelError)(nil); errors.As(err, &again) && ctx.Err() == nil {
		loadedAgain.Add(1)
		parallel = false
		err = dev.With(ctx, load)
	}
	if err == nil && key != "" {
		dev.Cache.put(ctx, key, st, dev.admin, h, nil, "", free)
		trace.Mark(ctx, "desired state: stored in the cache")
	}
	return st, errors.Join(err, release())
}

// changedLoads counts the desired states normalized from the entry of their
// files' earlier form, only the changed tables loaded (normalizeChanged).
var changedLoads atomic.Int64

// ChangedLoads is how many desired states this process normalized from the
// entry of their files' earlier form, loading only the changed tables.
func ChangedLoads() int64 { return changedLoads.Load() }

// scratchBytes bounds the files whose state is normalized in a scratch
// database from the start (smaller than parallelFrom of the benchmark's
// tables); larger ones go to a throwaway database made while they are read.
const scratchBytes = 64 << 10

// size is the files' bytes.
func (h *HCL) size() int {
	n := 0
	for _, src := range h.srcs {
		n += len(src)
	}
	return n
}

// loadAndInspect creates the desired state in the (empty) database db and
// inspects it back; parallel lets it create many tables on several
// connections (an error there is an *inParallelError).
func loadAndInspect(ctx context.Context, db *pg.DB, desired *state.State, parallel bool) (*state.State, error) {
	conn, err := db.Open(ctx, "keel normalize")
	if err != nil {
		return nil, fmt.Errorf("normalizing the desired state: %w", err)
	}
	defer conn.Close()
	return loadOn(ctx, db, conn, desired, parallel)
}

// loadOn is loadAndInspect on conn, a connection to db. A nil db means that
// conn is inside a transaction its caller ends (a scratch database's): the
// statements then run in it, objects that fail roll back to a savepoint,
// and nothing runs on another connection.
func loadOn(ctx context.Context, db *pg.DB, conn *pg.Conn, desired *state.State, parallel bool) (*state.State, error) {
	inTx := db == nil
	live, err := inspect.OpenLive(ctx, conn)
	if err != nil {
		return nil, err
	}
	empty, err := live.Inspect(ctx, desired.SchemaNames())
	if err != nil {
		return nil, err
	}
	// Schemas and extensions first, so that defaults, indexes and types that
	// use an extension's functions and types resolve as they will on the target.
	changes, err := postgres.DefaultDiff.RealmDiff(empty.Realm, desired.Realm)
	if err != nil {
		return nil, fmt.Errorf("normalizing the desired state: %w", err)
	}
	var schemas, rest []schema.Change
	for _, c := range changes {
		if _, ok := c.(*schema.AddSchema); ok {
			schemas = append(schemas, c)
		} else {
			rest = append(rest, c)
		}
	}
	renderIn := func(chunks ...[]schema.Change) ([]*migrate.Change, error) {
		rendered, err := diff.RenderChunks(ctx, live.Engine(), chunks, empty.Realm, desired.Realm)
		if err != nil {
			return nil, fmt.Errorf("normalizing the desired state: %w", err)
		}
		// Tables that inherit: after their parents, with INHERITS.
		return withInherits(rendered, desired.Inherits)
	}
	render := func(changes []schema.Change) ([]*migrate.Change, error) { return renderIn(changes) }
	run := func(changes []schema.Change) error {
		if len(changes) == 0 {
			return nil
		}
		rendered, err := render(changes)
		if err != nil {
			return err
		}
		if inTx {
			return execInTx(ctx, conn, desired, rendered)
		}
		return execRendered(ctx, conn, desired, rendered)
	}
	if err := run(schemas); err != nil {
		return nil, err
	}
	for _, e := range desired.Extensions {
		if err := pg.ExecStatement(ctx, conn.Pgx().PgConn(), diff.CreateExtensionSQL(e)); err != nil {
			return nil, fmt.Errorf("%s: normalizing the desired state: extension %q: %w", e.Pos, e.Name, pg.ServerError(err))
		}
	}
	// Function bodies are not checked in the throwaway database: a body
	// may use what is created later (PostgreSQL checks it when it runs).
	if len(desired.Objects) > 0 {
		if _, err := conn.Exec(ctx, "SET check_function_bodies = off"); err != nil {
			return nil, fmt.Errorf("normalizing the desired state: %w", pg.ServerError(err))
		}
	}
	// What tables use (domains, types, sequences, functions) before them;
	// one that needs a table is tried again after them.
	var early, late []state.ObjectDecl
	for _, o := range desired.Objects {
		if o.Early {
			early = append(early, o)
		} else {
			late = append(late, o)
		}
	}
	failed, _ := loadObjects(ctx, conn, early, inTx)
	if first, tables, ok := splitTables(rest, desired.Inherits); ok && parallel && !inTx {
		// Many tables: on several connections at once, in runs of
		// neighbours, a foreign key to a table before it in its run with
		// its table, the others after the tables.
		if err := run(first); err != nil {
			return nil, err
		}
		// In chunks: the engine orders the changes it is given by
		// comparing each with all others (quadratic in the tables), and
		// these do not depend on each other.
		renderChunks := func(changes []schema.Change) ([]*migrate.Change, error) {
			var chunks [][]schema.Change
			for start := 0; start < len(changes); start += renderChunk {
				chunks = append(chunks, changes[start:min(start+renderChunk, len(changes))])
			}
			return renderIn(chunks...)
		}
		// The connections that create the tables, opened while the
		// engine writes the statements.
		opened := make(chan loaders, 1)
		go func() { opened <- openLoaders(ctx, db, conn) }()
		// The tables' statements with only the foreign keys created with
		// them (to a table before them in their run, or their own):
		// the others taken off the tables while the engine writes them
		// (on the tables themselves, which the Guard keeps names safe
		// in), to be added after them.
		inline, later := foreignKeysInRuns(tables, loadConnections)
		saved := make([][]*schema.ForeignKey, len(tables))
		for i, c := range tables {
			t := c.(*schema.AddTable).T
			saved[i], t.ForeignKeys = t.ForeignKeys, inline[i]
		}
		rendered, err := renderChunks(tables)
		for i, c := range tables {
			c.(*schema.AddTable).T.ForeignKeys = saved[i]
		}
		var renderedFKs []*migrate.Change
		if err == nil {
			renderedFKs, err = renderChunks(later)
		}
		conns := <-opened
		if err != nil {
			conns.close()
			return nil, err
		}
		trace.Mark(ctx, "desired state: %d statements rendered", len(rendered)+len(renderedFKs))
		parts, across := dealTables(tables, rendered, renderedFKs, loadConnections, len(conns))
		err = execParallel(ctx, conns, desired, parts)
		conns.close()
		if err != nil {
			return nil, &inParallelError{err}
		}
		if err := execRendered(ctx, conn, desired, across); err != nil {
			return nil, &inParallelError{err}
		}
		trace.Mark(ctx, "desired state: %d tables created on %d connections", len(tables), len(conns))
		for _, fks := range inline {
			withTableFKs.Add(int64(len(fks)))
		}
		ownPartFKs.Add(int64(len(renderedFKs) - len(across)))
	} else if err := run(ownColumnsOnly(rest, desired.Inherits)); err != nil {
		return nil, err
	}
	// What the engine does not model, on the tables it made.
	if err := applySettings(ctx, conn, desired.Settings); err != nil {
		return nil, err
	}
	// The partitions, which the engine does not see, of the tables it made.
	if err := createPartitions(ctx, conn, desired.Partitions); err != nil {
		return nil, err
	}
	// Views, triggers, policies, privileges, ... and what could not be
	// made before the tables.
	if failed, err := loadObjects(ctx, conn, append(failed, late...), inTx); len(failed) > 0 {
		return nil, err
	}
	// Many tables: PostgreSQL's catalog read on a second connection while
	// the engine inspects (at 1,000 tables each takes about half a second).
	readCatalog := func() (state.Catalog, error) {
		return inspect.ReadCatalog(ctx, conn, desired.SchemaNames())
	}
	if !inTx && len(desired.Realm.Schemas) > 0 && countTables(desired) >= parallelFrom {
		if c, err := db.Open(ctx, "keel normalize"); err == nil {
			defer c.Close()
			done := make(chan struct{})
			var (
				cat    state.Catalog
				catErr error
			)
			go func() {
				defer close(done)
				cat, catErr = inspect.ReadCatalog(ctx, c, desired.SchemaNames())
			}()
			readCatalog = func() (state.Catalog, error) {
				<-done
				catalogsApart.Add(1)
				return cat, catErr
			}
		}
	}
	norm, err := live.Inspect(ctx, desired.SchemaNames())
	if err != nil {
		return nil, err
	}
	if norm.Catalog, err = readCatalog(); err != nil {
		return nil, err
	}
	if !inTx {
		trace.Mark(ctx, "desired state: read back from the throwaway database")
	}
	// Extensions stay as declared: a version or schema left open stays open.
	norm.Extensions = desired.Extensions
	// The columns' conversions are for the plan, not the database.
	norm.Using = desired.Using
	return norm, nil
}

// catalogsApart counts the catalogs of desired states read on a connection
// of their own (for tests).
var catalogsApart atomic.Int64

// countTables is the number of tables in desired's realm.
func countTables(desired *state.State) int {
	n := 0
	for _, s := range desired.Realm.Schemas {
		n += len(s.Tables)
	}
	return n
}

// execRendered runs rendered statements on conn in transactions of 64
// statements, each sent in one round trip (pipelined): a commit and a round
// trip per statement are most of the time it takes otherwise. (One
// transaction for all would hold a lock per relation created until its end:
// thousands of tables are more than the server's lock table holds, SQLSTATE
// 53200.)
func execRendered(ctx context.Context, conn *pg.Conn, desired *state.State, rendered []*migrate.Change) error {
	const perTransaction = 64
	stmts := make([]string, len(rendered))
	for i, c := range rendered {
		stmts[i] = c.Cmd
	}
	for start := 0; start < len(stmts); start += perTransaction {
		end := min(start+perTransaction, len(stmts))
		if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
			return fmt.Errorf("normalizing the desired state: %w", pg.ServerError(err))
		}
		if i, err := pg.ExecStatements(ctx, conn.Pgx().PgConn(), stmts[start:end]); err != nil {
			_, _ = conn.Exec(ctx, "ROLLBACK")
			c := rendered[start+i]
			return loadFailed("%sthe desired state does not load into PostgreSQL: %s:\n  %s\n%w",
				sourcePos(desired, c), c.Comment, c.Cmd, pg.ServerError(err))
		}
		if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
			return fmt.Errorf("normalizing the desired state: %w", pg.ServerError(err))
		}
	}
	return nil
}

// execInTx runs the rendered statements as execRendered does, in the
// transaction conn is in (a scratch database's).
func execInTx(ctx context.Context, conn *pg.Conn, desired *state.State, rendered []*migrate.Change) error {
	stmts := make([]string, len(rendered))
	for i, c := range rendered {
		stmts[i] = c.Cmd
	}
	if i, err := pg.ExecStatements(ctx, conn.Pgx().PgConn(), stmts); err != nil {
		c := rendered[i]
		return loadFailed("%sthe desired state does not load into PostgreSQL: %s:\n  %s\n%w",
			sourcePos(desired, c), c.Comment, c.Cmd, pg.ServerError(err))
	}
	return nil
}

// renderChunk is how many independent changes the engine is given at once
// (tests lower it).
var renderChunk = 256

// inParallelError is a failure to create tables on several connections at
// once: the desired state is loaded again in order, on one, where a table
// that needs another (a column of its row type) finds it made, and where a
// state that does not load fails as it always did.
type inParallelError struct{ err error }

func (e *inParallelError) Error() string { return e.err.Error() }
func (e *inParallelError) Unwrap() error { return e.err }

// parallelFrom is the number of tables from which the desired state's
// tables are created on two connections at once (tests lower it).
var parallelFrom = 64

// splitTables splits the changes that create the desired state's enums and
// tables in an empty database into the enums (made first) and the tables
// (made with none of their foreign keys but those foreignKeysInRuns keeps
// with them, then independent of each other but for those). ok is false
// for fewer than parallelFrom tables, for tables that inherit, and for any
// other change: those run in order on one connection.
func splitTables(changes []schema.Change, inherits []state.Inherit) (first, tables []schema.Change, ok bool) {
	if len(inherits) > 0 {
		return nil, nil, false
	}
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.AddObject:
			if _, ok := c.O.(*schema.EnumType); !ok {
				return nil, nil, false
			}
			first = append(first, c)
		case *schema.AddTable:
			tables = append(tables, c)
		default:
			return nil, nil, false
		}
	}
	return first, tables, len(tables) >= parallelFrom
}

// loadedAgain counts the desired states loaded again in order on one
// connection after loading on several failed (for tests).
var loadedAgain atomic.Int64

// parallelLoads counts the desired states whose tables were created on
// more than one connection (for tests).
var parallelLoads atomic.Int64

// loadConnections is how many connections create the tables at once: at
// 1,000 tables, loading took 6.5-6.9 s on one, 5.1-5.5 s on two, 4.5-4.7 s
// on four and no less on six or eight (2 cores; see the README).
const loadConnections = 4

// loaders are the connections that create tables at once, the first
// the caller's.
type loaders []*pg.Conn

// openLoaders opens up to loadConnections-1 more connections to db beside
// conn; what cannot be opened (the server's connection limit) leaves fewer.
func openLoaders(ctx context.Context, db *pg.DB, conn *pg.Conn) loaders {
	conns := loaders{conn}
	for len(conns) < loadConnections {
		c, err := db.Open(ctx, "keel normalize")
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	return conns
}

// close closes the connections openLoaders opened.
func (l loaders) close() {
	for _, c := range l[1:] {
		c.Close()
	}
}

// runOf is the run of neighbours the i-th of n tables is dealt to, of
// runs: the first runs-th of the tables to the first, and so on.
func runOf(i, n, runs int) int { return i * runs / n }

// foreignKeysInRuns splits the foreign keys of splitTables' tables, dealt
// into runs of neighbours (runOf), into those created with their table
// (inline[i], in tables[i]'s CREATE TABLE): a key to a table before it in
// its run, or to itself, which the run's connection has made by then; and
// the others (later, a ModifyTable of each table with any), added once the
// tables exist. A key created with its table is cheaper for PostgreSQL
// than one added to it: ALTER TABLE ... ADD FOREIGN KEY opens and locks
// both tables again and runs a query to check the rows (at 1,000 tables,
// on a server in memory, 0.65 s against 0.25 s; see the README).
// Neighbouring tables in a file often refer to each other.
func foreignKeysInRuns(tables []schema.Change, runs int) (inline [][]*schema.ForeignKey, later []schema.Change) {
	at := make(map[*schema.Table]int, len(tables))
	for i, c := range tables {
		at[c.(*schema.AddTable).T] = i
	}
	inline = make([][]*schema.ForeignKey, len(tables))
	for i, c := range tables {
		t := c.(*schema.AddTable).T
		var m *schema.ModifyTable
		for _, fk := range t.ForeignKeys {
			if j, ok := at[fk.RefTable]; ok && j <= i && runOf(j, len(tables), runs) == runOf(i, len(tables), runs) {
				inline[i] = append(inline[i], fk)
				continue
			}
			if m == nil {
				m = &schema.ModifyTable{T: t}
				later = append(later, m)
			}
			m.Changes = append(m.Changes, &schema.AddForeignKey{F: fk})
		}
	}
	return inline, later
}

// withTableFKs counts the foreign keys created with their tables while
// tables were created on several connections (for tests).
var withTableFKs atomic.Int64

// dealTables splits the statements that create tables (rendered from
// splitTables' tables, each table's statements together, with the foreign
// keys foreignKeysInRuns keeps with them) and add the other foreign keys
// (rendered from its later) into n parts, one per connection: the tables'
// runs of neighbours (runOf, of runs), whole, to the parts in order (run r
// to part r*n/runs: a run's keys created with its tables find the tables
// they refer to made), each part's statements in their order, then the
// foreign keys whose tables, referring and referred to, are all in that
// part. A foreign key to another part's table is in across, to be added
// once every part ran: the statement locks both tables. Neighbouring tables
// in a file often refer to each other (at 1,000 tables, adding the foreign
// keys after all tables on one connection took 0.9 s; see the README).
func dealTables(tables []schema.Change, rendered, fks []*migrate.Change, runs, n int) (parts [][]*migrate.Change, across []*migrate.Change) {
	part := make(map[*schema.Table]int, len(tables))
	byChange := make(map[schema.Change]int, len(tables))
	for i, c := range tables {
		k := runOf(i, len(tables), runs) * n / runs
		part[c.(*schema.AddTable).T] = k
		byChange[c] = k
	}
	parts = make([][]*migrate.Change, n)
	last := 0
	for _, c := range rendered {
		// A statement of no table dealt (none the engine writes for a new
		// table) stays with the one before it.
		k, ok := byChange[c.Source]
		if !ok {
			k = last
		}
		parts[k], last = append(parts[k], c), k
	}
	for _, c := range fks {
		k, ok := fkPart(c.Source, part)
		if !ok {
			across = append(across, c)
			continue
		}
		parts[k] = append(parts[k], c)
	}
	return parts, across
}

// fkPart is the part all tables of a change that adds foreign keys (a
// *schema.ModifyTable of splitTables) are in; ok is false when they are
// in more than one, or one is not among the tables dealt.
func fkPart(c schema.Change, part map[*schema.Table]int) (k int, ok bool) {
	m, isModify := c.(*schema.ModifyTable)
	if !isModify {
		return 0, false
	}
	if k, ok = part[m.T]; !ok {
		return 0, false
	}
	for _, ch := range m.Changes {
		add, isAdd := ch.(*schema.AddForeignKey)
		if !isAdd {
			return 0, false
		}
		if r, found := part[add.F.RefTable]; !found || r != k {
			return 0, false
		}
	}
	return k, true
}

// ownPartFKs counts the statements adding foreign keys that ran on their
// tables' connection while tables were created on several, in loads that
// did not fail there (for tests).
var ownPartFKs atomic.Int64

// execParallel runs parts[k] on conns[k], all at once: PostgreSQL waits
// for the disk at each new index and relation, and several sessions wait
// at once.
func execParallel(ctx context.Context, conns loaders, desired *state.State, parts [][]*migrate.Change) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for k := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[k] = execRendered(ctx, conns[k], desired, parts[k]); errs[k] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	// The first failure, not another connection's cancellation.
	var canceled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			canceled = err
		default:
			return err
		}
	}
	if canceled != nil {
		return canceled
	}
	if len(conns) > 1 {
		parallelLoads.Add(1)
	}
	return nil
}

// sourcePos returns "file:line: " for the desired-state object behind a
// change, or "" when it is not known.
func sourcePos(desired *state.State, c *migrate.Change) string {
	if p, ok := desired.Positions[diff.StepOf(c).Object]; ok {
		return p + ": "
	}
	return ""
}

// Normalizes reports whether loading d runs SQL in a throwaway database: an
// HCL or SQL desired state does; another database is only read.
func Normalizes(d Desired) bool {
	for {
		switch v := d.(type) {
		case *Database:
			return false
		case interface{ Unwrap() Desired }:
			d = v.Unwrap()
		default:
			return true
		}
	}
}

// Memo wraps a desired state so that it is loaded (normalized) once: the
// later Loads with the same dev server return the first result. A command
// that checks, plans and applies normalizes once.
func Memo(d Desired) Desired {
	if _, ok := d.(*memo); ok {
		return d
	}
	return &memo{Desired: d}
}

type memo struct {
	Desired
	server string
	state  *state.State
}

// Unwrap returns the wrapped desired state.
func (m *memo) Unwrap() Desired { return m.Desired }

func (m *memo) Load(ctx context.Context, dev DevDatabase) (*state.State, error) {
	key := fmt.Sprintf("%s|%s|%p", dev.Server, dev.Prefix, dev.Cache)
	if m.state != nil && m.server == key {
		return m.state, nil
	}
	st, err := m.Desired.Load(ctx, dev)
	if err != nil {
		return nil, err
	}
	m.server, m.state = key, st
	return st, nil
}

// loadObjects creates the objects decls declare, each in a transaction of
// its own. One that fails (it uses an object made later) is tried again
// after the others, in rounds, while any of them succeeds. It returns the
// ones that could not be made, and the error of the first of them.
func loadObjects(ctx context.Context, conn *pg.Conn, decls []state.ObjectDecl, inTx bool) ([]state.ObjectDecl, error) {
	for len(decls) > 0 {
		var failed []state.ObjectDecl
		var first error
		for _, o := range decls {
			if err := loadObject(ctx, conn, o, inTx); err != nil {
				failed = append(failed, o)
				if first == nil {
					first = err
				}
			}
		}
		if len(failed) == len(decls) {
			return failed, first
		}
		decls = failed
	}
	return nil, nil
}

// loadObject runs one object's statements in a transaction (inTx: in a
// savepoint of the transaction conn is in).
func loadObject(ctx context.Context, conn *pg.Conn, o state.ObjectDecl, inTx bool) (err error) {
	name := o.Kind + " " + plan.DisplayName(o.Schema, o.Name)
	if o.Table != "" {
		name = o.Kind + " " + plan.DisplayPart(o.Name) + " on " + plan.DisplayName(o.Schema, o.Table)
	}
	begin, commit, rollback := "BEGIN", "COMMIT", "ROLLBACK"
	if inTx {
		begin, commit, rollback = "SAVEPOINT keel_object", "RELEASE SAVEPOINT keel_object", "ROLLBACK TO SAVEPOINT keel_object"
	}
	if _, err := conn.Exec(ctx, begin); err != nil {
		return fmt.Errorf("%s: normalizing the desired state: %s: %w", o.Pos, name, pg.ServerError(err))
	}
	for _, stmt := range o.SQL {
		if err := pg.ExecStatement(ctx, conn.Pgx().PgConn(), stmt); err != nil {
			if _, rerr := conn.Exec(ctx, rollback); rerr != nil {
				return fmt.Errorf("%s: normalizing the desired state: %s: %w", o.Pos, name, pg.ServerError(rerr))
			}
			return loadFailed("%s: the desired state does not load into PostgreSQL: %s:\n  %s\n%w", o.Pos, name, stmt, pg.ServerError(err))
		}
	}
	if _, err := conn.Exec(ctx, commit); err != nil {
		return fmt.Errorf("%s: normalizing the desired state: %s: %w", o.Pos, name, pg.ServerError(err))
	}
	return nil
}

// LoadState creates st, a state as keel reads it from HCL, in db, an empty
// database: a scratch copy to run statements on (keel plan --cross-check).
func LoadState(ctx context.Context, db *pg.DB, st *state.State) error {
	_, err := loadAndInspect(ctx, db, st, false)
	return err
}
