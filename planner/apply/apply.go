// Package apply runs plans: one Session per target holds the apply lock
// on the command's connection and, in one transaction, checks that the live
// state is the one the plan was made from, runs the statements, checks the
// result and records it in keel.history. It also finds connection poolers
// that would break the lock.
package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os/user"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"keel/internal/future"
	"keel/internal/pgsql"
	"keel/planner/diff"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/schema"
	"github.com/jackc/pgx/v5/pgconn"
)

// StepError is a statement of a plan that failed. The plan's transaction was
// rolled back: nothing of the plan remains.
type StepError struct {
	// Index is the 1-based position of the statement in the plan.
	Index, Total int
	Step         plan.Step
	// Code is the SQLSTATE, when the server answered with one.
	Code string
	Err  error
	// Attempts is how often the statement was tried (lock timeouts are retried).
	Attempts int
	// Blocker describes the session holding the lock the statement waited
	// for, after a lock timeout.
	Blocker string
	// Committed is how many statements were committed before this one
	// failed: non-zero only for a statement outside the transaction.
	Committed int
}

func (e *StepError) Error() string {
	var b strings.Builder
	if e.Step.Transactional {
		fmt.Fprintf(&b, "statement %d of %d failed, the transaction was rolled back and nothing was changed", e.Index, e.Total)
	} else {
		fmt.Fprintf(&b, "statement %d of %d (outside the transaction) failed; the %d statements before it were committed", e.Index, e.Total, e.Committed)
	}
	if e.Code == pg.LockNotAvailable {
		fmt.Fprintf(&b, ".\nIt was a lock timeout: the statement waited longer than lock_timeout %s for its lock, %d times", e.Step.LockTimeout, e.Attempts)
		if e.Blocker != "" {
			fmt.Fprintf(&b, "; the lock is held by %s", e.Blocker)
		}
	}
	fmt.Fprintf(&b, ":\n  %s\n%s", e.Step.SQL, pg.ServerError(e.Err))
	return b.String()
}

func (e *StepError) Unwrap() error { return e.Err }

// ApplyOptions configure Execute.
type ApplyOptions struct {
	// Approver is recorded in the history.
	Approver string
	// Digest identifies the plan in the history; the plan's own digest when empty.
	Digest string
	// Progress, when not nil, is called before each statement with its 1-based position.
	Progress func(i int, s plan.Step)
	// BeforeRun, when not nil, is called inside the plan's transaction,
	// after the plan passed the staleness check and before any of its
	// statements runs; an error rolls back and stops the apply. keel runs
	// the checks of keel doctor here.
	BeforeRun func(p *plan.Plan) error
	// Retry, when not nil, is called before a retry after a lock timeout.
	Retry func(attempt int, wait time.Duration, err *StepError)
	// JustPlanned says the plan was computed in this process from the
	// database as it is now (keel apply without a plan file): it is not a
	// replay, so it runs even when it reads as one applied before (the
	// database was brought back by hand to the state of then). A plan
	// file applied twice is refused.
	JustPlanned bool

	// digest, when Digest is empty and the plan was just planned, waits
	// for the plan's digest, computed while the transaction runs.
	digest func() string
}

// planDigest is the digest the history records.
func (o ApplyOptions) planDigest() string {
	if o.digest != nil {
		return o.digest()
	}
	return o.Digest
}

// Session is the target's connection while it holds the database's apply
// lock: one apply at a time per database, across machines. Everything an
// apply does runs on it: the staleness check, the doctor's checks, the
// statements, the check of the result and the history.
type Session struct {
	c   *pg.Conn
	env string
	// Interrupted are the keel.history ids of earlier applies that were left
	// running (their connection was lost, or keel was killed, after their
	// transaction committed) and that Lock recorded as failed.
	Interrupted []int64
}

