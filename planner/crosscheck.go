package planner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/source"
	"keel/planner/state"

	"github.com/jackc/pgx/v5"
)

// EngineResult is what one engine's plan does to a scratch copy of the
// target.
type EngineResult struct {
	// Engine is "embedded" or the Atlas binary's version line.
	Engine string
	// Plan is the engine's plan; nil when Err says why there is none.
	Plan *plan.Plan
	Err  error
	// ApplyErr says which statement failed on the copy (the rest did not run).
	ApplyErr error
	// Left are the differences PostgreSQL's catalog shows between the copy
	// after the plan and the desired state: none when the plan converges.
	Left []plan.Difference

	catalog state.Catalog
}

// Converges reports whether the plan was made, ran on the copy and left it
// matching the desired state.
func (r EngineResult) Converges() bool {
	return r.Err == nil && r.ApplyErr == nil && len(r.Left) == 0
}

// CrossCheck compares the plans of keel's embedded engine and of the Atlas
// CLI by their effect: each runs on its own scratch copy of the target, and
// the catalogs the copies end with are compared with the desired state's
// and with each other.
type CrossCheck struct {
	Embedded, Atlas EngineResult
	// Between are the differences between the two copies after their plans
	// (the embedded engine's copy on the Desired side, Atlas's on Live).
	Between []plan.Difference
	// Unfaithful are the differences between the target and the copies
	// before any plan ran: where a copy is not the target, a result there
	// says less.
	Unfaithful []plan.Difference
	// CopiedWith says how the copies were made: "pg_dump 15.19" or
	// "keel's inspection" (with why pg_dump was not used).
	CopiedWith string
}

// Agree reports whether both engines planned, both plans ran and the
// copies ended the same and matching the desired state.
func (c *CrossCheck) Agree() bool {
	return c.Embedded.Converges() && c.Atlas.Converges() && len(c.Between) == 0
}

