package planner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
	"keel/planner/state"
)

// A target record holds the target's state as a plan read it in full: the
// engine's inspection of the managed schemas (realm, installed extensions,
// invalid indexes) and PostgreSQL's catalog of them, with the catalog's
// signature (inspect.CatalogSignature) read before the plan read anything,
// and read again, the same, after. While the database still has that
// signature, no row of its catalogs has changed (nor the roles they name,
// keel.managed_schemas or the session's printing settings), so an
// inspection would read the same: the next plan of the same schemas of the
// same target, by the same build of keel, takes the target's state from
// the record (its desired state may be another: a pull request's next
// commit) and reads only what the catalog does not hold (row estimates,
// what keel does not manage) from the database. A record is not used by
// the Atlas CLI's plans or --cross-check.
type targetRecord struct {
	Format string `json:"format"`
	Key    string `json:"key"`
	// Signature is the catalog's signature the state was read under.
	Signature string `json:"signature"`
	// ReadAt is when the plan that read the state started.
	ReadAt     time.Time            `json:"read_at"`
	Extensions []plan.Extension     `json:"extensions"`
	Invalid    []state.InvalidIndex `json:"invalid"`
	// RealmHash and Fingerprint are the state's, checked when it is read
	// back.
	RealmHash   string `json:"realm_hash"`
	Fingerprint string `json:"fingerprint"`
	// The realm (state.EncodeRealm) and catalog (source.EncodeCatalog)
	// follow the JSON line, in this many bytes each.
	RealmBytes   int `json:"realm_bytes"`
	CatalogBytes int `json:"catalog_bytes"`
	// Tables and Rest are inspect.TableSignatures of the state: a hash of
	// the catalog rows of each table (by tableKey) and of all
	// other rows. When the signature has changed since, but Rest has not,
	// the next plan reads again only the tables whose hash changed (and
	// those that refer to them) and takes the rest from the record.
	Tables map[string]string `json:"tables,omitempty"`
	Rest   string            `json:"rest,omitempty"`
}

// targetFormat changes when the form of a record, or what its key or its
// hashes cover, does. 3: keel's own schema is left out of Tables and Rest
// while nothing else depends on it (inspect.TableSignatures).
const targetFormat = "keel-target/3"

// maxReread is how many tables a plan reads again over a target record;
// more, and it reads the target in full.
const maxReread = 64

// targetRereads counts the plans that took the target's state from a
// record with some tables read again (for tests).
var targetRereads atomic.Int64

// TargetRereads is how many plans in this process took the target's state
// from a target record, with the tables that changed since read again.
func TargetRereads() int64 { return targetRereads.Load() }

// tableSigs is inspect.TableSignatures' answer.
type tableSigs struct {
	tables map[[2]string]string
	rest   string
}

// readTableSigs reads the tables' signatures of the schemas names.
func readTableSigs(ctx context.Context, conn *pg.Conn, names []string) *tableSigs {
	tables, rest, err := inspect.TableSignatures(ctx, conn, names)
	if err != nil {
		return nil
	}
	return &tableSigs{tables: tables, rest: rest}
}

// tableSigsApart reads the tables' signatures of the schemas names on a
// connection of its own to db (the catalog signature's, when sig hands it
// over), in the background; the function it returns waits for them (nil
// when they could not be read).
func tableSigsApart(ctx context.Context, db *pg.DB, names []string, sig *signatureReader) func() *tableSigs {
	return onConnectionOf(ctx, db, "keel target record", sig, func(c *pg.Conn) *tableSigs {
		return readTableSigs(ctx, c, names)
	})
}

// tableKey is a table's key in a record's Tables: schema NUL name (no
// name in PostgreSQL holds a NUL).
func tableKey(k [2]string) string { return k[0] + "\x00" + k[1] }

// targetRecordsUsed is how many plans took the target's state from a
// record in this process (for tests).
var targetRecordsUsed atomic.Int64

// TargetRecords is how many plans took the target's state from a target
// record in this process.
func TargetRecords() int64 { return targetRecordsUsed.Load() }

// targets looks up and stores the target record of one plan.
type targets struct {
	dev     *source.DevDatabase
	key     string
	names   []string
	started time.Time
	file    []byte
}

