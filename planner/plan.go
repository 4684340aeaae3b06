package planner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"keel/internal/future"
	"keel/internal/pgsql"
	"keel/internal/trace"
	"keel/planner/atlascli"
	"keel/planner/diff"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
	"keel/planner/state"
)

// Options configure Generate.
type Options struct {
	// Schemas the plan manages. Empty means the schemas of the desired state.
	Schemas []string
	// Dev is where throwaway databases are created to normalize the desired
	// state. A nil Server means the target's server.
	Dev source.DevDatabase
	// ConcurrentIndexes builds new indexes on existing tables (and drops
	// indexes) CONCURRENTLY, after the transaction commits.
	ConcurrentIndexes bool
	// Timeouts every statement runs with.
	Timeouts plan.Timeouts
	// NoFingerprints leaves the plan's From and To empty, for a plan that is
	// only shown: such a plan cannot be saved or executed (it would be
	// refused as stale).
	NoFingerprints bool
	// Atlas, when set, plans the statements of tables, enums and schemas
	// with this Atlas CLI binary instead of the embedded engine (see
	// package atlascli); keel plans the rest, and verifies all, as ever.
	Atlas *atlascli.Binary
	// MatchRecords lets a plan of HCL files answer from a match record in
	// the cache (see matchRecord): when an earlier plan of the same files
	// and options found the database to match them, and the database's
	// catalog signature is still the one that plan started from, Generate
	// returns that plan, with no desired state; a plan that finds a match
	// records it. For callers that use the desired state only when the
	// plan has statements.
	MatchRecords bool
	// Applying says that the plan is applied at once (keel apply without
	// a plan file): a target record it took with tables read again is not
	// recorded again (the apply changes tables anyway, and the record it
	// took serves the next plan as well), which saves reading the
	// signature again and encoding the state before the apply.
	Applying bool
}

