package planner

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

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
}

// targetFormat changes when the form of a record, or what its key
// covers, does.
const targetFormat = "keel-target/1"

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
}

// of returns the state and catalog when they are of the schemas names.
func (k *known) of(names []string) (*state.State, state.Catalog, bool) {
	if k == nil || !slices.Equal(slices.Sorted(slices.Values(names)), k.names) {
		return nil, nil, false
	}
	return k.st, k.cat, true
}

// took notes whether current, the live state a plan was computed from,
// is k's, and reports it.
func (k *known) took(current *state.State) bool {
	if k == nil || current != k.st {
		return false
	}
	if !k.used {
		k.used = true
		targetRecordsUsed.Add(1)
	}
	return true
}

// taken reports whether the plan took the target's state from k.
func (k *known) taken() bool { return k != nil && k.used }

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

// lookup returns the recorded state when the database still has the
// signature it was read under (signature, read before anything else),
// else nil.
func (t *targets) lookup(signature string) *known {
	if t.file == nil || signature == "" {
		return nil
	}
	line, rest, ok := bytes.Cut(t.file, []byte("\n"))
	if !ok {
		return nil
	}
	var r targetRecord
	if err := json.Unmarshal(line, &r); err != nil || r.Format != targetFormat || r.Key != t.key ||
		r.Signature != signature || r.RealmBytes < 0 || r.CatalogBytes < 0 || r.RealmBytes+r.CatalogBytes != len(rest) {
		return nil
	}
	realm, err := state.DecodeRealm(rest[:r.RealmBytes])
	if err != nil {
		return nil
	}
	cat, err := source.DecodeCatalog(rest[r.RealmBytes:])
	if err != nil {
		return nil
	}
	st := &state.State{Realm: realm, Extensions: r.Extensions, Invalid: r.Invalid}
	// Read back as written, or not at all.
	if fp, err := st.Fingerprint(); err != nil || fp.Hash != r.Fingerprint || st.RealmHash() != r.RealmHash {
		return nil
	}
	return &known{names: t.names, st: st, cat: cat, at: r.ReadAt}
}

// store records the state and catalog a plan read of the schemas names,
// under signature, the catalog's signature read before, when after (the
// signature read again once the plan read everything) is the same.
func (t *targets) store(names []string, st *state.State, cat state.Catalog, signature string, after func() string) {
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
	line, err := json.Marshal(targetRecord{Format: targetFormat, Key: t.key, Signature: signature, ReadAt: t.started,
		Extensions: st.Extensions, Invalid: st.Invalid, RealmHash: st.RealmHash(), Fingerprint: fp.Hash,
		RealmBytes: len(realm), CatalogBytes: len(catalog)})
	if err != nil || after() != signature {
		return
	}
	b := make([]byte, 0, len(line)+1+len(realm)+len(catalog))
	b = append(append(append(append(b, line...), '\n'), realm...), catalog...)
	t.dev.Cache.WriteNamed(t.fileName(), b)
}
