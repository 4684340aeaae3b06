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
	// Failed: keel could not plan or apply, did not converge, changed an
	// object it does not manage or lost data.
	Failed Result = "failed"
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

// knownFailures explains every case that fails: each is a limit of keel or
// of the engine it embeds that is not fixed yet. A case that fails and is not
// here fails the test; a case here that no longer fails does too.
var knownFailures = map[string]string{
	"constraints": "DEFERRABLE / INITIALLY DEFERRED on primary keys and foreign keys is not modelled by the " +
		"open-source engine keel embeds: the constraints are created, but not deferrable.",
	"dependencies2": "A view keel does not manage depends on a table the plan drops; keel never drops or " +
		"recreates views, so PostgreSQL refuses (SQLSTATE 2BP01) and the whole plan is rolled back.",
	"everything": "A view and a materialized view keel does not manage depend on a column the plan drops; " +
		"keel never drops or recreates them, so PostgreSQL refuses (SQLSTATE 2BP01) and the plan is rolled back.",
	"generated": "Turning a plain column into a generated one needs DROP COLUMN + ADD COLUMN; the engine " +
		"refuses to plan it rather than drop the column, and keel does not override that yet.",
	"identitycols": "As generated: a plain column becomes a generated one, which the engine refuses to plan " +
		"(drop and add required).",
	"inherit": "Table inheritance (INHERITS) is not modelled: inherited columns are seen as the child's own, " +
		"so the children's defaults and sequences end up differing from B's.",
	"inherit2": "Table inheritance (INHERITS) is not modelled: a column added to a parent is also seen on the " +
		"child, so the plan never converges.",
	"partitioning": "Turning a partitioned table into a plain one (and back) needs the table recreated; the " +
		"engine refuses to plan it (partition key cannot be dropped).",
	"seq": "Sequence ownership is not managed: a serial column and an integer column defaulting to a " +
		"free-standing sequence look the same to the engine, so OWNED BY is not changed.",
}

type outcome struct {
	name   string
	result Result
	reason string
}

func TestCorpus(t *testing.T) {
	if *corpusDir == "" {
		t.Skip("no corpus: pass -corpus DIR or set KEEL_CORPUS (scripts/test.sh uses ../shared/corpus)")
	}
	root := filepath.Join(*corpusDir, "migra")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatalf("reading the corpus: %v", err)
	}
	server := pgtest.ServerURL()
	for _, role := range []string{"schemainspect_test_role", "postgres"} {
		pgtest.Exec(t, server, fmt.Sprintf(
			`DO $$ BEGIN CREATE ROLE %s; EXCEPTION WHEN duplicate_object THEN NULL; END $$`, role))
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
	)
	t.Run("cases", func(t *testing.T) {
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			name := e.Name()
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				res, reason := runCase(t, filepath.Join(root, name), name)
				t.Logf("%s: %s %s", name, res, reason)
				mu.Lock()
				outcomes = append(outcomes, outcome{name, res, reason})
				mu.Unlock()
			})
		}
	})
	sort.Slice(outcomes, func(i, j int) bool { return outcomes[i].name < outcomes[j].name })
	for _, o := range outcomes {
		known, isKnown := knownFailures[o.name]
		switch {
		case o.result == Failed && !isKnown:
			t.Errorf("%s failed, and knownFailures does not explain it: %s", o.name, o.reason)
		case o.result != Failed && isKnown:
			t.Errorf("%s is %s now: remove it from knownFailures (%q)", o.name, o.result, known)
		}
	}
	if err := writeReport(filepath.Join("..", "docs", "corpus.md"), outcomes); err != nil {
		t.Fatal(err)
	}
}

// runCase loads a.sql into A and b.sql into B, plans A towards B, applies,
// re-plans and compares.
func runCase(t *testing.T, dir, name string) (Result, string) {
	ctx := context.Background()
	opt := caseOptions[name]
	aURL, _ := pgtest.NewDatabase(t)
	bURL, _ := pgtest.NewDatabase(t)
	a, err := pg.ParseURL(aURL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pg.ParseURL(bURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := source.RunSQLFiles(ctx, a, []string{filepath.Join(dir, "a.sql")}); err != nil {
		return Failed, "loading a.sql: " + err.Error()
	}
	if err := source.RunSQLFiles(ctx, b, []string{filepath.Join(dir, "b.sql")}); err != nil {
		return Failed, "loading b.sql: " + err.Error()
	}
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
	before, err := dump(aURL, dumpArgs)
	if err != nil {
		t.Fatal(err)
	}
	rowsBefore := rowCounts(t, aURL)

	desired := &source.Database{DB: b}
	plan, _, err := planner.Generate(ctx, aConn, desired, opts)
	if err != nil {
		return Failed, "plan: " + oneLine(err.Error())
	}
	if err := apply.Apply(ctx, aConn, plan, nil, "corpus", apply.ApplyOptions{}); err != nil {
		return Failed, "apply: " + oneLine(err.Error())
	}
	again, _, err := planner.Generate(ctx, aConn, desired, opts)
	if err != nil {
		return Failed, "re-plan: " + oneLine(err.Error())
	}
	if !again.Empty() {
		return Failed, fmt.Sprintf("re-plan not empty (%d statements), first: %s", len(again.Steps), oneLine(again.Steps[0].SQL))
	}
	if lost := lostRows(t, aURL, rowsBefore); lost != "" {
		return Failed, "data lost: " + lost
	}
	after, err := dump(aURL, dumpArgs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := dump(bURL, dumpArgs)
	if err != nil {
		t.Fatal(err)
	}
	notManaged := objectNames(plan.NotManaged, plan.DesiredNotManaged)
	if touched := changedUnmanaged(before, after, notManaged); len(touched) > 0 {
		return Failed, "changed objects keel does not manage: " + strings.Join(touched, ", ")
	}
	managedDiff, unmanagedDiff := compare(after, want, notManaged)
	suffix := ""
	if opt.note != "" {
		suffix = " (" + opt.note + ")"
	}
	switch {
	case len(managedDiff) > 0:
		return Failed, "schema dumps differ in " + strings.Join(managedDiff, ", ") + suffix
	case len(unmanagedDiff) > 0:
		return NotManaged, "differ only in objects keel does not manage: " + strings.Join(unmanagedDiff, ", ") + suffix
	}
	return Converged, strings.TrimPrefix(suffix, " ")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
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
		}
	}
	return names
}
