// Package corpus runs keel on a corpus of before/after schema pairs (migra's
// test fixtures, ../shared/corpus) and publishes the results in
// docs/corpus.md.
//
// Run it with -corpus DIR or KEEL_CORPUS=DIR (scripts/test.sh does, with
// ../shared/corpus beside the repository); without either it is skipped.
package corpus

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/apply"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
)

var corpusDir = flag.String("corpus", os.Getenv("KEEL_CORPUS"), "corpus directory (holding migra/); default $KEEL_CORPUS")

// Result is how a case ended.
type Result string

// The results of a case.
const (
	// Converged: the re-plan is empty and the schema dumps of A and B are equal.
	Converged Result = "converged"
	// NotManaged: the tables, columns, indexes, constraints, enums and
	// extensions converged; the differences left are objects keel does not
	// manage, which it listed and left alone, and no data was lost.
	NotManaged Result = "not managed"
	// Refused: keel refused with a reason (the plan could not be made, it
	// listed differences it cannot plan, or the apply was rolled back) and
	// A is exactly as it was.
	Refused Result = "refused"
	// Silent: anything else: the apply succeeded and A is still not B, it
	// changed an object keel does not manage, lost data, or failed and left
	// A changed. Never expected.
	Silent Result = "silent"
)

// caseOptions are the per-case conditions of the upstream suite.
var caseOptions = map[string]struct {
	schemas        []string // managed schemas, instead of all of B's
	exclude        string   // a schema left out of the managed ones and of the comparison
	note           string   // said in the table
	extensionsOnly bool
}{
	"singleschema":     {schemas: []string{"goodschema"}, note: "managed schemas: goodschema"},
	"excludeschema":    {exclude: "excludedschema", note: "excludedschema not managed"},
	"singleschema_ext": {schemas: []string{"goodschema"}, note: "upstream creates only missing extensions; keel plans the whole of goodschema"},
}

// knownRefusals explains every case keel refuses: each is a limit of keel
// or of the engine it embeds that is not fixed yet. A case refused and not
// here fails the test; a case here that is no longer refused does too.
var knownRefusals = map[string]string{
	"inherit2 reverse": "A parent gains a column its child already has: PostgreSQL merges them into a column both " +
		"inherited and local, which a child created with INHERITS does not have; no statement changes that; rolled back.",
}

type outcome struct {
	name   string
	result Result
	reason string
	about  string // what the case changes, when the report says it
}

func TestCorpus(t *testing.T) {
	if *corpusDir == "" {
		t.Skip("no corpus: pass -corpus DIR or set KEEL_CORPUS (scripts/test.sh uses ../shared/corpus)")
	}
	t.Parallel()
	root := filepath.Join(*corpusDir, "migra")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatalf("reading the corpus: %v", err)
	}
	var cases []pair
	for _, e := range entries {
		if e.IsDir() {
			dir := filepath.Join(root, e.Name())
			a, b := filepath.Join(dir, "a.sql"), filepath.Join(dir, "b.sql")
			cases = append(cases, pair{name: e.Name(), a: a, b: b}, pair{name: e.Name() + " reverse", a: b, b: a})
		}
	}
	outcomes := runPairs(t, cases)
	checkOutcomes(t, outcomes, knownRefusals)
	if err := writeReport(filepath.Join("..", "docs", "corpus.md"), corpusIntro, outcomes, knownRefusals); err != nil {
		t.Fatal(err)
	}
}

// A pair is one case: a.sql is loaded into A, b.sql into B, and keel
// brings A to B.
type pair struct {
	name, a, b string
}

// runPairs runs the cases in parallel and returns their outcomes, sorted.
func runPairs(t *testing.T, cases []pair) []outcome {
	server := pgtest.ServerURL()
	for _, role := range []string{"schemainspect_test_role", "postgres"} {
		pgtest.Exec(t, server, fmt.Sprintf(
			`DO $$ BEGIN CREATE ROLE %s; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`, role))
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
	)
	t.Run("cases", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				res, reason := runCase(t, c)
				t.Logf("%s: %s %s", c.name, res, reason)
				mu.Lock()
				outcomes = append(outcomes, outcome{name: c.name, result: res, reason: reason})
				mu.Unlock()
			})
		}
	})
	sort.Slice(outcomes, func(i, j int) bool { return outcomes[i].name < outcomes[j].name })
	return outcomes
}

// checkOutcomes fails the test for a silent case, and for a refusal that
// known does not explain (or an explanation for a case no longer refused).
func checkOutcomes(t *testing.T, outcomes []outcome, known map[string]string) {
	t.Helper()
	for _, o := range outcomes {
		why, isKnown := known[o.name]
		switch {
		case o.result == Silent:
			t.Errorf("%s is silent: %s", o.name, o.reason)
		case o.result == Refused && !isKnown:
			t.Errorf("%s is refused, and nothing explains why: %s", o.name, o.reason)
		case o.result != Refused && isKnown:
			t.Errorf("%s is %s now: remove its explanation (%q)", o.name, o.result, why)
		}
	}
}

// runCase loads a.sql into A and b.sql into B, plans A towards B, applies,
// re-plans and compares.
// loadPair creates databases A and B of a case, each from its SQL.
func loadPair(t *testing.T, c pair) (aURL, bURL string, a, b *pg.DB) {
	t.Helper()
	ctx := context.Background()
	aURL, _ = pgtest.NewDatabase(t)
	bURL, _ = pgtest.NewDatabase(t)
	var err error
	if a, err = pg.ParseURL(aURL); err != nil {
		t.Fatal(err)
	}
	if b, err = pg.ParseURL(bURL); err != nil {
		t.Fatal(err)
	}
	if err := source.RunSQLFiles(ctx, a, []string{c.a}); err != nil {
		t.Fatalf("loading A: %v", err)
	}
	if err := source.RunSQLFiles(ctx, b, []string{c.b}); err != nil {
		t.Fatalf("loading B: %v", err)
	}
	return aURL, bURL, a, b
}