// known is a target's state and catalog, taken from a record, for the
// schemas names.
type known struct {
	names []string
	st    *state.State
	cat   state.Catalog
	at    time.Time
	// used says that the plan's live state is st (took).
	used bool
	// reread is how many tables were read again over the record, which
	// st and cat hold as they are now; 0 when the record was taken whole.
	reread int
	// stale says that the catalog's signature is no longer the record's
	// (some tables were read again, or only keel's own rows changed): the
	// plan records the state again.
	stale bool
	// sigs are the tables' signatures reread read, for the record the
	// plan stores (nil when it read none).
	sigs *tableSigs
	// ready, when not nil, is closed once the fields above are set (by
	// rereadApart; st is nil when the record could not be used).
	ready chan struct{}
}

// wait waits until k is known.
func (k *known) wait() {
	if k != nil && k.ready != nil {
		<-k.ready
	}
}

// of returns the state and catalog when they are of the schemas names.
func (k *known) of(names []string) (*state.State, state.Catalog, bool) {
	k.wait()
	if k == nil || k.st == nil || !slices.Equal(slices.Sorted(slices.Values(names)), k.names) {
		return nil, nil, false
	}
	return k.st, k.cat, true
}

// took notes whether current, the live state a plan was computed from,
// is k's, and reports it.
func (k *known) took(current *state.State) bool {
	k.wait()
	if k == nil || k.st == nil || current != k.st {
		return false
	}
	if !k.used {
		k.used = true
		targetRecordsUsed.Add(1)
		if k.reread > 0 {
			targetRereads.Add(1)
		}
	}
	return true
}

// taken reports whether the plan took the target's state from k.
func (k *known) taken() bool { return k != nil && k.used }

// tableSigs returns the tables' signatures k read, or nil.
func (k *known) tableSigs() *tableSigs {
	k.wait()
	if k == nil {
		return nil
	}
	return k.sigs
}

// newTargets returns the target records of a plan of the schemas names on
// conn, or nil when the plan cannot use them: no cache, no schemas known
// before the plan, the Atlas CLI planning, or opts.MatchRecords unset.
func newTargets(dev *source.DevDatabase, conn *pg.Conn, names []string, opts Options) *targets {
	if !opts.MatchRecords || opts.Atlas != nil || dev.Cache == nil || len(names) == 0 {
		return nil
	}
	build, ok := source.BuildID()
	if !ok {
		return nil
	}
	sorted := slices.Sorted(slices.Values(names))
	k := sha256.New()
	fmt.Fprintf(k, "%s\nbuild %q\ntarget %q\nschemas %q\n", targetFormat, build, conn.DB().Target().String(), sorted)
	return &targets{dev: dev, key: hex.EncodeToString(k.Sum(nil)), names: sorted, started: time.Now().UTC()}
}

func (t *targets) fileName() string { return t.key + ".target" }

// exists reports whether there is a record to look up.
func (t *targets) exists() bool {
	t.file, _ = t.dev.Cache.ReadNamed(t.fileName())
	return t.file != nil
}

// header returns the record's JSON line and what follows it, checked to
// be whole and of this key.
func (t *targets) header() (*targetRecord, []byte, bool) {
	if t.file == nil {
		return nil, nil, false
	}
	line, rest, ok := bytes.Cut(t.file, []byte("\n"))
	if !ok {
		return nil, nil, false
	}
	var r targetRecord
	if err := json.Unmarshal(line, &r); err != nil || r.Format != targetFormat || r.Key != t.key ||
		r.RealmBytes < 0 || r.CatalogBytes < 0 || r.RealmBytes+r.CatalogBytes != len(rest) {
		return nil, nil, false
	}
	return &r, rest, true
}

// decode reads the record's state and catalog back, as written or not at
// all.
func decodeRecord(r *targetRecord, rest []byte) (*state.State, state.Catalog, bool) {
	realm, err := state.DecodeRealm(rest[:r.RealmBytes])
	if err != nil {
		return nil, nil, false
	}
	cat, err := source.DecodeCatalog(rest[r.RealmBytes:])
	if err != nil {
		return nil, nil, false
	}
	st := &state.State{Realm: realm, Extensions: r.Extensions, Invalid: r.Invalid}
	if fp, err := st.Fingerprint(); err != nil || fp.Hash != r.Fingerprint || st.RealmHash() != r.RealmHash {
		return nil, nil, false
	}
	return st, cat, true
}