// Generate computes the plan that brings the target, on its connection
// conn, to the desired state, and returns it with the normalized desired
// state it leads to. It is the one way keel makes a plan (plan, apply,
// status and doctor all come here): the target is inspected once, on conn;
// the desired state is normalized on the dev server (the target's through
// conn, unless opts.Dev has a Server), or read from the cache. It changes
// nothing on the target.
func Generate(ctx context.Context, conn *pg.Conn, desired source.Desired, opts Options) (*plan.Plan, *state.State, error) {
	if opts.Timeouts == (plan.Timeouts{}) {
		opts.Timeouts = plan.DefaultTimeouts
	}
	trace.Mark(ctx, "plan: started")
	dev, done, err := opts.Dev.Open(ctx, conn)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	var (
		want    *state.State
		current *state.State
		schemas = opts.Schemas
		preread func() state.Catalog
	)
	live, err := inspect.OpenLive(ctx, conn)
	if err != nil {
		return nil, nil, err
	}
	// The catalog's signature before the target is read: an apply in this
	// process that finds it still the same checks staleness with it (a
	// change committed while the target was read, or any time after, makes
	// the apply's signature differ from this one, and the apply then checks
	// in full). A match record needs it too: it is looked up with it, and a
	// match is recorded under it (when the signature read again after the
	// plan is the same, below). When no record is there to look up, it is
	// read on a connection of its own, in a snapshot taken before anything
	// else is read: while the plan goes on (at 1,000 tables it takes 70-100
	// ms), or, for a plan that is only shown, once the plan is known to be
	// a match (a plan with statements is not recorded).
	h, isHCL := source.HCLOf(desired)
	var match *matcher
	if isHCL {
		match = newMatcher(ctx, &dev, conn, h, opts)
	}
	recorded := match != nil && match.exists()
	// Files with no match record are likely to be normalized (an edit):
	// the scratch database that takes their changed tables, and the
	// normalization's own connection, are opened while the target's
	// signature and records are read.
	if isHCL && !recorded {
		dev.OpenAhead(ctx, h, conn)
		defer dev.CloseAhead()
	}
	signature := func() string { return "" }
	var apart *signatureReader
	if !opts.NoFingerprints || match != nil {
		if !recorded && isHCL && h.Tables() >= manyTables {
			apart = signatureApart(ctx, conn.DB(), opts.Timeouts, !opts.NoFingerprints)
		}
		if apart != nil {
			defer apart.close()
			signature = apart.read
		} else {
			s, _ := inspect.CatalogSignature(ctx, conn)
			signature = func() string { return s }
		}
	}
	if recorded {
		if p := match.lookup(conn, signature()); p != nil {
			trace.Mark(ctx, "plan: answered from the match record")
			// The entry the match was found with is the base of these
			// files' next change, also where it was made for the same
			// bytes at other paths.
			dev.PointLatest(h)
			return p, nil, nil
		}
	}
	// The target's state from a target record, when the catalog's
	// signature is the one it was read under.
	var (
		targetRecords  *targets
		fromRecord     *known
		tableSigsAhead func() *tableSigs
	)
	if isHCL {
		names := opts.Schemas
		if len(names) == 0 {
			names = h.SchemaLines()
		}
		if targetRecords = newTargets(&dev, conn, names, opts); targetRecords != nil && targetRecords.exists() {
			// A stale record: the tables that changed since are read
			// again, on a connection of their own, while the plan goes on.
			if fromRecord = targetRecords.lookup(signature()); fromRecord == nil {
				fromRecord = targetRecords.rereadOn(ctx, conn, signature(), opts.Timeouts, apart)
			}
		}
		// A plan of a large schema that reads the target in full, of
		// files with no match record (it likely has statements, and its
		// record keeps the tables' signatures), hashes the tables on a
		// connection of their own while it reads.
		if targetRecords != nil && fromRecord == nil && !recorded && h.Tables() >= manyTables {
			tableSigsAhead = tableSigsApart(ctx, conn.DB(), targetRecords.names, apart)
			defer tableSigsAhead() // its connection is closed before Generate returns
		}
	}
	// The signature's connection, not taken by now, is not needed: once
	// its signature is read, its snapshot is let go.
	apart.releaseIfRead()
	if afterSignature != nil {
		afterSignature()
	}
	// A normalized HCL state from the cache: when the target prints as it
	// (no changes to tables and enums), it is not even read back. A cache
	// that holds nothing for the files (a fresh CI runner) takes what the
	// last apply kept in the target first.
	if isHCL {
		dev.RestoreKept(ctx, conn, h)
		if wait := dev.LookupAsync(ctx, h); wait != nil {
			var err error
			if current, preread, want, schemas, err = readCached(ctx, live, conn, h, wait, schemas, opts, fromRecord); err != nil {
				return nil, nil, err
			}
			if want != nil {
				dev.TookEntry()
				trace.Mark(ctx, "desired state: from the cache; target: ready")
			}
			if preread != nil {
				defer preread() // its connection is closed before Generate returns
			}
		}
	}
	// What normalizing left running (the throwaway database's drop) is
	// waited for once the plan is computed, or on the way out.
	finish := func() error { return nil }
	defer func() { _ = finish() }()
	if want == nil {
		var cat state.Catalog
		if want, current, cat, finish, err = normalizeReading(ctx, conn, live, &dev, desired, schemas, opts, fromRecord); err != nil {
			finish = func() error { return nil }
			return nil, nil, err
		}
		if cat != nil {
			preread = func() state.Catalog { return cat }
		}
	}
	if len(schemas) == 0 {
		schemas = want.SchemaNames()
	}
	if current == nil {
		if st, cat, ok := fromRecord.of(schemas); ok {
			current, preread = st, func() state.Catalog { return cat }
			trace.Mark(ctx, "target: from its record")
		} else if current, err = inspectTarget(ctx, live, schemas, opts.Timeouts); err != nil {
			return nil, nil, err
		} else {
			trace.Mark(ctx, "target: read")
		}
	}
	var engine *atlasPlan
	if opts.Atlas != nil {
		if engine, err = planWithAtlas(ctx, *opts.Atlas, dev, conn.DB(), desired, want, schemas); err != nil {
			return nil, nil, err
		}
	}
	p, err := diffLive(ctx, live, conn.DB(), current, want, schemas, opts, preread, engine)
	if err != nil {
		return nil, nil, err
	}
	trace.Mark(ctx, "plan: computed (%d statements)", len(p.Steps))
	if fromRecord.took(current) {
		p.TargetReadAt, p.TargetReread = fromRecord.at, fromRecord.reread
	}
	if at, partial, ok := dev.KeptAt(); ok {
		p.DesiredKeptAt, p.DesiredKeptPartial = at, partial
	}
	if taken, normalized, ok := dev.Adopted(); ok {
		p.DesiredAdopted, p.DesiredAdoptedNormalized = taken, normalized
	}
	var sig, after string
	recordable := match != nil && p.Matches() && want.Catalog != nil
	storeTarget := targetRecords != nil && (!fromRecord.taken() || fromRecord.stale && !opts.Applying) && p.LiveCatalog != nil
	switch {
	case recordable || storeTarget:
		// The signature again, now that the plan has read everything: a
		// match, or the target's state, is recorded only when it is the
		// one read before, so that a change committed while the plan read
		// the database (and undone later) never leaves a record of a
		// state that was not read. The target's state is encoded
		// meanwhile.
		// A target record of a plan with statements (an apply may
		// follow) keeps the tables' signatures too (read before the
		// signature again: when it is the same, they are of the state
		// read), so that the plan after a change to a few tables reads
		// only those again.
		done := make(chan struct{})
		sigs := fromRecord.tableSigs()
		if sigs == nil && tableSigsAhead != nil {
			sigs = tableSigsAhead()
		}
		go func() {
			defer close(done)
			if storeTarget && sigs == nil && len(p.Steps) > 0 {
				sigs = readTableSigs(ctx, conn, targetRecords.names)
			}
			after, _ = inspect.CatalogSignature(ctx, conn)
		}()
		sig = signature()
		if storeTarget {
			cat, _ := p.LiveCatalog.(state.Catalog)
			targetRecords.store(schemas, current, cat, sig, func() (string, *tableSigs) { <-done; return after, sigs })
		}
		<-done
	case !opts.NoFingerprints:
		sig = signature()
	}
	if sig != "" {
		p.CatalogSignature, p.Live = sig, current
	}
	err = finish()
	finish = func() error { return nil }
	if err != nil {
		return nil, nil, err
	}
	// A match, checked against both catalogs, in a catalog that did not
	// change meanwhile: recorded for the next plan.
	if recordable && sig != "" && after == sig {
		match.store(p, sig)
	}
	trace.Mark(ctx, "plan: done")
	return p, want, nil
}