// Lock takes the target's apply lock on its connection c, waiting up to
// wait for another apply to finish. The error is a *LockError naming the
// holder when the wait runs out, or a *PoolerError, before any lock is
// taken, when c goes through a transaction or statement pooler (see
// DetectPooler). Close releases the lock; c stays open, the caller's.
func Lock(ctx context.Context, c *pg.Conn, env string, wait time.Duration) (*Session, error) {
	if _, err := DetectPooler(ctx, c.DB(), c.Pgx()); err != nil {
		return nil, err
	}
	if err := acquireLock(ctx, c.Pgx(), wait); err != nil {
		return nil, err
	}
	s := &Session{c: c, env: env}
	var err error
	if s.Interrupted, err = recordInterrupted(ctx, c.Pgx()); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// Apply takes the target's apply lock on c (waiting up to a minute),
// executes p as Session.Execute does, and releases the lock.
func Apply(ctx context.Context, c *pg.Conn, p *plan.Plan, want *state.State, env string, o ApplyOptions) error {
	sess, err := Lock(ctx, c, env, time.Minute)
	if err != nil {
		return err
	}
	err = sess.Execute(ctx, p, want, o)
	return errors.Join(err, sess.Close())
}

// Conn is the session's connection.
func (s *Session) Conn() *pg.Conn { return s.c }

// Close releases the apply lock. The error is an *UnlockError when the lock
// was not released.
func (s *Session) Close() error {
	return releaseLock(context.Background(), s.c.Pgx(), s.c.DB())
}

// Execute applies p: it refuses (*RefusedError) when a plan with the same
// digest was applied before (unless o.JustPlanned); then, in one transaction, it checks that the
// live state is still the one p was computed from (it refuses otherwise),
// runs BeforeRun and p's transactional statements in order, checks that the
// result is want (a new plan would hold exactly p's statements that run
// after the transaction, or nothing), and writes a row in keel.history,
// before it commits. On a failed statement or check, everything is rolled
// back, the failure is recorded, and a *StepError or *VerifyError is
// returned. The statements that cannot run in a transaction run after it,
// each on its own; then the database is checked against want again. A nil
// want skips the checks of the result.
func (s *Session) Execute(ctx context.Context, p *plan.Plan, want *state.State, o ApplyOptions) error {
	if p.From.Hash == "" {
		return errors.New("the plan has no fingerprint of the state it was computed from (it was planned with NoFingerprints): plan again to apply it")
	}
	switch {
	case o.Digest == "" && o.JustPlanned:
		// Needed only for the history row, at the transaction's end: the
		// plan's JSON (its fingerprints name every table and catalog
		// entry: 20-40 ms at 1,000 tables) is hashed meanwhile. Nothing
		// the JSON holds changes while the plan runs.
		o.digest = future.Go(p.Digest)
		defer o.digest() // waited for on every return
	case o.Digest == "":
		o.Digest = p.Digest()
	}
	if err := p.CheckStatements(); err != nil {
		return err
	}
	if len(p.Unplanned) > 0 {
		return &plan.RefusedError{Reason: fmt.Sprintf("the plan does not account for %d difference(s) PostgreSQL's catalog shows between the database and the desired state "+
			"(listed under \"Differences keel cannot plan\" in the plan, the first: %s); nothing was run: "+
			"change the desired state to match the database, or make the change by hand in a reviewed migration, then plan again",
			len(p.Unplanned), p.Unplanned[0].Object)}
	}
	conn := s.c.Pgx()
	exists, err := hasHistory(ctx, conn)
	if err != nil {
		return err
	}
	if exists && !o.JustPlanned {
		prev, err := appliedBefore(ctx, conn, o.Digest)
		if err != nil {
			return err
		}
		if prev != nil {
			return &plan.RefusedError{Reason: fmt.Sprintf("this plan (%s) was already applied at %s by %s (keel.history id %d); "+
				"run keel plan again for a new one", o.Digest, prev.StartedAt.UTC().Format(time.RFC3339), prev.OSUser, prev.ID)}
		}
	}
	entry := HistoryEntry{
		Env: s.env, FromFingerprint: p.From.Hash, ToFingerprint: p.To.Hash,
		Statements: len(p.Steps), OSUser: osUser(), Approver: o.Approver, StartedAt: time.Now().UTC(),
	}
	id, err := s.run(ctx, p, want, entry, o)
	if err != nil {
		hctx := context.WithoutCancel(ctx)
		var (
			se   *StepError
			ve   *VerifyError
			herr error
		)
		switch {
		case id != 0:
			// The transaction committed; a statement after it failed, or
			// the connection did. If the row cannot be updated now, it
			// stays "running" and the next apply records it as failed.
			herr = finishHistory(hctx, conn, id, OutcomeFailed, err.Error())
		case errors.As(err, &se), errors.As(err, &ve):
			entry.FinishedAt, entry.Outcome, entry.Error = time.Now().UTC(), OutcomeFailed, err.Error()
			entry.PlanDigest = o.planDigest()
			if herr = ensureHistory(hctx, conn); herr == nil {
				_, herr = insertHistory(hctx, conn, entry)
			}
		}
		if herr != nil {
			err = errors.Join(err, herr)
		}
		return err
	}
	if want == nil || !hasNonTransactional(p) {
		return nil // checked inside the transaction
	}
	rest, diffs, err := remaining(ctx, s.c, p, want, nil, nil)
	if err != nil {
		return fmt.Errorf("the plan was applied; checking the result: %w", err)
	}
	if len(rest) > 0 || len(diffs) > 0 {
		return fmt.Errorf("the plan was applied, but the database still differs from the desired state:%s", describeRemaining(rest, diffs))
	}
	return nil
}

func hasNonTransactional(p *plan.Plan) bool {
	for _, st := range p.Steps {
		if !st.Transactional {
			return true
		}
	}
	return false
}

// VerifyError says that, inside the plan's transaction, the database did not
// reach the desired state: the transaction was rolled back.
type VerifyError struct {
	// Remaining are the statements a new plan would still hold, beyond the
	// plan's statements that run after the transaction.
	Remaining []string
	// Differences are what PostgreSQL's catalog still shows different from
	// the desired state, beyond what those statements change.
	Differences []plan.Difference
}

func (e *VerifyError) Error() string {
	return "the plan's statements ran, but the database would still differ from the desired state:" +
		describeRemaining(e.Remaining, e.Differences) +
		"\nso the transaction was rolled back and nothing was changed; this is a bug in keel or the schema engine: please report it with the plan"
}

// describeRemaining says what a database still lacks of the desired state.
func describeRemaining(rest []string, diffs []plan.Difference) string {
	var b strings.Builder
	if len(rest) > 0 {
		b.WriteString("\na new plan would also run:\n  " + strings.Join(rest, "\n  "))
	}
	if len(diffs) > 0 {
		b.WriteString("\nPostgreSQL's catalog shows:")
		for _, d := range diffs {
			fmt.Fprintf(&b, "\n  %s\n    desired: %s\n    live:    %s", d.Object, d.Desired, d.Live)
		}
	}
	return b.String()
}

// remaining inspects the target on c (inside the plan's transaction, when
// one is open) and returns the statements of a new plan to want that are
// not among p's statements that run after the transaction, and the
// differences PostgreSQL's catalog shows from want's catalog (when want has
// one) that those statements do not change. When from, the live state p was
// computed from, is still the database's but for what p's statements
// change, and they change only a few tables, the engine's state is from
// with those tables read again; so is PostgreSQL's catalog when narrow,
// taken before the statements, shows that they wrote no row of the
// catalogs but those tables' own (else it is read whole); when that
// catalog is want's, entry for entry, nothing remains, and the engine's
// state is not read at all.
func remaining(ctx context.Context, c *pg.Conn, p *plan.Plan, want, from *state.State, narrow *narrowCheck) (rest []string, diffs []plan.Difference, err error) {
	later := make(map[string]int)
	for _, st := range p.Steps {
		if !st.Transactional {
			later[st.SQL]++
		}
	}
	var cat state.Catalog
	if want.Catalog != nil {
		if cat, err = narrow.catalog(ctx, c, p.Schemas); err != nil {
			return nil, nil, err
		}
		// No row of the catalogs changed but the changed tables' own, and
		// PostgreSQL's catalog of the schemas is the desired state's,
		// entry for entry (every column, constraint, index, setting and
		// comment as PostgreSQL prints it): nothing remains, and the
		// engine's reading of the tables is not needed (it describes what
		// remains when something does). The transaction, and the locks
		// its statements took, end sooner.
		if cat != nil && len(later) == 0 && maps.Equal(want.Catalog, cat) {
			catalogAnswers.Add(1)
			return nil, nil, nil
		}
		if cat == nil {
			if cat, err = inspect.ReadCatalog(ctx, c, p.Schemas); err != nil {
				return nil, nil, err
			}
		}
	}
	live, err := inspect.OpenLive(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	t := planTimeouts(p)
	var now *state.State
	if changed, ok := changedTables(p, from, want); ok {
		if now, err = live.InspectChanged(ctx, from, changed); err != nil {
			return nil, nil, err
		}
		partialChecks.Add(1)
	} else if now, err = live.InspectUnder(ctx, p.Schemas, t); err != nil {
		return nil, nil, err
	}
	steps, cov, err := diff.StepsCovering(ctx, live.Engine(), diff.NoFacts{}, now, want, cat, len(later) > 0, t)
	if err != nil {
		return nil, nil, err
	}
	if want.Catalog != nil && (len(steps) > 0 || !maps.Equal(want.Catalog, cat)) {
		// What keel plans from the catalog, as the plan did. (Nothing, and
		// no difference, when the engine plans nothing and both catalogs
		// are the same, entry for entry.)
		catDiffs := want.Catalog.Differences(cat)
		first, more, err := diff.CatalogStepsOf(catDiffs, want.Catalog, cat, cov, diff.NoFacts{}, len(later) > 0)
		if err != nil {
			return nil, nil, err
		}
		steps = append(append(first, steps...), more...)
		objs := diff.PlanObjects(want.Catalog, cat, cov)
		steps = append(append(append(objs.Drop, objs.Early...), steps...), objs.Late...)
		diffs = state.PlanDifferences(cov.Unplanned(catDiffs))
	}
	for _, st := range steps {
		if later[st.SQL] > 0 {
			later[st.SQL]--
			continue
		}
		rest = append(rest, st.SQL)
	}
	return rest, diffs, nil
}

// catalogAnswers counts the checks of a result that PostgreSQL's catalog,
// read again for the changed tables only, answered alone (for tests).
var catalogAnswers atomic.Int64

// CatalogAnswers is how many checks of a result in this process the
// catalog of the changed tables answered alone (remaining).
func CatalogAnswers() int64 { return catalogAnswers.Load() }

// partialChecks counts the checks of a result that read only the changed
// tables again (for tests).
var partialChecks atomic.Int64

// PartialChecks is how many checks of a result in this process read only
// the tables the statements changed again.
func PartialChecks() int64 { return partialChecks.Load() }

// changedTables are the tables p's statements change, by schema, with the
// tables whose foreign keys refer to one of them in from or in want: ok
// when from is given and every statement changes a table (not an enum, a
// schema, a view, ...), renames nothing, and they are 64 tables at most.
func changedTables(p *plan.Plan, from, want *state.State) (map[string][]string, bool) {
	if from == nil || len(p.Steps) == 0 {
		return nil, false
	}
	type key struct{ schema, table string }
	changed := make(map[key]bool)
	for _, st := range p.Steps {
		kind, sch, name, ok := plan.ParseObject(st.Object)
		if !ok || kind != "table" || sch == "" || strings.Contains(strings.ToUpper(st.SQL), "RENAME") {
			return nil, false
		}
		if _, ok := from.Realm.Schema(sch); !ok {
			return nil, false
		}
		changed[key{sch, name}] = true
	}
	// The tables that refer to one the statements change: what their
	// foreign keys print names it.
	refer := make(map[key]bool)
	for _, r := range []*schema.Realm{from.Realm, want.Realm} {
		for _, s := range r.Schemas {
			for _, t := range s.Tables {
				for _, fk := range t.ForeignKeys {
					if fk.RefTable != nil && fk.RefTable.Schema != nil && changed[key{fk.RefTable.Schema.Name, fk.RefTable.Name}] {
						refer[key{s.Name, t.Name}] = true
					}
				}
			}
		}
	}
	maps.Copy(changed, refer)
	if len(changed) > 64 {
		return nil, false
	}
	out := make(map[string][]string)
	for k := range changed {
		if _, ok := from.Realm.Schema(k.schema); !ok {
			return nil, false
		}
		out[k.schema] = append(out[k.schema], k.table)
	}
	return out, true
}

// A narrowCheck lets the check of an apply's result read PostgreSQL's
// catalog again only for the tables its statements change (and those
// referring to them): base is the catalog the plan read, still the
// database's when the transaction started (the catalog's signature was the
// plan's), and before is the signature of every row of the catalogs but
// those tables' own, read with the staleness check, before keel's history
// table is made (the first apply in a database, which makes it, reads
// the catalog whole).
type narrowCheck struct {
	base    state.Catalog
	changed map[string][]string
	names   []string
	before  string
}

// narrowing returns the narrowCheck of an apply whose statements change
// only a few tables of from, the live state the plan read with base
// (changedTables), or nil: the catalog is then read whole. Its before is
// read with the staleness check (checkFresh).
func narrowing(p *plan.Plan, want, from *state.State, base state.Catalog) *narrowCheck {
	if from == nil || base == nil || want == nil || want.Catalog == nil {
		return nil
	}
	changed, ok := changedTables(p, from, want)
	if !ok {
		return nil
	}
	n := &narrowCheck{base: base, changed: changed}
	for s, tables := range changed {
		for _, t := range tables {
			n.names = append(n.names, pgsql.QuoteIdent(s)+"."+pgsql.QuoteIdent(t))
		}
	}
	return n
}

// catalog returns the catalog of the schemas after the statements, read
// again for the changed tables only, when no other row of the catalogs
// changed since before; nil (read it whole) when one did, or n is nil.
func (n *narrowCheck) catalog(ctx context.Context, c *pg.Conn, schemas []string) (state.Catalog, error) {
	if n == nil || n.before == "" {
		return nil, nil
	}
	after, err := inspect.RestSignature(ctx, c, n.names)
	if err != nil || after != n.before {
		return nil, nil
	}
	cat, err := inspect.ReadCatalogOver(ctx, c, schemas, n.base, n.changed)
	if err != nil {
		return nil, err
	}
	narrowCatalogs.Add(1)
	return cat, nil
}

// narrowCatalogs counts the checks of a result that read PostgreSQL's
// catalog again only for the changed tables (for tests).
var narrowCatalogs atomic.Int64

// NarrowCatalogs is how many checks of a result in this process read
// PostgreSQL's catalog again only for the tables the statements changed.
func NarrowCatalogs() int64 { return narrowCatalogs.Load() }

// planTimeouts are the timeouts the plan's statements run with, for the
// inspections an apply makes.
func planTimeouts(p *plan.Plan) plan.Timeouts {
	t := plan.Timeouts{Retries: p.LockRetries, Lock: plan.DefaultTimeouts.Lock}
	if len(p.Steps) > 0 {
		t.Lock = time.Duration(p.Steps[0].LockTimeout)
	}
	return t
}

// freshBySignature counts the staleness checks the catalog's signature
// answered (for tests).
var freshBySignature atomic.Int64

// FreshBySignature is how many staleness checks the catalog's signature
// answered in this process.
func FreshBySignature() int64 { return freshBySignature.Load() }

// checkFresh refuses when the live state on c (inside the plan's
// transaction) is no longer the one p was computed from. When narrow is
// not nil and the catalog's signature answers, it reads narrow's before
// in the same pass.
func checkFresh(ctx context.Context, c *pg.Conn, p *plan.Plan, narrow *narrowCheck) (bySignature bool, err error) {
	// Not a row of the database's catalogs changed since the plan read
	// them (in this process): the schema is the one it was computed from.
	if p.CatalogSignature != "" {
		var names []string
		if narrow != nil {
			names = narrow.names
		}
		if now, rest, err := inspect.CatalogSignatures(ctx, c, names); err == nil && now == p.CatalogSignature {
			freshBySignature.Add(1)
			if narrow != nil {
				narrow.before = rest
			}
			return true, nil
		}
	}
	return false, checkFreshInFull(ctx, c, p)
}

// checkFreshInFull is checkFresh by inspecting the live state again.
func checkFreshInFull(ctx context.Context, c *pg.Conn, p *plan.Plan) error {
	live, err := inspect.OpenLive(ctx, c)
	if err != nil {
		return err
	}
	now, err := live.InspectUnder(ctx, p.Schemas, planTimeouts(p))
	if err != nil {
		return err
	}
	var changes []string
	// The same schema as when the plan was made here: its fingerprint is
	// the plan's (a hash of the structures is much cheaper than printing
	// them again); else compare fingerprints, which say what changed.
	if p.FromRealm == "" || now.RealmHash() != p.FromRealm {
		fp, err := now.Fingerprint()
		if err != nil {
			return err
		}
		if fp.Hash != p.From.Hash {
			changes = p.From.Changes(fp)
		}
	}
	if p.FromCatalog.Hash != "" {
		// What the engine does not model changed too (a storage parameter,
		// a comment on a constraint, ...), and the catalog names what
		// changed in a table: its column, index or constraint. The schemas
		// the plan drops too: what they hold is what the reviewer saw it
		// drop.
		cat, err := inspect.ReadCatalog(ctx, c, append(slices.Clip(p.Schemas), p.DropSchemas...))
		if err != nil {
			return err
		}
		if now := cat.Fingerprint(); now.Hash != p.FromCatalog.Hash {
			changes = p.FromCatalog.Changes(now)
		}
	}
	if len(changes) == 0 {
		return nil
	}
	if len(changes) > 20 {
		changes = append(changes[:20], fmt.Sprintf("... and %d more", len(changes)-20))
	}
	return &plan.RefusedError{Reason: fmt.Sprintf("the plan is stale: the database changed since it was computed:\n  %s\nrun keel plan again and get the new plan reviewed",
		strings.Join(changes, "\n  "))}
}

// run executes the transactional statements and the history row in one
// transaction, then the others one by one, retrying lock timeouts. The
// history row says "running" while statements after the transaction remain,
// and "applied" once they all ran. id is the row's, once the transaction
// committed.
func (s *Session) run(ctx context.Context, p *plan.Plan, want *state.State, entry HistoryEntry, o ApplyOptions) (id int64, err error) {
	var nontx []int
	for i, st := range p.Steps {
		if !st.Transactional {
			nontx = append(nontx, i)
		}
	}
	entry.Outcome = OutcomeApplied
	if len(nontx) > 0 {
		entry.Outcome = OutcomeRunning
	}
	err = s.retry(ctx, p, o, func() error {
		var err error
		id, err = s.runTx(ctx, p, want, entry, o)
		return err
	})
	if err != nil {
		return 0, err
	}
	for n, i := range nontx {
		// CREATE INDEX CONCURRENTLY makes its index first and then waits
		// for other transactions: a lock timeout while it waits leaves the
		// index INVALID, and the next attempt would fail on its name. An
		// invalid index that was not there before the first attempt is
		// the failed attempt's, and is dropped before the next.
		var invalid []uint32
		attempts := 0
		err := s.retry(ctx, p, o, func() error {
			var err error
			if attempts++; attempts == 1 {
				invalid, err = invalidIndexes(ctx, s.c.Pgx())
			} else {
				err = s.dropLeftInvalid(ctx, p, p.Steps[i], invalid)
			}
			if err != nil {
				return stepError(p, i, err)
			}
			return s.runOne(ctx, p, i, o.Progress)
		})
		var se *StepError
		if errors.As(err, &se) {
			se.Committed = len(p.Steps) - len(nontx) + n
		}
		if err != nil {
			return id, err
		}
	}
	if len(nontx) > 0 {
		if err := finishHistory(ctx, s.c.Pgx(), id, OutcomeApplied, ""); err != nil {
			return 0, fmt.Errorf("every statement ran; %w", err)
		}
	}
	return id, nil
}

// invalidIndexes are the INVALID indexes of the database.
func invalidIndexes(ctx context.Context, q querier) ([]uint32, error) {
	var oids []uint32
	err := q.QueryRow(ctx, `SELECT COALESCE(array_agg(indexrelid::oid), '{}') FROM pg_catalog.pg_index WHERE NOT indisvalid`).Scan(&oids)
	return oids, err
}

// dropLeftInvalid drops the INVALID indexes of the plan's schemas that are
// not among before: what a statement outside the transaction that failed
// left (see run), under the statement's timeouts.
func (s *Session) dropLeftInvalid(ctx context.Context, p *plan.Plan, st plan.Step, before []uint32) error {
	rows, err := s.c.Pgx().Query(ctx, `SELECT n.nspname, c.relname
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid AND i.indexrelid <> ALL($1::oid[]) AND n.nspname = ANY($2)`, before, p.Schemas)
	if err != nil {
		return err
	}
	var left []string
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			rows.Close()
			return err
		}
		left = append(left, pgsql.QuoteIdent(schema)+"."+pgsql.QuoteIdent(name))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(left) == 0 {
		return nil
	}
	if err := setTimeouts(ctx, s.c.Pgx(), st, "SESSION"); err != nil {
		return err
	}
	for _, idx := range left {
		if err := pg.ExecStatement(ctx, s.c.Pgx().PgConn(), "DROP INDEX CONCURRENTLY IF EXISTS "+idx); err != nil {
			return fmt.Errorf("dropping the invalid index %s a failed attempt left: %w", idx, err)
		}
	}
	return nil
}

// retry runs fn again after a lock timeout, up to the plan's retries, with
// jittered exponential backoff; the last error names the lock's holder.
func (s *Session) retry(ctx context.Context, p *plan.Plan, o ApplyOptions, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		var se *StepError
		if !errors.As(err, &se) || se.Code != pg.LockNotAvailable {
			return err
		}
		se.Attempts = attempt
		se.Blocker = s.blocker(ctx, se.Step)
		if attempt > p.LockRetries {
			return se
		}
		wait := pg.Backoff(attempt)
		if o.Retry != nil {
			o.Retry(attempt, wait, se)
		}
		select {
		case <-ctx.Done():
			return errors.Join(se, ctx.Err())
		case <-time.After(wait):
		}
	}
}