// lookup returns the recorded state when the database still has the
// signature it was read under (signature, read before anything else),
// else nil.
func (t *targets) lookup(signature string) *known {
	r, rest, ok := t.header()
	if !ok || signature == "" || r.Signature != signature {
		return nil
	}
	st, cat, ok := decodeRecord(r, rest)
	if !ok {
		return nil
	}
	return &known{names: t.names, st: st, cat: cat, at: r.ReadAt}
}

// reread returns the recorded state with the tables that changed since
// read again, when the catalog's signature is no longer the record's: the
// tables' signatures (read now, also returned for the record the plan
// stores) say which tables' catalog rows changed; when no other row did
// and they are few, those tables and the ones whose foreign keys refer to
// them are inspected again (inspect.Live.InspectChanged) and their
// catalog read again (inspect.ReadCatalogOver); when none did (only keel's
// own rows changed: see inspect.TableSignatures), the record as it is.
// Anything else (another row changed, many tables, a partition or
// inheritance among them, an error) is nil: the plan reads the target in
// full.
func (t *targets) reread(ctx context.Context, conn *pg.Conn, live *inspect.Live, signature string, to plan.Timeouts) (*known, *tableSigs) {
	r, rest, ok := t.header()
	if !ok || !rereadable(r, signature) {
		return nil, nil
	}
	// The record is read back while the server hashes the catalogs.
	type decoded struct {
		st  *state.State
		cat state.Catalog
		ok  bool
	}
	back := make(chan decoded, 1)
	go func() {
		st, cat, ok := decodeRecord(r, rest)
		back <- decoded{st, cat, ok}
	}()
	sigs := readTableSigs(ctx, conn, t.names)
	d := <-back
	if sigs == nil || sigs.rest != r.Rest {
		return nil, sigs
	}
	changed := make(map[[2]string]bool)
	now := make(map[string]bool, len(sigs.tables))
	for k, h := range sigs.tables {
		now[tableKey(k)] = true
		if r.Tables[tableKey(k)] != h {
			changed[k] = true
		}
	}
	for k := range r.Tables {
		if !now[k] {
			sch, name, ok := strings.Cut(k, "\x00")
			if !ok {
				return nil, sigs
			}
			changed[[2]string{sch, name}] = true
		}
	}
	if len(changed) > maxReread {
		return nil, sigs
	}
	st, cat, ok := d.st, d.cat, d.ok
	if !ok {
		return nil, sigs
	}
	if len(changed) == 0 {
		// Only keel's own rows changed (its history's, made by the
		// first apply into the database): the record stands as it is,
		// and the plan records it again under the new signature.
		return &known{names: t.names, st: st, cat: cat, at: r.ReadAt, stale: true}, sigs
	}
	// The tables whose foreign keys refer to a changed one: what they
	// print names its columns.
	refer := make(map[[2]string]bool)
	for _, s := range st.Realm.Schemas {
		for _, tb := range s.Tables {
			for _, fk := range tb.ForeignKeys {
				if fk.RefTable != nil && fk.RefTable.Schema != nil && changed[[2]string{fk.RefTable.Schema.Name, fk.RefTable.Name}] {
					refer[[2]string{s.Name, tb.Name}] = true
				}
			}
		}
	}
	maps.Copy(changed, refer)
	if len(changed) > maxReread || involvesPartitions(cat, changed) {
		return nil, sigs
	}
	bySchema := make(map[string][]string)
	for k := range changed {
		if !slices.Contains(t.names, k[0]) {
			return nil, sigs
		}
		bySchema[k[0]] = append(bySchema[k[0]], k[1])
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("SET lock_timeout = %d", to.Lock.Milliseconds())); err != nil {
		return nil, sigs
	}
	now2, err := live.InspectChanged(ctx, st, bySchema)
	if err != nil {
		return nil, sigs
	}
	// The other tables hash as the record's did (decodeRecord hashed them).
	now2.HashTablesFrom(st, func(schemaName, table string) bool { return changed[[2]string{schemaName, table}] })
	cat2, err := inspect.ReadCatalogOver(ctx, conn, t.names, cat, bySchema)
	if err != nil || involvesPartitions(cat2, changed) {
		return nil, sigs
	}
	return &known{names: t.names, st: now2, cat: cat2, at: r.ReadAt, reread: len(changed), stale: true}, sigs
}