// readCached reads the target while the cache entry for h is read (wait
// gives it), and returns the desired state from the entry, with the
// target's state and its catalog read on a second connection (preread),
// when the entry is there and whole; want is nil otherwise. The target's
// schemas are those given, else those the files' schema blocks name: when
// the entry's schemas are others, the target is read again for them.
func readCached(ctx context.Context, live *inspect.Live, conn *pg.Conn, h *source.HCL, wait func() *source.Cached, schemas []string, opts Options, fromRecord *known) (current *state.State, preread func() state.Catalog, want *state.State, managed []string, err error) {
	names := schemas
	if len(names) == 0 {
		names = h.SchemaLines() // none: read after the entry
	}
	recorded, recordedCat, fromRec := fromRecord.of(names)
	var apart func() state.Catalog
	switch {
	case fromRec:
		apart = func() state.Catalog { return recordedCat }
	case len(names) > 0 && h.Tables() >= manyTables:
		apart = catalogApart(ctx, conn.DB(), names, opts.Timeouts)
	}
	// Waits for the catalog's read when it is not used.
	unused := func() {
		if apart != nil {
			apart()
		}
	}
	read := recorded
	var rerr error
	if len(names) > 0 && !fromRec {
		read, rerr = inspectTarget(ctx, live, names, opts.Timeouts)
	}
	c := wait()
	if c == nil || c.RealmHash == "" || !coversSchemas(schemas, c.Schemas) {
		unused()
		return nil, nil, nil, schemas, nil // normalized below
	}
	if len(schemas) == 0 {
		schemas = c.Schemas
	}
	if len(names) > 0 && slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(schemas))) {
		if rerr != nil {
			unused()
			return nil, nil, nil, schemas, rerr
		}
		return read, apart, c.For(read, h), schemas, nil
	}
	unused()
	if st, cat, ok := fromRecord.of(schemas); ok {
		return st, func() state.Catalog { return cat }, c.For(st, h), schemas, nil
	}
	if current, err = inspectTarget(ctx, live, schemas, opts.Timeouts); err != nil {
		return nil, nil, nil, schemas, err
	}
	return current, nil, c.For(current, h), schemas, nil
}

// afterSignature, when set, runs once a plan has read (or taken the
// snapshot of) the catalog's signature, before it reads anything else
// (for tests: a change committed while a plan reads the database).
var afterSignature func()

// signaturesReadApart counts the signatures read on a connection of their
// own (for tests).
var signaturesReadApart atomic.Int64

// signatureReader reads the catalog's signature on a connection of its
// own, in a snapshot taken before anything else was read: the signature is
// of the catalog as it was then.
type signatureReader struct {
	c      *pg.Conn
	run    func()
	sig    chan string
	once   sync.Once
	got    string
	mu     sync.Mutex // guards sig, got and closed
	closed bool       // c is closed or taken
}