// CrossCheckPlans plans with the embedded engine and with opts.Atlas, runs
// each plan on a copy of the target made from keel's inspection of it (in
// throwaway databases on the dev server) and compares the results with
// PostgreSQL's catalog. The target is only read.
func CrossCheckPlans(ctx context.Context, conn *pg.Conn, desired source.Desired, opts Options) (*CrossCheck, error) {
	if opts.Atlas == nil {
		return nil, errors.New("a cross-check needs the Atlas engine: an Atlas binary on PATH, atlas_bin in the profile, --atlas-bin or KEEL_ATLAS_BIN")
	}
	embedded, atlas := opts, opts
	embedded.Atlas = nil
	// Both engines plan in full: a match record would answer for one.
	embedded.MatchRecords, atlas.MatchRecords = false, false
	var c CrossCheck
	var want *state.State
	c.Embedded.Engine = "embedded"
	c.Embedded.Plan, want, c.Embedded.Err = Generate(ctx, conn, desired, embedded)
	c.Atlas.Plan, _, c.Atlas.Err = Generate(ctx, conn, desired, atlas)
	if c.Embedded.Err != nil && c.Atlas.Err != nil {
		return nil, fmt.Errorf("neither engine could plan: embedded: %w; atlas: %w", c.Embedded.Err, c.Atlas.Err)
	}
	c.Atlas.Engine = "atlas"
	if c.Atlas.Plan != nil {
		c.Atlas.Engine = c.Atlas.Plan.Engine
	}
	if want == nil {
		// The embedded engine failed after normalizing: normalize again
		// (from the cache) for the desired catalog.
		var err error
		if want, err = Normalize(ctx, conn, desired, opts); err != nil {
			return nil, err
		}
	}
	if want.Catalog == nil {
		return nil, errors.New("a cross-check compares PostgreSQL's catalogs, and this desired state has none")
	}
	schemas := opts.Schemas
	if len(schemas) == 0 {
		schemas = want.SchemaNames()
	}
	live, err := inspect.ReadCatalog(ctx, conn, schemas)
	if err != nil {
		return nil, err
	}
	cp, err := newCopier(ctx, conn, schemas)
	if err != nil {
		return nil, err
	}
	dev, done, err := opts.Dev.Open(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer done()
	for _, r := range []*EngineResult{&c.Embedded, &c.Atlas} {
		if r.Plan == nil {
			continue
		}
		err := cp.with(ctx, conn, dev, schemas, func(sc *pg.Conn) error {
			if c.Unfaithful == nil {
				before, err := inspect.ReadCatalog(ctx, sc, schemas)
				if err != nil {
					return err
				}
				c.Unfaithful = state.PlanDifferences(live.Differences(before))
			}
			r.ApplyErr = runOnCopy(ctx, sc, r.Plan)
			var err error
			if r.catalog, err = inspect.ReadCatalog(ctx, sc, schemas); err != nil {
				return err
			}
			r.Left = state.PlanDifferences(want.Catalog.Differences(r.catalog))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("making a scratch copy of the target for the %s engine's plan: %w", r.Engine, err)
		}
	}
	c.CopiedWith = cp.how
	if c.Embedded.catalog != nil && c.Atlas.catalog != nil {
		c.Between = state.PlanDifferences(c.Embedded.catalog.Differences(c.Atlas.catalog))
	}
	return &c, nil
}

// copier makes scratch copies of the target's managed schemas: with
// pg_dump when there is one as new as the server (the most faithful copy),
// else from keel's inspection of the target (what `keel inspect` prints,
// which misses what the engine does not read, such as a CHECK on no column).
type copier struct {
	how  string
	dump []byte       // pg_dump's script, when it is used
	st   *state.State // keel's inspection otherwise
}

func newCopier(ctx context.Context, conn *pg.Conn, schemas []string) (*copier, error) {
	c, why := dumpCopier(ctx, conn, schemas)
	if c != nil {
		return c, nil
	}
	st, err := inspectedState(ctx, conn, schemas)
	if err != nil {
		return nil, err
	}
	return &copier{how: "keel's inspection (" + why + ")", st: st}, nil
}

// with makes a copy in a throwaway database on the dev server and calls fn
// with a connection to it. A pg_dump script that does not load there (a
// role it grants to does not exist on that server) gives way to keel's
// inspection, for this copy and the next.
func (cp *copier) with(ctx context.Context, target *pg.Conn, dev source.DevDatabase, schemas []string, fn func(*pg.Conn) error) error {
	run := func() (loadErr, err error) {
		err = dev.With(ctx, func(db *pg.DB) error {
			if loadErr = cp.load(ctx, db); loadErr != nil {
				return nil
			}
			sc, err := db.Open(ctx, "keel cross-check")
			if err != nil {
				return err
			}
			defer sc.Close()
			return fn(sc)
		})
		return loadErr, err
	}
	loadErr, err := run()
	if err != nil || loadErr == nil {
		return err
	}
	if cp.dump == nil {
		return loadErr
	}
	st, err := inspectedState(ctx, target, schemas)
	if err != nil {
		return err
	}
	cp.how, cp.dump, cp.st = "keel's inspection (pg_dump's script did not load: "+plan.OneLine(loadErr.Error())+")", nil, st
	if loadErr, err = run(); err != nil {
		return err
	}
	return loadErr
}

// load makes the copy in db, an empty database.
func (cp *copier) load(ctx context.Context, db *pg.DB) error {
	if cp.dump == nil {
		return source.LoadState(ctx, db, cp.st)
	}
	f, err := os.CreateTemp("", "keel-copy-*.sql")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(cp.dump); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return source.RunSQLFiles(ctx, db, []string{f.Name()})
}

// dumpCopier dumps the target's managed schemas and extensions with
// pg_dump (schema only, no owners); nil and why not when there is no
// pg_dump, or it is older than the server, or it fails.
func dumpCopier(ctx context.Context, conn *pg.Conn, schemas []string) (*copier, string) {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return nil, "no pg_dump on PATH"
	}
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return nil, "pg_dump --version failed"
	}
	version := strings.TrimSpace(string(out))
	var major int
	if f := strings.Fields(version); len(f) >= 3 {
		major, _ = strconv.Atoi(strings.SplitN(f[2], ".", 2)[0])
	}
	var server int
	if err := conn.Pgx().QueryRow(ctx, "SELECT current_setting('server_version_num')::int / 10000").Scan(&server); err != nil {
		return nil, "the server's version is unknown"
	}
	if major < server {
		return nil, fmt.Sprintf("%s is older than the server's %d", version, server)
	}
	type extension struct{ Name, Version string }
	rows, err := conn.Pgx().Query(ctx, "SELECT extname, extversion FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql' ORDER BY 1")
	if err != nil {
		return nil, "the extensions could not be read"
	}
	exts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[extension])
	if err != nil {
		return nil, "the extensions could not be read"
	}
	pattern := func(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
	args := []string{"--schema-only", "--no-owner"}
	for _, s := range schemas {
		args = append(args, "--schema="+pattern(s))
	}
	for _, e := range exts {
		args = append(args, "--extension="+pattern(e.Name))
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = conn.DB().ChildEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dump, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		if p := conn.DB().Password(); p != "" {
			msg = strings.ReplaceAll(msg, p, "****")
		}
		return nil, "pg_dump failed: " + plan.OneLine(msg)
	}
	// A new database has schema public already, with its default
	// privileges, which pg_dump leaves out: keep it rather than create it.
	dump = bytes.Replace(dump, []byte("\nCREATE SCHEMA public;\n"), []byte("\nCREATE SCHEMA IF NOT EXISTS public;\n"), 1)
	// pg_dump installs each extension at the server's default version: the
	// copy's must be the target's.
	for _, e := range exts {
		create := "\nCREATE EXTENSION IF NOT EXISTS " + pgsql.QuoteIdent(e.Name) + " "
		if pgsql.IsPlainIdent(e.Name) {
			create = "\nCREATE EXTENSION IF NOT EXISTS " + e.Name + " "
		}
		i := bytes.Index(dump, []byte(create))
		if i < 0 {
			return nil, "pg_dump's script does not install extension " + e.Name + " as expected"
		}
		end := bytes.IndexByte(dump[i+1:], '\n')
		if end < 0 || dump[i+end] != ';' {
			return nil, "pg_dump's script does not install extension " + e.Name + " as expected"
		}
		at := i + end // the statement's semicolon
		dump = append(dump[:at:at], append([]byte(" VERSION "+pgsql.QuoteLiteral(e.Version)), dump[at:]...)...)
	}
	return &copier{how: version, dump: dump}, ""
}

