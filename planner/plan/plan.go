package plan

import (
	"encoding/json"
	"fmt"
	"time"
)

// Action says what a step does to its object.
type Action string

// The actions of a step.
const (
	ActionCreate Action = "create"
	ActionAlter  Action = "alter"
	ActionDrop   Action = "drop"
)

// Step is one statement of a plan.
type Step struct {
	// SQL is the statement, without a trailing semicolon.
	SQL string `json:"sql"`
	// Comment says in words what the statement does.
	Comment string `json:"comment,omitempty"`
	// Action is what the statement does to Object.
	Action Action `json:"action"`
	// Object is what the statement changes: "table public.users".
	Object string `json:"object"`
	// Hazards are the risks of running the statement.
	Hazards []Hazard `json:"hazards,omitempty"`
	// Transactional is false for statements that run after the plan's
	// transaction commits (CREATE INDEX CONCURRENTLY), each on its own.
	Transactional bool `json:"transactional"`
	// LockTimeout and StatementTimeout are set for the statement as it runs.
	LockTimeout      Duration `json:"lock_timeout"`
	StatementTimeout Duration `json:"statement_timeout"`
}

// Plan is the ordered list of statements that bring a database to the
// desired state. What is rendered for review and what Apply executes are
// this same value.
type Plan struct {
	// Target is the database the plan was computed for.
	Target Target `json:"target"`
	// Schemas are the schemas the plan manages.
	Schemas []string `json:"schemas"`
	// Steps run in order: the transactional ones in one transaction, then
	// the others, each on its own.
	Steps []Step `json:"steps"`
	// LockRetries is how often the transaction (or a non-transactional
	// statement) is retried after a lock timeout.
	LockRetries int `json:"lock_retries"`
	// Allowed are hazard codes the planner was told to allow
	// (--allow-hazard), recorded for the reviewer.
	Allowed []HazardCode `json:"allowed_hazards,omitempty"`
	// NotManaged lists objects found in the managed schemas that keel does
	// not manage: the plan never drops or alters them.
	NotManaged []Object `json:"not_managed,omitempty"`
	// DesiredExtensions are the extensions of the desired state, as declared.
	DesiredExtensions []Extension `json:"desired_extensions,omitempty"`
	// From is the fingerprint of the live state the plan was computed from.
	From Fingerprint `json:"from"`
	// To is the fingerprint of the (normalized) desired state it leads to.
	To Fingerprint `json:"to"`
	// FromCatalog is the fingerprint of PostgreSQL's catalog of the managed
	// schemas when the plan was computed (what the engine does not model is
	// in it too), so that a change to any of it makes the plan stale.
	FromCatalog Fingerprint `json:"from_catalog"`
	// FromRealm is a hash of the live schema the plan was computed from
	// (state.RealmHash), known only to the process that computed it: an
	// apply that plans and runs at once checks staleness with it without
	// printing the schema again. Plan files do not carry it.
	FromRealm string `json:"-"`
	// CatalogSignature is the signature of the database's catalogs
	// (inspect.CatalogSignature) before the plan read the database; known
	// only to the process that computed it. An apply whose database still
	// has it (nothing committed since, so the plan read this state) skips
	// inspecting again for the staleness check. Plan files do not carry it.
	CatalogSignature string `json:"-"`
	// Live is the live state the plan was computed from (a *state.State,
	// as inspect read it after CatalogSignature), used only by an apply that
	// finds CatalogSignature unchanged; known only to the process that
	// computed it. An apply whose statements change a few
	// tables checks its result by reading only those again on top of it;
	// the apply takes it over.
	Live any `json:"-"`
	// LiveCatalog is PostgreSQL's catalog of the plan's schemas as the plan
	// read it with Live (a state.Catalog), for the same apply: the check of
	// its result reads the catalog of the tables its statements change
	// again, and takes the rest from here when no other row of the
	// database's catalogs changed (inspect.RestSignature).
	LiveCatalog any `json:"-"`
	// MatchVerifiedAt, when set, says that the plan is a match record's
	// (planner.Options.MatchRecords): the match was verified against
	// PostgreSQL's catalog at this time, and the catalog's signature is
	// still the one it was verified under. Plan files do not carry it.
	MatchVerifiedAt time.Time `json:"-"`
	// TargetReadAt, when set, says that the plan took the database's
	// schema from keel's target record (planner.Options.MatchRecords): it
	// was read from PostgreSQL at this time, and the catalog's signature
	// is still the one it was read under. Plan files do not carry it.
	TargetReadAt time.Time `json:"-"`
	// TargetReread, with TargetReadAt, is how many tables whose catalog
	// rows changed since the record was read were read again (no other
	// row of the catalogs changed); 0 when the record was taken whole.
	TargetReread int `json:"-"`
	// DesiredKeptAt, when set, says that the normalized desired state came
	// from what keel's apply at this time kept in the database (the cache
	// held nothing for the files); DesiredKeptPartial, that it was of the
	// files as they were then, and the tables that changed since were
	// normalized again. Plan files do not carry it.
	DesiredKeptAt      time.Time `json:"-"`
	DesiredKeptPartial bool      `json:"-"`
	// DesiredAdopted, when not zero, says that the normalized desired
	// state was made on the target's own state (the cache held nothing for
	// the files and no apply kept a state there): that many tables, whose
	// blocks were as keel inspect prints the target's, were taken as the
	// target has them, and DesiredAdoptedNormalized tables normalized.
	DesiredAdopted           int `json:"-"`
	DesiredAdoptedNormalized int `json:"-"`
	// DesiredNotManaged lists objects of the desired state (SQL or a
	// database) that keel does not manage: the plan does not create them.
	DesiredNotManaged []Object `json:"desired_not_managed,omitempty"`
	// DropSchemas are schemas keel managed (keel.managed_schemas) that the
	// desired state no longer has: the plan drops them, with everything in
	// them, and the apply forgets them.
	DropSchemas []string `json:"drop_schemas,omitempty"`
	// Unplanned are differences PostgreSQL's catalog shows between the
	// database and the desired state that no statement of the plan
	// accounts for. A plan with any is not applied.
	Unplanned []Difference `json:"unplanned_differences,omitempty"`
	// Engine names the engine that planned the statements of tables, enums
	// and schemas when it is not keel's embedded one: the Atlas CLI's
	// version line ("atlas version v0.38.0").
	Engine string `json:"engine,omitempty"`
}