// signatureApart opens a signatureReader's connection and takes its
// snapshot (a read-only repeatable-read transaction takes it at its first
// statement). When eager, the signature is read at once, in the
// background; else read waits, with the transaction idle, until asked
// for. It returns nil when the connection cannot be opened or the snapshot
// taken (the signature is then read on the first connection).
func signatureApart(ctx context.Context, target *pg.DB, t plan.Timeouts, eager bool) *signatureReader {
	c, err := target.Open(ctx, "keel signature")
	if err != nil {
		return nil
	}
	for _, q := range []string{fmt.Sprintf("SET lock_timeout = %d", t.Lock.Milliseconds()), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "SELECT 1"} {
		if _, err := c.Exec(ctx, q); err != nil {
			c.Close()
			return nil
		}
	}
	r := &signatureReader{c: c, sig: make(chan string, 1)}
	run := func() {
		s, err := inspect.CatalogSignature(ctx, c)
		if err == nil {
			signaturesReadApart.Add(1)
		} else {
			s = ""
		}
		r.sig <- s
	}
	if eager {
		r.once.Do(func() { go run() })
	} else {
		r.run = run
	}
	return r
}

// read returns the signature ("" when it could not be read).
func (r *signatureReader) read() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.once.Do(func() { r.run() })
	if r.sig != nil {
		r.got, r.sig = <-r.sig, nil
	}
	return r.got
}

// take hands the connection over, still in the snapshot the signature was
// read in: what reads the catalog again from there (the tables'
// signatures, the tables that changed) finds it as the signature
// describes it, and on a connection whose caches already hold every
// catalog (planning the tables' signatures took 30-100 ms on a new
// connection). The function it returns waits for the signature and gives
// the connection, which the taker closes; nil when the signature could not
// be read (its connection is then closed) or r is nil or was taken or
// closed before.
func (r *signatureReader) take() func() *pg.Conn {
	none := func() *pg.Conn { return nil }
	if r == nil {
		return none
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return none
	}
	r.closed = true
	return func() *pg.Conn {
		if r.read() == "" {
			r.c.Close()
			return nil
		}
		signatureConnsTaken.Add(1)
		return r.c
	}
}

