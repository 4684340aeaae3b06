package planner_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/render"
	"keel/planner/source"

	"github.com/jackc/pgx/v5"
)

// The live and desired states of the --format sql tests: a column made NOT
// NULL and one added in the transaction, a new table with a foreign key, and
// an index on the existing table built CONCURRENTLY after the commit.
const (
	scriptLive = `CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
INSERT INTO accounts VALUES (1, 'a@example.com'), (2, 'b@example.com');`
	scriptDesired = `CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, note text);
CREATE INDEX accounts_email ON accounts (email);
CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts);
`
)

// scriptOptions are prod's: concurrent index builds, a short lock timeout.
var scriptOptions = planner.Options{ConcurrentIndexes: true, Timeouts: plan.Timeouts{Lock: time.Second, Statement: 45 * time.Second, Retries: 0}}

func scriptPlan(t *testing.T, dbURL string) *plan.Plan {
	t.Helper()
	desired, err := source.OpenDesired(writeFile(t, "schema.sql", scriptDesired))
	if err != nil {
		t.Fatal(err)
	}
	db, err := pg.ParseURL(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := planner.Generate(context.Background(), connOf(t, db), desired, scriptOptions)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runScript renders p with --format sql's renderer and runs it as the
// README says: psql -v ON_ERROR_STOP=1 -f. It returns psql's error and output.
func runScript(t *testing.T, dbURL string, p *plan.Plan) (string, error) {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql (postgresql-client) is not installed")
	}
	var script strings.Builder
	if err := render.Formats["sql"](&script, p); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "plan.sql")
	if err := os.WriteFile(file, []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// A script without its lock_timeout would wait for the lock below
	// forever: the deadline turns that into a failure.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", file, "-d", dbURL).CombinedOutput()
	return string(out), err
}

// `keel plan --format sql` run with psql does what keel apply does: the
// transactional statements in one transaction under the plan's timeouts,
// then the CONCURRENTLY build; a failing statement leaves nothing of the
// plan and stops the script, as does a lock held longer than the plan's
// lock_timeout; after a run, a new plan is empty.
func TestFormatSQLRunsLikeApply(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, scriptLive)
	p := scriptPlan(t, u)
	var tx, after int
	for _, s := range p.Steps {
		if s.Transactional {
			tx++
		} else {
			after++
		}
	}
	if tx == 0 || after == 0 {
		t.Fatalf("the plan has %d statements in the transaction and %d after it; want both:\n%s", tx, after, sqlOf(p))
	}
	// A view in the way of the second statement: psql stops there, the
	// first is rolled back, and the index after the transaction is not built.
	pgtest.Exec(t, u, "CREATE VIEW orders AS SELECT 1 AS x")
	before := pgtest.DumpSchema(t, u)
	out, err := runScript(t, u, p)
	if err == nil || !strings.Contains(out, `relation "orders" already exists`) {
		t.Fatalf("psql: %v, want it to fail on CREATE TABLE orders:\n%s", err, out)
	}
	if after := pgtest.DumpSchema(t, u); after != before {
		t.Fatalf("a failed script changed the schema:\n%s", after)
	}
	pgtest.Exec(t, u, "DROP VIEW orders")
	before = pgtest.DumpSchema(t, u)

	// The plan's lock_timeout is set: a lock held elsewhere stops the script
	// with PostgreSQL's lock timeout instead of a wait.
	ctx := context.Background()
	holder, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, "BEGIN; LOCK TABLE accounts IN ACCESS SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	out, err = runScript(t, u, p)
	if err == nil || !strings.Contains(out, "canceling statement due to lock timeout") {
		t.Fatalf("psql with accounts locked: %v, want a lock timeout:\n%s", err, out)
	}
	if _, err := holder.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if after := pgtest.DumpSchema(t, u); after != before {
		t.Fatalf("a script stopped by a lock timeout changed the schema:\n%s", after)
	}

	if out, err := runScript(t, u, p); err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	if !pgtest.QueryValue[bool](t, u, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email'::regclass") {
		t.Fatal("the index built after the transaction is not valid")
	}
	if again := scriptPlan(t, u); !again.Matches() {
		t.Fatalf("after psql -f of the plan, a new plan is not empty:\n%s%+v", sqlOf(again), again.Unplanned)
	}
}
