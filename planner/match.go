package planner

import (
	"context"
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
)

// A match record says that a plan of these files against this target found
// the database to match the desired state, checked against PostgreSQL's
// catalog, when the catalog's signature (inspect.CatalogSignature) was
// Signature. The signature is read before the plan reads anything, and it
// changes with any committed change to the database's catalogs (a new row
// version in any of them), to the roles they name, to keel.managed_schemas
// and to the session's printing settings; the record also holds the dev
// server's extension defaults, which normalizing depends on. So while a
// database still has the signature, a plan of the same files, with the
// same options, by the same build of keel, would read the same schema and
// find the same match: the next plan answers from the record instead of
// reading it all again. Only matches are recorded: a plan with statements
// carries row estimates, which change with the data.
type matchRecord struct {
	Format string `json:"format"`
	Key    string `json:"key"`
	// Signature is the catalog's signature the match was verified under.
	Signature string `json:"signature"`
	// ExtensionDefaults is the dev server's (source.DevDatabase.ExtensionDefaults).
	ExtensionDefaults string `json:"extension_defaults"`
	// VerifiedAt is when the plan that verified the match started.
	VerifiedAt time.Time `json:"verified_at"`
	// Plan is the plan that found the match.
	Plan json.RawMessage `json:"plan"`
}

// matchFormat changes when the form of a record, or what its key covers,
// does.
const matchFormat = "keel-match/1"

// matchRecords is how many plans a match record answered in this process
// (for tests).
var matchRecords atomic.Int64

// MatchRecords is how many plans a match record answered in this process.
func MatchRecords() int64 { return matchRecords.Load() }

// matcher looks up and stores the match record of one plan.
type matcher struct {
	dev *source.DevDatabase
	key string
	// extensions are the dev server's extension defaults, read before the
	// plan.
	extensions string
	started    time.Time
	// record is the record's file, read by exists.
	record []byte
}

// newMatcher returns the matcher for a plan of h on conn with opts, or nil
// when the plan cannot use records: no cache, the Atlas CLI planning, or
// opts.MatchRecords unset. (Without a signature, on PostgreSQL before 14,
// nothing is looked up or recorded.)
func newMatcher(ctx context.Context, dev *source.DevDatabase, conn *pg.Conn, h *source.HCL, opts Options) *matcher {
	if !opts.MatchRecords || opts.Atlas != nil {
		return nil
	}
	entry, ok := dev.EntryKey(ctx, h)
	if !ok {
		return nil
	}
	ext, err := dev.ExtensionDefaults(ctx)
	if err != nil {
		return nil
	}
	k := sha256.New()
	schemas := slices.Sorted(slices.Values(opts.Schemas))
	fmt.Fprintf(k, "%s\nentry %s\ntarget %q\nschemas %q\nconcurrent %t\ntimeouts %d %d %d\nfingerprints %t\n",
		matchFormat, entry, conn.DB().Target().String(), schemas, opts.ConcurrentIndexes,
		opts.Timeouts.Lock, opts.Timeouts.Statement, opts.Timeouts.Retries, !opts.NoFingerprints)
	return &matcher{dev: dev, key: hex.EncodeToString(k.Sum(nil)), extensions: ext, started: time.Now().UTC()}
}

func (m *matcher) file() string { return m.key + ".match" }

// exists reports whether there is a record to look up.
func (m *matcher) exists() bool {
	m.record, _ = m.dev.Cache.ReadNamed(m.file())
	return m.record != nil
}

// lookup returns the recorded plan when the database still has the
// signature the match was verified under (signature, read before anything
// else), else nil.
func (m *matcher) lookup(conn *pg.Conn, signature string) *plan.Plan {
	if m.record == nil || signature == "" {
		return nil
	}
	var r matchRecord
	if err := json.Unmarshal(m.record, &r); err != nil || r.Format != matchFormat || r.Key != m.key ||
		r.Signature != signature || r.ExtensionDefaults != m.extensions {
		return nil
	}
	p := &plan.Plan{}
	if err := json.Unmarshal(r.Plan, p); err != nil || !p.Matches() {
		return nil
	}
	p.Target, p.CatalogSignature = conn.DB().Target(), signature
	p.MatchVerifiedAt = r.VerifiedAt
	matchRecords.Add(1)
	return p
}

// store records p, which started with the catalog's signature, when it
// matches.
func (m *matcher) store(p *plan.Plan, signature string) {
	if !p.Matches() {
		return
	}
	b, err := json.Marshal(p)
	if err != nil {
		return
	}
	r, err := json.Marshal(matchRecord{Format: matchFormat, Key: m.key, Signature: signature,
		ExtensionDefaults: m.extensions, VerifiedAt: m.started, Plan: b})
	if err != nil {
		return
	}
	m.dev.Cache.WriteNamed(m.file(), r)
}