// Difference is an object that differs between the database and the
// desired state, as PostgreSQL describes it on each side.
type Difference struct {
	// Object is "column public.users.email".
	Object string `json:"object"`
	// Desired and Live describe it; "(missing)" where it does not exist.
	Desired string `json:"desired"`
	Live    string `json:"live"`
	// Why says why keel does not plan it, where keel knows.
	Why string `json:"why,omitempty"`
}

// Summary counts the objects a plan creates, alters and drops.
type Summary struct {
	Create, Alter, Drop int
}

func (s Summary) String() string {
	return fmt.Sprintf("%d to create, %d to alter, %d to drop", s.Create, s.Alter, s.Drop)
}

// Summary counts the objects the plan creates, alters and drops; an object
// that several statements create (a table, its indexes, its comments) counts once.
func (p *Plan) Summary() Summary {
	var (
		s    Summary
		seen = make(map[string]bool)
	)
	for _, st := range p.Steps {
		if seen[st.Object] {
			continue
		}
		seen[st.Object] = true
		switch st.Action {
		case ActionCreate:
			s.Create++
		case ActionAlter:
			s.Alter++
		case ActionDrop:
			s.Drop++
		}
	}
	return s
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Steps) == 0 }

// MatchNote is a sentence (without its period) that says, for a plan
// answered from a match record, when the match was verified; it is empty
// for any other plan.
func (p *Plan) MatchNote() string {
	if p.MatchVerifiedAt.IsZero() {
		return ""
	}
	return fmt.Sprintf("From keel's match record: an earlier plan verified this match against PostgreSQL's catalog at %s, and no row of the database's catalogs has changed since (KEEL_CACHE=off reads them all again)",
		p.MatchVerifiedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
}

// TargetNote is a sentence (without its period) that says, for a plan
// that took the database's schema from keel's target record, when it was
// read; "" for a plan that read it.
func (p *Plan) TargetNote() string {
	if p.TargetReadAt.IsZero() || !p.MatchVerifiedAt.IsZero() {
		return ""
	}
	at := p.TargetReadAt.UTC().Format("2006-01-02 15:04:05 UTC")
	if p.TargetReread > 0 {
		tables := "tables"
		if p.TargetReread == 1 {
			tables = "table"
		}
		return fmt.Sprintf("The database's schema from keel's target record: read from PostgreSQL's catalog at %s; the catalog rows of %d %s changed since, and they were read again; no other row of the database's catalogs has changed but keel's own, which nothing managed uses (KEEL_CACHE=off reads them all again)",
			at, p.TargetReread, tables)
	}
	return fmt.Sprintf("The database's schema from keel's target record: read from PostgreSQL's catalog at %s, and no row of the database's catalogs has changed since but keel's own, which nothing managed uses (KEEL_CACHE=off reads them all again)", at)
}

// DesiredNote is a sentence (without its period) that says, for a plan
// whose normalized desired state came from what an apply kept in the
// database, when it was kept; "" for any other plan.
func (p *Plan) DesiredNote() string {
	if !p.MatchVerifiedAt.IsZero() {
		return ""
	}
	if p.DesiredAdopted > 0 {
		return fmt.Sprintf("The desired state made on the database's own: %s whose blocks are as keel inspect prints them taken as the database has them, %s normalized with the schemas, extensions and enums, which matched the database's: keel's cache held nothing for these files and no apply kept a state here (KEEL_CACHE=off normalizes them all)",
			count(p.DesiredAdopted, "table"), count(p.DesiredAdoptedNormalized, "table"))
	}
	if p.DesiredKeptAt.IsZero() {
		return ""
	}
	at := p.DesiredKeptAt.UTC().Format("2006-01-02 15:04:05 UTC")
	if p.DesiredKeptPartial {
		return fmt.Sprintf("The desired state normalized from what keel's apply at %s kept in the database (keel.normalized_states, the files it applied), the tables that changed since normalized again: keel's cache held nothing for these files (KEEL_CACHE=off normalizes them all again)", at)
	}
	return fmt.Sprintf("The desired state's normalized form from what keel's apply at %s kept in the database (keel.normalized_states, for these files): keel's cache held nothing for them (KEEL_CACHE=off normalizes them again)", at)
}

// Matches reports whether the database is the desired state: nothing to
// change and no difference the plan cannot account for.
func (p *Plan) Matches() bool { return len(p.Steps) == 0 && len(p.Unplanned) == 0 }

// Timeouts bound how long a statement may wait and run.
type Timeouts struct {
	// Lock is lock_timeout: how long a statement waits for a lock.
	Lock time.Duration
	// Statement is statement_timeout: how long a statement may run.
	Statement time.Duration
	// Retries is how often a lock timeout is retried.
	Retries int
}

// DefaultTimeouts keep the worst case of a plan that cannot get its locks
// short: 2 s × 3 tries, plus backoff.
var DefaultTimeouts = Timeouts{Lock: 2 * time.Second, Statement: time.Minute, Retries: 2}

// Duration is a time.Duration that reads and writes as "2s" in JSON.
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// count is n and the noun, plural when n is not 1: "1 table", "3 tables".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