func setTimeouts(ctx context.Context, q execer, st plan.Step, scope string) error {
	for name, d := range map[string]plan.Duration{"lock_timeout": st.LockTimeout, "statement_timeout": st.StatementTimeout} {
		if _, err := q.Exec(ctx, fmt.Sprintf("SET %s %s = %d", scope, name, time.Duration(d).Milliseconds())); err != nil {
			return fmt.Errorf("setting %s: %w", name, pg.ServerError(err))
		}
	}
	return nil
}

func stepError(p *plan.Plan, i int, err error) *StepError {
	se := &StepError{Index: i + 1, Total: len(p.Steps), Step: p.Steps[i], Err: err, Attempts: 1}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		se.Code = pe.Code
	}
	return se
}

// runTx runs, in one transaction: the staleness check, BeforeRun, the
// transactional statements, the check of the result and the history row; it
// returns the row's id.
func (s *Session) runTx(ctx context.Context, p *plan.Plan, want *state.State, entry HistoryEntry, o ApplyOptions) (int64, error) {
	progress := o.Progress
	tx, err := s.c.Pgx().Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("starting the transaction: %w", pg.ServerError(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The live state is read inside the transaction, right before the
	// statements run, on the same connection.
	live, _ := p.Live.(*state.State)
	base, _ := p.LiveCatalog.(state.Catalog)
	narrow := narrowing(p, want, live, base)
	bySignature, err := checkFresh(ctx, s.c, p, narrow)
	if err != nil {
		return 0, err
	}
	if !bySignature {
		narrow = nil
	}
	// The live state the plan was read from is the database's now: the
	// check of the result reads again only the tables the statements
	// change, on top of it (taken over: a second attempt checks in full).
	var from *state.State
	if bySignature {
		from = live
	}
	p.Live, p.LiveCatalog = nil, nil
	if o.BeforeRun != nil {
		if err := o.BeforeRun(p); err != nil {
			return 0, err
		}
	}
	// keel's history table comes with the plan's transaction: an apply that
	// does not commit leaves no trace of keel either.
	if err := ensureHistory(ctx, tx); err != nil {
		return 0, err
	}
	for i, st := range p.Steps {
		if !st.Transactional {
			continue
		}
		if progress != nil {
			progress(i+1, st)
		}
		if err := setTimeouts(ctx, tx, st, "LOCAL"); err != nil {
			return 0, err
		}
		if err := pg.ExecStatement(ctx, tx.Conn().PgConn(), st.SQL); err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			return 0, stepError(p, i, err)
		}
	}
	// The result, before COMMIT: a plan that does not reach the desired
	// state is rolled back whole.
	if want != nil {
		rest, diffs, err := remaining(ctx, s.c, p, want, from, narrow)
		if err != nil {
			return 0, fmt.Errorf("checking the result before committing: %w", err)
		}
		if len(rest) > 0 || len(diffs) > 0 {
			return 0, &VerifyError{Remaining: rest, Differences: diffs}
		}
	}
	entry.FinishedAt = time.Now().UTC()
	entry.PlanDigest = o.planDigest()
	id, err := insertHistory(ctx, tx, entry)
	if err != nil {
		return 0, err
	}
	if err := recordManaged(ctx, tx, p); err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("committing the plan: %w", pg.ServerError(err))
	}
	return id, nil
}