// close closes the connection unless it was taken. A signature never asked
// for is not read (read gives "" after), one being read is waited for.
func (r *signatureReader) close() {
	if r == nil {
		return
	}
	started := true
	r.once.Do(func() { started = false })
	if started {
		r.read()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !started {
		r.sig = nil
	}
	if !r.closed {
		r.closed = true
		r.c.Close()
	}
}

// releaseIfRead closes the connection of a signature read at once (not
// when asked for) that is read by now, unless it was taken; else close, at
// the end, does.
func (r *signatureReader) releaseIfRead() {
	if r == nil || r.run != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if r.sig != nil {
		select {
		case s := <-r.sig:
			r.got, r.sig = s, nil
		default:
			return
		}
	}
	r.closed = true
	r.c.Close()
}

// signatureConnsTaken counts the signatures' connections handed over to
// read the catalog again (for tests).
var signatureConnsTaken atomic.Int64

// manyTables is the size of a schema from which a plan reads the target's
// catalog on a second connection, while the first inspects it: at 1,000
// tables each takes about a quarter of a second; on a small schema a
// second connection costs more than it saves.
var manyTables = 300

// catalogsReadApart counts the catalogs read on a second connection (for
// tests).
var catalogsReadApart atomic.Int64

// catalogApart reads the catalog of the target's schemas on a connection of
// its own. The function it returns waits for it; it gives nil when the read
// could not be made there (the catalog is then read on the first
// connection, and an error is reported from there).
func catalogApart(ctx context.Context, target *pg.DB, schemas []string, t plan.Timeouts) func() state.Catalog {
	return onConnectionApart(ctx, target, "keel catalog", func(c *pg.Conn) state.Catalog {
		// As the inspection on the first connection: never waiting long
		// behind a lock.
		if _, err := c.Exec(ctx, fmt.Sprintf("SET lock_timeout = %d", t.Lock.Milliseconds())); err != nil {
			return nil
		}
		cat, err := inspect.ReadCatalog(ctx, c, schemas)
		if err != nil {
			return nil
		}
		catalogsReadApart.Add(1)
		return cat
	})
}

// onConnectionApart runs read on a connection of its own to db (named
// app), in the background, and closes it. The function it returns waits
// for read's result, as often as asked; it is the zero value when the
// connection could not be opened.
func onConnectionApart[T any](ctx context.Context, db *pg.DB, app string, read func(c *pg.Conn) T) func() T {
	return onConnectionOf(ctx, db, app, nil, read)
}

// openTaken is the connection taken gives (see signatureReader.take), or
// a new one to db (named app) when it gives none.
func openTaken(ctx context.Context, db *pg.DB, app string, taken func() *pg.Conn) (*pg.Conn, error) {
	if c := taken(); c != nil {
		return c, nil
	}
	return db.Open(ctx, app)
}

// onConnectionOf is onConnectionApart on the connection sig hands over
// (see signatureReader.take), or on a new one when sig is nil or hands
// none.
func onConnectionOf[T any](ctx context.Context, db *pg.DB, app string, sig *signatureReader, read func(c *pg.Conn) T) func() T {
	taken := sig.take()
	return future.Go(func() (v T) {
		c, err := openTaken(ctx, db, app, taken)
		if err != nil {
			return v
		}
		defer c.Close()
		return read(c)
	})
}

// Keepable reports whether Keep can keep the desired state: an HCL one,
// with a cache to take its entry from.
func Keepable(desired source.Desired, opts Options) bool {
	_, ok := source.HCLOf(desired)
	return ok && opts.Dev.Cache != nil
}

// Keep stores the normalized form of the desired state (its cache entry)
// in the target, after an apply brought the target to it, for the next
// plan on a runner whose cache is empty (source.DevDatabase.Keep), and
// reports whether the target holds it now. Only HCL desired states are
// kept.
func Keep(ctx context.Context, conn *pg.Conn, desired source.Desired, opts Options) (kept bool, err error) {
	h, ok := source.HCLOf(desired)
	if !ok {
		return false, nil
	}
	dev, done, err := opts.Dev.Open(ctx, conn)
	if err != nil {
		return false, err
	}
	defer done()
	return dev.Keep(ctx, conn, h)
}

// normalizeReading normalizes the desired state and, for an HCL one, whose
// schemas are known before it is loaded, inspects the target and reads its
// catalog meanwhile (on the target's connection; the throwaway database gets
// one of its own): most of a normalization is the server creating the
// objects. current and cat are nil when the target was not read.
func normalizeReading(ctx context.Context, conn *pg.Conn, live *inspect.Live, dev *source.DevDatabase, desired source.Desired, schemas []string, opts Options, fromRecord *known) (want, current *state.State, cat state.Catalog, finish func() error, err error) {
	h, ok := source.HCLOf(desired)
	if !ok {
		want, err = normalize(ctx, *dev, desired, opts)
		return want, nil, nil, func() error { return nil }, err
	}
	names := schemas
	if len(names) == 0 {
		if names, err = h.SchemaNames(); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	// Files the cache holds nothing for may be made on the target's
	// state (read below), when the throwaway database's server is the
	// target's: AdoptFrom before Apart, which copies dev.
	type inspected struct {
		st  *state.State
		cat state.Catalog
		err error
	}
	var read func() inspected
	if dev.OnServerOf(conn) {
		dev.AdoptFrom(func() (*state.State, state.Catalog) {
			r := read()
			if r.err != nil {
				return nil, nil
			}
			return r.st, r.cat
		})
	}
	// Its connection may still be dropping the throwaway database when
	// this returns: finish waits for that and closes it.
	apart, done, err := dev.Apart(ctx, conn)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, done())
		}
	}()
	read = future.Go(func() inspected {
		// The target's schema from its record (which may still be
		// reading the tables that changed since, while the state is
		// normalized), else read.
		if recorded, recordedCat, ok := fromRecord.of(names); ok {
			trace.Mark(ctx, "target: from its record")
			return inspected{recorded, recordedCat, nil}
		}
		// A large schema's catalog is read on a connection of its own,
		// while the first inspects it.
		var apartCat func() state.Catalog
		if h.Tables() >= manyTables {
			apartCat = catalogApart(ctx, conn.DB(), names, opts.Timeouts)
		}
		// The target's schema, then its catalog (nil when it cannot be
		// read: diffLive reads it again and reports why).
		st, err := inspectTarget(ctx, live, names, opts.Timeouts)
		var cat state.Catalog
		if apartCat != nil {
			cat = apartCat() // waited for also when inspecting failed
		}
		trace.Mark(ctx, "target: read")
		if err == nil && cat == nil {
			if cat, err = live.Catalog(ctx, names); err != nil {
				cat, err = nil, nil
			}
		}
		return inspected{st, cat, err}
	})
	want, err = normalize(ctx, apart, desired, opts)
	r := read() // the target's connection is free again
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if r.err != nil {
		return nil, nil, nil, nil, r.err
	}
	if got := slices.Sorted(slices.Values(want.SchemaNames())); len(schemas) == 0 && !slices.Equal(got, slices.Sorted(slices.Values(names))) {
		return want, nil, nil, done, nil // read again, for the schemas normalized
	}
	return want, r.st, r.cat, done, nil
}