func runCase(t *testing.T, c pair) (Result, string) {
	ctx := context.Background()
	opt := caseOptions[strings.TrimSuffix(c.name, " reverse")]
	aURL, bURL, a, b := loadPair(t, c)
	aConn, err := a.Open(ctx, "keel corpus")
	if err != nil {
		t.Fatal(err)
	}
	defer aConn.Close()
	bConn, err := b.Open(ctx, "keel corpus")
	if err != nil {
		t.Fatal(err)
	}
	defer bConn.Close()
	opts := planner.Options{Schemas: opt.schemas}
	if opt.exclude != "" {
		all, err := inspect.UserSchemas(ctx, bConn)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range all {
			if s != opt.exclude {
				opts.Schemas = append(opts.Schemas, s)
			}
		}
	}
	dumpArgs := dumpScope(opts.Schemas, opt.exclude, opt.schemas != nil)
	// A's dump before is B's in the reverse case: each state's SQL is
	// dumped once.
	before, err := dumpOnce(c.a, aURL, dumpArgs)
	if err != nil {
		t.Fatal(err)
	}
	rowsBefore := rowCounts(t, aURL)

	desired := &source.Database{DB: b}
	plan, wantState, err := planner.Generate(ctx, aConn, desired, opts)
	if err != nil {
		return unchanged(t, aURL, dumpArgs, before, "plan: "+oneLine(err.Error()))
	}
	if err := apply.Apply(ctx, aConn, plan, wantState, "corpus", apply.ApplyOptions{}); err != nil {
		return unchanged(t, aURL, dumpArgs, before, "apply: "+oneLine(err.Error()))
	}
	again, _, err := planner.Generate(ctx, aConn, desired, opts)
	if err != nil {
		return Silent, "re-plan: " + oneLine(err.Error())
	}
	if !again.Empty() {
		return Silent, fmt.Sprintf("re-plan not empty (%d statements), first: %s", len(again.Steps), oneLine(again.Steps[0].SQL))
	}
	if len(again.Unplanned) > 0 {
		return Silent, fmt.Sprintf("re-plan lists %d differences keel cannot plan, first: %s", len(again.Unplanned), again.Unplanned[0].Object)
	}
	if lost := lostRows(t, aURL, rowsBefore); lost != "" {
		return Silent, "data lost: " + lost
	}
	after, err := dump(aURL, dumpArgs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := dumpOnce(c.b, bURL, dumpArgs)
	if err != nil {
		t.Fatal(err)
	}
	notManaged := objectNames(plan.NotManaged, plan.DesiredNotManaged)
	if touched := changedUnmanaged(before, after, notManaged, plan); len(touched) > 0 {
		return Silent, "changed objects keel does not manage: " + strings.Join(touched, ", ")
	}
	managedDiff, unmanagedDiff := compare(after, want, notManaged)
	suffix := ""
	if opt.note != "" {
		suffix = " (" + opt.note + ")"
	}
	switch {
	case len(managedDiff) > 0:
		return Silent, "schema dumps differ in " + strings.Join(managedDiff, ", ") + suffix
	case len(unmanagedDiff) > 0:
		return NotManaged, "differ only in objects keel does not manage: " + strings.Join(unmanagedDiff, ", ") + suffix
	}
	return Converged, strings.TrimPrefix(suffix, " ")
}

// unchanged is the result of a refusal: Refused when A's dump is as it was
// before, Silent when the refusal left it changed.
func unchanged(t *testing.T, aURL string, dumpArgs []string, before map[string]entry, reason string) (Result, string) {
	t.Helper()
	after, err := dump(aURL, dumpArgs)
	if err != nil {
		t.Fatal(err)
	}
	if managed, unmanaged := compare(after, before, nil); len(managed)+len(unmanaged) > 0 {
		return Silent, reason + "; and the database changed: " + strings.Join(append(managed, unmanaged...), ", ")
	}
	return Refused, reason
}

// testDatabase is the name of a test's own database, which differs from
// run to run: the report says "keel_test_…".
var testDatabase = regexp.MustCompile(`keel_test_[0-9a-f]+`)

func oneLine(s string) string {
	s = testDatabase.ReplaceAllString(strings.Join(strings.Fields(s), " "), "keel_test_…")
	if len(s) > 240 {
		s = s[:240] + "..."
	}
	return s
}

func objectNames(lists ...[]plan.Object) map[string]bool {
	names := make(map[string]bool)
	for _, l := range lists {
		for _, o := range l {
			names[o.Name] = true
			if o.Kind == "schema" {
				// pg_dump's entry of a schema has no schema of its own.
				names["-."+o.Name] = true
			}
		}
	}
	return names
}

var (
	dumpsMu sync.Mutex
	dumps   = make(map[string]map[string]entry)
)

// dumpOnce dumps the database dbURL, freshly loaded from the SQL file
// path, once for every case that loads that file: the dump of a database
// loaded from the same SQL is the same.
func dumpOnce(path, dbURL string, args []string) (map[string]entry, error) {
	key := path + "\x00" + strings.Join(args, "\x00")
	dumpsMu.Lock()
	d, ok := dumps[key]
	dumpsMu.Unlock()
	if ok {
		return d, nil
	}
	d, err := dump(dbURL, args)
	if err != nil {
		return nil, err
	}
	dumpsMu.Lock()
	dumps[key] = d
	dumpsMu.Unlock()
	return d, nil
}