// inspectedState reads the target's schemas as keel inspects them, as the
// state keel's HCL of it reads back to (what `keel inspect` prints).
func inspectedState(ctx context.Context, conn *pg.Conn, schemas []string) (*state.State, error) {
	text, st, err := inspect.PrintHCL(ctx, conn, schemas)
	if err != nil {
		return nil, err
	}
	if len(st.SchemaNames()) == 0 {
		// Nothing there yet: the copy is an empty database.
		return &state.State{Realm: st.Realm}, nil
	}
	copyOf, err := state.ParseHCL([]string{"the target, as keel inspects it"}, [][]byte{text})
	if err != nil {
		return nil, fmt.Errorf("reading back keel's inspection of the target: %w", err)
	}
	return copyOf, nil
}

// runOnCopy runs a plan's statements on a scratch copy as apply orders
// them: the transactional ones in one transaction, then the others.
func runOnCopy(ctx context.Context, c *pg.Conn, p *plan.Plan) error {
	if _, err := c.Exec(ctx, "BEGIN"); err != nil {
		return err
	}
	for i, st := range p.Steps {
		if !st.Transactional {
			continue
		}
		if _, err := c.Exec(ctx, st.SQL); err != nil {
			_, _ = c.Exec(ctx, "ROLLBACK")
			return fmt.Errorf("statement %d failed, and the transaction was rolled back: %s: %w", i+1, plan.OneLine(st.SQL), pg.ServerError(err))
		}
	}
	if _, err := c.Exec(ctx, "COMMIT"); err != nil {
		return err
	}
	for i, st := range p.Steps {
		if st.Transactional {
			continue
		}
		if _, err := c.Exec(ctx, st.SQL); err != nil {
			return fmt.Errorf("statement %d failed: %s: %w", i+1, plan.OneLine(st.SQL), pg.ServerError(err))
		}
	}
	return nil
}