// runOne runs a statement that cannot run in a transaction block.
func (s *Session) runOne(ctx context.Context, p *plan.Plan, i int, progress func(int, plan.Step)) error {
	st := p.Steps[i]
	if progress != nil {
		progress(i+1, st)
	}
	if err := setTimeouts(ctx, s.c.Pgx(), st, "SESSION"); err != nil {
		return err
	}
	if err := pg.ExecStatement(ctx, s.c.Pgx().PgConn(), st.SQL); err != nil {
		return stepError(p, i, err)
	}
	return nil
}

// blocker describes who holds a lock on the step's table.
func (s *Session) blocker(ctx context.Context, st plan.Step) string {
	kind, sch, tbl, ok := plan.ParseObject(st.Object)
	if !ok || kind != "table" {
		return ""
	}
	name := plan.DisplayName(sch, tbl)
	var (
		pid        int
		app, mode  string
		queryStart *time.Time
	)
	err := s.c.QueryRow(ctx, `
SELECT a.pid, coalesce(a.application_name, ''), a.query_start, l.mode
FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.pid <> pg_backend_pid() AND l.relation = (
  SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = $2)
ORDER BY a.query_start NULLS LAST LIMIT 1`, sch, tbl).Scan(&pid, &app, &queryStart, &mode)
	if err != nil {
		return ""
	}
	since := "unknown"
	if queryStart != nil {
		since = queryStart.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("pid %d (application_name %q, query started %s, %s on %s)", pid, app, since, mode, name)
}

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}