// coversSchemas reports whether a cached state's schemas are all managed:
// when one is left out, normalizing says so (see normalize).
func coversSchemas(managed, cached []string) bool {
	for _, s := range cached {
		if len(managed) > 0 && !slices.Contains(managed, s) {
			return false
		}
	}
	return true
}

// Normalize loads the desired state in the server's normal form, in a
// throwaway database on opts.Dev's server (the target's, through conn, by
// default) or from the cache.
func Normalize(ctx context.Context, conn *pg.Conn, desired source.Desired, opts Options) (*state.State, error) {
	dev, done, err := opts.Dev.Open(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer done()
	if h, ok := source.HCLOf(desired); ok {
		dev.RestoreKept(ctx, conn, h) // a fresh runner applying a plan file
	}
	return normalize(ctx, dev, desired, opts)
}

func normalize(ctx context.Context, dev source.DevDatabase, desired source.Desired, opts Options) (*state.State, error) {
	want, err := desired.Load(ctx, dev)
	if err != nil {
		return nil, err
	}
	// A schema written in HCL is meant to be managed: leaving it out
	// silently would hide it from review. SQL and databases may hold more.
	if h, ok := source.HCLOf(desired); ok && len(opts.Schemas) > 0 {
		declared, err := h.Parsed()
		if err != nil {
			return nil, err
		}
		for _, name := range declared.SchemaNames() {
			if !slices.Contains(opts.Schemas, name) {
				return nil, fmt.Errorf("%s: schema %q is declared, but the managed schemas are %s: add it to the profile's schemas, or remove it from the desired state",
					declared.Positions["schema "+plan.DisplayPart(name)], name, strings.Join(opts.Schemas, ", "))
			}
		}
	}
	return want.Only(opts.Schemas), nil
}

// Diff inspects the target on conn and computes the plan to the normalized
// desired state want.
func Diff(ctx context.Context, conn *pg.Conn, want *state.State, opts Options) (*plan.Plan, error) {
	if opts.Timeouts == (plan.Timeouts{}) {
		opts.Timeouts = plan.DefaultTimeouts
	}
	schemas := opts.Schemas
	if len(schemas) == 0 {
		schemas = want.SchemaNames()
	}
	live, err := inspect.OpenLive(ctx, conn)
	if err != nil {
		return nil, err
	}
	current, err := inspectTarget(ctx, live, schemas, opts.Timeouts)
	if err != nil {
		return nil, err
	}
	if opts.Atlas != nil {
		return nil, errAtlasDiff
	}
	return diffLive(ctx, live, conn.DB(), current, want, schemas, opts, nil, nil)
}

// inspectTarget reads the managed schemas of the target.
func inspectTarget(ctx context.Context, live *inspect.Live, schemas []string, t plan.Timeouts) (*state.State, error) {
	if slices.Contains(schemas, plan.KeelSchema) {
		return nil, fmt.Errorf("schema %q is keel's own (its apply history) and cannot be managed: rename the schema in the desired state", plan.KeelSchema)
	}
	return live.InspectUnder(ctx, schemas, t)
}

// diffLive computes the plan from the inspected state current to want.
func diffLive(ctx context.Context, l *inspect.Live, target *pg.DB, current, want *state.State, schemas []string, opts Options, preread func() state.Catalog, engine *atlasPlan) (*plan.Plan, error) {
	facts, err := l.TableFacts(ctx, schemas)
	if err != nil {
		return nil, fmt.Errorf("reading table sizes: %w", err)
	}
	// The engine's word is not taken for it: PostgreSQL's catalog of both
	// sides is compared, and what differs that no statement changes is
	// listed (and the plan is not applied).
	var (
		unplanned   []plan.Difference
		fromCatalog plan.Fingerprint
		cat         state.Catalog
	)
	if want.Catalog != nil {
		if preread != nil {
			cat = preread()
		}
		if cat == nil {
			if cat, err = l.Catalog(ctx, schemas); err != nil {
				return nil, err
			}
		}
	}
	// The catalog's fingerprint, on the other core while the engine and
	// keel compare both sides (nothing changes the catalog meanwhile): at
	// 1,000 tables it takes 40-90 ms.
	catalogPrint := func() plan.Fingerprint { return plan.Fingerprint{} }
	if want.Catalog != nil && !opts.NoFingerprints {
		catalogPrint = future.Go(cat.Fingerprint)
		defer catalogPrint() // waited for on every return
	}
	// The fingerprints first: the tables both sides hash the same are left
	// out of the engine's comparison.
	var (
		from, to  plan.Fingerprint
		fromRealm string // for an apply in this process (a plan that is only shown is never applied)
	)
	if !opts.NoFingerprints {
		if from, err = current.Fingerprint(); err != nil {
			return nil, err
		}
		fromRealm = current.RealmHash()
		if to, err = want.Fingerprint(); err != nil {
			return nil, err
		}
	}
	var (
		steps []plan.Step
		cov   *diff.Coverage
	)
	if engine != nil {
		steps, cov, err = diff.AtlasSteps(engine.statements, current, want, facts, opts.Timeouts)
	} else {
		steps, cov, err = diff.StepsCovering(ctx, l.Engine(), facts, current, want, cat, opts.ConcurrentIndexes, opts.Timeouts)
	}
	if err != nil {
		return nil, err
	}
	if want.Catalog != nil && (len(steps) > 0 || !maps.Equal(want.Catalog, cat)) {
		// What the engine does not model and keel does: before and after
		// the engine's statements, in the transaction. (When the engine
		// plans nothing and both catalogs are the same, entry for entry,
		// there is nothing else to plan, nor any difference to list.)
		catDiffs := want.Catalog.Differences(cat)
		first, more, err := diff.CatalogStepsOf(catDiffs, want.Catalog, cat, cov, facts, opts.ConcurrentIndexes)
		if err != nil {
			return nil, err
		}
		steps = insertTransactional(steps, first, more, opts.Timeouts)
		// Views, functions, triggers, ...: around the tables' statements.
		objs := diff.PlanObjects(want.Catalog, cat, cov)
		steps = insertObjects(steps, objs, opts.Timeouts)
		unplanned = state.PlanDifferences(cov.Unplanned(catDiffs))
		for i, d := range unplanned {
			if why := objs.Why[d.Object]; why != "" && d.Why == "" {
				unplanned[i].Why = why
			}
		}
	}
	fromCatalog = catalogPrint()
	// A statement PostgreSQL would refuse because objects keel does not
	// manage depend on its object: refused before anything runs.
	unplanned = append(unplanned, diff.Blockers(steps)...)
	notManaged, err := l.NotManaged(ctx, schemas)
	if err != nil {
		return nil, err
	}
	drops, dropSchemas, unmanaged, err := scope(ctx, l, schemas, len(opts.Schemas) > 0)
	if err != nil {
		return nil, err
	}
	steps = insertTransactional(steps, nil, drops, opts.Timeouts)
	notManaged = append(unmanaged, notManaged...)
	if len(dropSchemas) > 0 && !opts.NoFingerprints && want.Catalog != nil {
		// What the dropped schemas hold is part of what the plan was
		// computed from: a table added there since makes it stale.
		all, err := l.Catalog(ctx, append(slices.Clip(schemas), dropSchemas...))
		if err != nil {
			return nil, err
		}
		fromCatalog = all.Fingerprint()
	}
	noteRows(steps, facts)
	if err := facts.Err(); err != nil {
		return nil, err
	}
	return &plan.Plan{
		Target: target.Target(), Schemas: schemas, Steps: steps, NotManaged: notManaged,
		DesiredNotManaged: want.NotManaged, From: from, To: to, LockRetries: opts.Timeouts.Retries,
		DesiredExtensions: append([]plan.Extension{}, want.Extensions...), Unplanned: unplanned,
		FromCatalog: fromCatalog, DropSchemas: dropSchemas, FromRealm: fromRealm, Engine: engine.name(),
		LiveCatalog: liveCatalog(cat),
	}, nil
}

// liveCatalog is the catalog the plan read, for its apply in this process
// and its target record (plan.Plan.LiveCatalog).
func liveCatalog(cat state.Catalog) any {
	if cat == nil {
		return nil
	}
	return cat
}

// noteRows says, on each hazard that carries a row estimate, where the
// estimate comes from when it is not recent statistics.
func noteRows(steps []plan.Step, facts *inspect.Facts) {
	for i := range steps {
		for j, h := range steps[i].Hazards {
			if h.Rows == nil {
				continue
			}
			if _, sch, table, ok := plan.ParseObject(h.Object); ok && sch != "" {
				steps[i].Hazards[j].RowsNote = facts.RowsNote(sch, table)
			}
		}
	}
}

// scope compares the managed schemas with the database's: a schema keel
// managed (keel.managed_schemas) that the desired state no longer has is
// dropped with everything in it, each table and object named in a
// data-loss hazard, unless the profile pins the managed schemas; any other
// schema is listed as not managed, with its number of tables.
func scope(ctx context.Context, l *inspect.Live, schemas []string, pinned bool) (drops []plan.Step, dropped []string, unmanaged []plan.Object, err error) {
	all, err := l.UserSchemas(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	managed, err := l.ManagedSchemas(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, s := range all {
		if slices.Contains(schemas, s) {
			continue
		}
		tables, err := l.SchemaTables(ctx, s)
		if err != nil {
			return nil, nil, nil, err
		}
		if pinned || !slices.Contains(managed, s) {
			unmanaged = append(unmanaged, plan.Object{Kind: "schema", Name: plan.DisplayPart(s), Detail: fmt.Sprintf("%d table(s)", len(tables))})
			continue
		}
		obj := "schema " + plan.DisplayPart(s)
		hazards := []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj,
			Message: "keel managed the schema and the desired state no longer has it: code that uses it breaks"}}
		for _, t := range tables {
			rows := t.Rows
			hazards = append(hazards, plan.Hazard{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: "table " + plan.DisplayName(s, t.Name),
				Message: "dropped with its schema, and all its rows", Rows: &rows})
		}
		others, err := l.NotManaged(ctx, []string{s})
		if err != nil {
			return nil, nil, nil, err
		}
		for _, o := range others {
			hazards = append(hazards, plan.Hazard{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: o.String(),
				Message: "dropped with its schema; keel does not manage it and will not create it again"})
		}
		drops = append(drops, plan.Step{SQL: "DROP SCHEMA " + pgsql.QuoteIdent(s) + " CASCADE", Comment: "drop schema " + plan.DisplayPart(s) + ", which keel managed, with everything in it",
			Action: plan.ActionDrop, Object: obj, Hazards: hazards, Transactional: true})
		dropped = append(dropped, s)
	}
	return drops, dropped, unmanaged, nil
}

// insertTransactional puts first before steps and the statements of more
// that run in the plan's transaction after the last such statement of
// steps, and the others at the end, all with the plan's timeouts.
func insertTransactional(steps, first, more []plan.Step, t plan.Timeouts) []plan.Step {
	if len(first) > 0 {
		for i := range first {
			first[i].LockTimeout, first[i].StatementTimeout = plan.Duration(t.Lock), plan.Duration(t.Statement)
		}
		steps = append(append([]plan.Step{}, first...), steps...)
	}
	if len(more) == 0 {
		return steps
	}
	at := 0
	for i, st := range steps {
		if st.Transactional {
			at = i + 1
		}
	}
	var in, after []plan.Step
	for _, st := range more {
		st.LockTimeout, st.StatementTimeout = plan.Duration(t.Lock), plan.Duration(t.Statement)
		if st.Transactional {
			in = append(in, st)
		} else {
			after = append(after, st)
		}
	}
	out := make([]plan.Step, 0, len(steps)+len(more))
	out = append(append(append(out, steps[:at]...), in...), steps[at:]...)
	return append(out, after...)
}

// insertObjects puts the statements of the objects beside tables in the
// plan: the drops first, what tables use after the schemas and extensions
// are created, the rest at the end of the transaction.
func insertObjects(steps []plan.Step, objs diff.ObjectSteps, t plan.Timeouts) []plan.Step {
	at := 0
	for at < len(steps) && steps[at].Transactional && (strings.HasPrefix(steps[at].Object, "schema ") || strings.HasPrefix(steps[at].Object, "extension ")) {
		at++
	}
	for i := range objs.Early {
		objs.Early[i].LockTimeout, objs.Early[i].StatementTimeout = plan.Duration(t.Lock), plan.Duration(t.Statement)
	}
	early := append(append([]plan.Step{}, objs.Early...), steps[at:]...)
	steps = append(append([]plan.Step{}, steps[:at]...), early...)
	return insertTransactional(steps, objs.Drop, objs.Late, t)
}
