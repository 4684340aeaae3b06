package corpus

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
)

// A plan whose cache holds nothing, of a database keel never applied, takes
// the tables whose blocks are as keel inspect prints the database's as the
// database has them (source.AdoptFrom). That is only right when it is the
// plan a whole normalization makes. For every case of the differential
// suite, both ways: the desired state is B as keel inspect prints it, the
// target A; the plan with an empty cache (made on A's state where it can
// be) must be, statement for statement and difference for difference, the
// plan with the cache off (the whole of B's file normalized). Where A and B
// share tables, those are taken from A; where they differ, normalized.
func TestPlansMadeOnTheDatabaseAreWholeNormalizations(t *testing.T) {
	t.Parallel()
	pairs, _, _ := differentialPairs(t)
	var (
		mu                     sync.Mutex
		adopted, taken, normal int
		compared               int
		made                   = make(map[string][2]int) // tables taken, normalized
		skipped                []string
	)
	// The runs share scratch databases (three runs at once use three).
	scratch := fmt.Sprintf("keel_scratch_adopt_%d", os.Getpid())
	t.Cleanup(func() {
		for _, s := range []string{scratch, scratch + "_2", scratch + "_3"} {
			pgtest.Exec(t, pgtest.ServerURL(), "DROP DATABASE IF EXISTS "+s+" WITH (FORCE)")
		}
	})
	sem := make(chan struct{}, 3)
	var wg sync.WaitGroup
	// Each run plans A towards B's printed file, and towards its own (the
	// first plan after keel inspect, where every table is taken): a
	// reverse pair's A is its case's B, so every state is planned towards
	// itself once.
	runs := pairs
	// And the states of testdata/adopt, each towards itself: tables with
	// what keel inspect prints least often.
	states, err := filepath.Glob(filepath.Join("testdata", "adopt", "*.sql"))
	if err != nil || len(states) == 0 {
		t.Fatalf("no states in testdata/adopt: %v", err)
	}
	for _, f := range states {
		runs = append(runs, pair{name: strings.TrimSuffix(filepath.Base(f), ".sql"), a: f, b: f})
	}
	planned := 0
	for _, c := range runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results := adoptedAndWhole(t, c, scratch)
			mu.Lock()
			defer mu.Unlock()
			for _, r := range results {
				planned++
				if !r.ok {
					skipped = append(skipped, r.name+": "+r.why)
					continue
				}
				compared++
				made[r.name] = [2]int{r.with.DesiredAdopted, r.with.DesiredAdoptedNormalized}
				if r.with.DesiredAdopted+r.with.DesiredAdoptedNormalized > 0 {
					adopted++
					taken += r.with.DesiredAdopted
					normal += r.with.DesiredAdoptedNormalized
				}
				if got, want := planText(r.with), planText(r.without); got != want {
					t.Errorf("%s: the plan made on the database's tables differs from the whole normalization's:\n%s\nwhole:\n%s", r.name, got, want)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d of %d plans compared; %d made on the database's tables: %d tables taken, %d normalized; not compared: %s",
		compared, planned, adopted, taken, normal, strings.Join(skipped, "; "))
	// Cases with views, functions, partitions, ... are normalized whole
	// (normalizeChanged does not take them); those with tables only are
	// made on the database's tables. In exotic.sql, of 32 tables, the six
	// whose blocks keel inspect prints with less than the catalog says (an
	// exclusion constraint, a check NO INHERIT, a column's collation, a
	// primary key's own name, an index's collation, a unique key's
	// comment) are normalized; the others are taken.
	if adopted == 0 || taken == 0 || normal == 0 {
		t.Errorf("%d of %d plans were made on the database's tables (%d tables taken, %d normalized)", adopted, compared, taken, normal)
	}
	if got := made["exotic (itself)"]; got != [2]int{26, 6} {
		t.Errorf("exotic.sql: %d tables taken and %d normalized, want 26 and 6", got[0], got[1])
	}
	if got := made["exclusion_constraint reverse (itself)"]; got != [2]int{0, 1} {
		t.Errorf("exclusion_constraint: %d tables taken and %d normalized, want 0 and 1", got[0], got[1])
	}
}

// adopted is one desired file planned both ways.
type adopted struct {
	name          string
	with, without *plan.Plan
	ok            bool   // false when the file does not print, or both plans fail alike
	why           string // why not ok
}

// adoptedAndWhole plans A towards B's file as keel inspect prints it, and
// towards A's own ("NAME (itself)"), each with an empty cache and with the
// cache off. A file keel inspect refuses to print is left out.
func adoptedAndWhole(t *testing.T, c pair, scratch string) []adopted {
	ctx := context.Background()
	var a, b *pg.DB
	if c.a == c.b { // the database and its own printed file
		u, _ := pgtest.NewDatabase(t)
		var err error
		if a, err = pg.ParseURL(u); err != nil {
			t.Fatal(err)
		}
		if err := source.RunSQLFiles(ctx, a, []string{c.a}); err != nil {
			t.Fatalf("loading %s: %v", c.a, err)
		}
		b = a
	} else {
		_, _, a, b = loadPair(t, c)
	}
	var out []adopted
	files := []struct {
		name string
		db   *pg.DB
	}{{c.name, b}, {c.name + " (itself)", a}}
	if c.a == c.b {
		files = []struct {
			name string
			db   *pg.DB
		}{{c.name + " (itself)", a}}
	}
	for _, f := range files {
		r := adopted{name: f.name}
		conn, err := f.db.Open(ctx, "keel corpus")
		if err != nil {
			t.Fatal(err)
		}
		printed, _, err := inspect.PrintHCL(ctx, conn, nil)
		conn.Close()
		if err != nil {
			r.why = "keel inspect: " + err.Error()
			out = append(out, r)
			continue
		}
		path := filepath.Join(t.TempDir(), "schema.hcl")
		if err := os.WriteFile(path, printed, 0o644); err != nil {
			t.Fatal(err)
		}
		planWith := func(dev source.DevDatabase) (*plan.Plan, error) {
			desired, err := source.OpenDesired(path)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := a.Open(ctx, "keel corpus")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			p, _, err := planner.Generate(ctx, conn, desired, planner.Options{Dev: dev})
			return p, err
		}
		var errWith, errWithout error
		r.with, errWith = planWith(source.DevDatabase{Cache: &source.Cache{Dir: t.TempDir()}, Scratch: scratch})
		r.without, errWithout = planWith(source.DevDatabase{Scratch: scratch})
		switch {
		case errWith != nil && errWithout != nil:
			r.why = "both plans fail: " + errWithout.Error()
			if errWith.Error() != errWithout.Error() {
				t.Errorf("%s: the plans fail differently: %v; whole: %v", f.name, errWith, errWithout)
			}
		case errWith != nil || errWithout != nil:
			r.why = "one plan fails"
			t.Errorf("%s: one plan fails: %v; whole: %v", f.name, errWith, errWithout)
		default:
			r.ok = true
		}
		out = append(out, r)
	}
	return out
}

// planText is what a reviewer reads of a plan: its statements, their
// hazards, and the differences it cannot plan.
func planText(p *plan.Plan) string {
	b, err := json.MarshalIndent(struct {
		Steps     []plan.Step
		Unplanned []plan.Difference
	}{p.Steps, p.Unplanned}, "", " ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}