// rereadOn is reread on a connection of its own to conn's database (the
// catalog signature's, when sig hands it over: the tables are then read in
// the snapshot the signature is of), in the background, while the plan
// goes on (normalizing the desired state), the known it returns waiting
// for it when asked. It is nil when there is no record to read over. Also
// on a small schema: `keel apply` of a file with a column added, against
// the same change made by hand, took 0.53 -> 0.41 s at 100 tables and
// 0.43 -> 0.36 s at 20 (12 runs of each in turn; read at once on conn
// before, below 300 tables), the new connection's cost hidden behind the
// normalization.
func (t *targets) rereadOn(ctx context.Context, conn *pg.Conn, signature string, to plan.Timeouts, sig *signatureReader) *known {
	r, _, ok := t.header()
	if !ok || !rereadable(r, signature) {
		return nil
	}
	db := conn.DB()
	taken := sig.take()
	k := &known{names: t.names, ready: make(chan struct{})}
	go func() {
		defer close(k.ready)
		c, err := openTaken(ctx, db, "keel target record", taken)
		if err != nil {
			return
		}
		defer c.Close()
		live, err := inspect.OpenLive(ctx, c)
		if err != nil {
			return
		}
		got, sigs := t.reread(ctx, c, live, signature, to)
		k.sigs = sigs
		if got != nil {
			k.st, k.cat, k.at, k.reread, k.stale = got.st, got.cat, got.at, got.reread, got.stale
		}
	}()
	return k
}

// rereadable reports whether the tables that changed since r may be read
// again over it: r has the tables' signatures, and the part of the
// catalog's signature that tables' rows are not in for certain (a schema,
// a view, a function, an extension, a comment on any of them, the roles,
// ...) is unchanged. Otherwise no table signature is read: the plan reads
// the target in full at once.
func rereadable(r *targetRecord, signature string) bool {
	beyond := inspect.SignatureBeyondTables(signature)
	return signature != "" && r.Tables != nil && r.Rest != "" && beyond != "" && beyond == inspect.SignatureBeyondTables(r.Signature)
}

// involvesPartitions reports whether a catalog has partitions or
// inheritance of any of the tables: those are read in full.
func involvesPartitions(cat state.Catalog, tables map[[2]string]bool) bool {
	for k := range cat {
		if k.Kind != state.CatalogPartition && k.Kind != state.CatalogInherits {
			continue
		}
		if tables[[2]string{k.Schema, k.Table}] || tables[[2]string{k.Schema, k.Name}] {
			return true
		}
		if strings.Contains(k.Name, ".") || strings.Contains(k.Table, ".") {
			return true // another schema's table: not worth telling apart
		}
	}
	return false
}

// store records the state and catalog a plan read of the schemas names,
// under signature, the catalog's signature read before, when after (the
// signature read again once the plan read everything) is the same.
func (t *targets) store(names []string, st *state.State, cat state.Catalog, signature string, after func() (string, *tableSigs)) {
	if signature == "" || cat == nil || !slices.Equal(slices.Sorted(slices.Values(names)), t.names) {
		return
	}
	realm, err := state.EncodeRealm(st.Realm)
	if err != nil {
		return
	}
	fp, err := st.Fingerprint()
	if err != nil {
		return
	}
	catalog := source.EncodeCatalog(cat)
	a, sigs := after()
	if a != signature {
		return
	}
	rec := targetRecord{Format: targetFormat, Key: t.key, Signature: signature, ReadAt: t.started,
		Extensions: st.Extensions, Invalid: st.Invalid, RealmHash: st.RealmHash(), Fingerprint: fp.Hash,
		RealmBytes: len(realm), CatalogBytes: len(catalog)}
	if sigs != nil {
		rec.Rest, rec.Tables = sigs.rest, make(map[string]string, len(sigs.tables))
		for k, h := range sigs.tables {
			rec.Tables[tableKey(k)] = h
		}
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return
	}
	b := make([]byte, 0, len(line)+1+len(realm)+len(catalog))
	b = append(append(append(append(b, line...), '\n'), realm...), catalog...)
	t.dev.Cache.WriteNamed(t.fileName(), b)
}
