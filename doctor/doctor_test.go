package doctor_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"keel/doctor"
	"keel/internal/pgtest"
	"keel/planner"
	"keel/planner/apply"
	"keel/planner/pg"
	"keel/planner/source"

	"github.com/jackc/pgx/v5"
)

func writeSchema(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "schema.hcl")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func parse(t *testing.T, dbURL string) *pg.DB {
	t.Helper()
	db, err := pg.ParseURL(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// connect opens the target's connection, closed when the test ends.
func connect(t *testing.T, dbURL string) *pg.Conn {
	t.Helper()
	conn, err := parse(t, dbURL).Open(context.Background(), "keel doctor test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// run makes the plan to the desired state at hclPath as keel doctor does
// (normalizing on opts.Dev's server), then runs the checks on dbURL for it.
func run(t *testing.T, dbURL, hclPath string, opts doctor.Options) *doctor.Report {
	t.Helper()
	desired, err := source.LoadHCL(hclPath)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	opts.Declared, _ = desired.Parsed()
	opts.Plan, _, opts.PlanErr = planner.Generate(context.Background(), conn, desired,
		planner.Options{Schemas: opts.Schemas, Dev: source.DevDatabase{Server: opts.Dev}})
	return doctor.Run(context.Background(), conn, opts)
}

// check returns the check named name, failing the test when there is none.
func check(t *testing.T, r *doctor.Report, name string) doctor.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in:\n%s", name, text(r))
	return doctor.Check{}
}

func text(r *doctor.Report) string {
	var b strings.Builder
	_ = doctor.WriteText(&b, r)
	return b.String()
}

func wantStatus(t *testing.T, r *doctor.Report, name string, want doctor.Status, says ...string) {
	t.Helper()
	c := check(t, r, name)
	if c.Status != want {
		t.Fatalf("%s: status %s, want %s:\n%s", name, c.Status, want, text(r))
	}
	for _, s := range says {
		if !strings.Contains(c.Line(), s) {
			t.Errorf("%s does not say %q: %s", name, s, c.Line())
		}
	}
}

const usersHCL = `
schema "public" {}
extension "uuid-ossp" {
  schema = schema.public
}
table "users" {
  schema = schema.public
  column "id" {
    type    = uuid
    default = sql("uuid_generate_v4()")
  }
}
`

// A superuser on a fresh database passes every check, and the plan the
// checks computed is the one a user would apply.
func TestSuperuserOnFreshDatabase(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	r := run(t, u, writeSchema(t, usersHCL), doctor.Options{})
	if r.Failed() {
		t.Fatalf("checks failed:\n%s", text(r))
	}
	for _, name := range []string{"connection", "tls", "extension uuid-ossp", "throwaway database", "plan",
		"privilege CREATE on database " + r.Target.Database, "privilege CREATE on schema public", "history", "pooler", "apply lock"} {
		wantStatus(t, r, name, doctor.OK)
	}
	wantStatus(t, r, "connection", doctor.OK, "PostgreSQL ")
	wantStatus(t, r, "pooler", doctor.OK, "direct connection")
	if r.Plan == nil || len(r.Plan.Steps) < 2 {
		t.Fatalf("no plan computed:\n%s", text(r))
	}
	if n := pgtest.QueryValue[int](t, u, "SELECT count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace"); n != 0 {
		t.Fatalf("the checks changed the database: %d relations in public", n)
	}
}

// A role without CREATE on the database or on schema public fails the
// checks that name them; without CREATEDB and no dev server, the throwaway
// database fails too, and privileges are judged from the declared state.
func TestRoleWithoutPrivileges(t *testing.T) {
	t.Parallel()
	role := pgtest.NewRole(t)
	u, name := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "REVOKE CREATE ON DATABASE "+name+" FROM PUBLIC", "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
	asRole := pgtest.AsRole(t, u, role)
	path := writeSchema(t, usersHCL)

	t.Run("with a dev server", func(t *testing.T) {
		r := run(t, asRole, path, doctor.Options{Dev: parse(t, pgtest.ServerURL())})
		wantStatus(t, r, "throwaway database", doctor.OK)
		wantStatus(t, r, "plan", doctor.OK)
		wantStatus(t, r, "privilege CREATE on database "+name, doctor.Fail, "lacks CREATE", "install extension uuid-ossp", "GRANT CREATE ON DATABASE")
		wantStatus(t, r, "privilege USAGE on schema public", doctor.OK)
		wantStatus(t, r, "privilege CREATE on schema public", doctor.Fail, "create table public.users", `GRANT CREATE ON SCHEMA "public" TO "`+role+`"`)
		wantStatus(t, r, "history", doctor.Fail, "CREATE SCHEMA keel AUTHORIZATION")
	})
	t.Run("without a dev server", func(t *testing.T) {
		r := run(t, asRole, path, doctor.Options{})
		wantStatus(t, r, "throwaway database", doctor.Fail, "CREATEDB", "dev_url")
		wantStatus(t, r, "plan", doctor.Warn, "declared state")
		wantStatus(t, r, "privilege CREATE on database "+name, doctor.Fail, "install extension uuid-ossp")
		wantStatus(t, r, "privilege CREATE on schema public", doctor.Fail)
	})
}

// A plan that alters a table the role does not own fails the ownership check.
func TestOwnerOfAlteredTable(t *testing.T) {
	t.Parallel()
	role := pgtest.NewRole(t)
	u, name := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE items (id int NOT NULL)",
		"GRANT CREATE ON DATABASE "+name+" TO "+role, "GRANT USAGE, CREATE ON SCHEMA public TO "+role)
	path := writeSchema(t, `
schema "public" {}
table "items" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "name" {
    type = text
    null = true
  }
}
`)
	dev := doctor.Options{Dev: parse(t, pgtest.ServerURL())}
	// Without a privilege on the table, the role cannot even see it.
	r := run(t, pgtest.AsRole(t, u, role), path, dev)
	wantStatus(t, r, "visibility of table public.items", doctor.Fail, "cannot inspect it", `GRANT SELECT ON "public"."items"`)

	pgtest.Exec(t, u, "GRANT SELECT ON items TO "+role)
	r = run(t, pgtest.AsRole(t, u, role), path, dev)
	wantStatus(t, r, "owner of table public.items", doctor.Fail, "alter table public.items", `ALTER TABLE "public"."items" OWNER TO "`+role+`"`)
	// The superuser may alter it.
	r = run(t, u, path, doctor.Options{})
	wantStatus(t, r, "owner of table public.items", doctor.OK)
}

// An extension the server lacks, or a version it lacks, fails its check,
// naming the extension; the plan cannot be computed and says so as a warning.
func TestExtensionNotOnServer(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	r := run(t, u, writeSchema(t, `
schema "public" {}
extension "keel_no_such_extension" {}
extension "pg_trgm" {
  version = "9.9"
}
`), doctor.Options{})
	wantStatus(t, r, "extension keel_no_such_extension", doctor.Fail, "not available on the server", "schema.hcl:3")
	wantStatus(t, r, "extension pg_trgm", doctor.Fail, "version 9.9 is not available", "1.6")
	wantStatus(t, r, "plan", doctor.Warn)
}

// The managed-platform allow-lists are read from the server: set on this
// database, azure.extensions without uuid-ossp fails it, and
// rds.allowed_extensions = '*' lets it pass.
func TestAllowListsFromServer(t *testing.T) {
	t.Parallel()
	u, name := pgtest.NewDatabase(t)
	path := writeSchema(t, usersHCL)
	pgtest.Exec(t, u, "ALTER DATABASE "+name+" SET azure.extensions = 'pg_trgm,hstore'")
	r := run(t, u, path, doctor.Options{})
	wantStatus(t, r, "extension uuid-ossp", doctor.Fail, "azure.extensions", `"pg_trgm,hstore"`)

	pgtest.Exec(t, u, "ALTER DATABASE "+name+" RESET azure.extensions", "ALTER DATABASE "+name+" SET rds.allowed_extensions = '*'")
	r = run(t, u, path, doctor.Options{})
	wantStatus(t, r, "extension uuid-ossp", doctor.OK)
}

// When another session holds keel's apply lock, the lock check warns and
// names that session; the checks do not take the lock away from it.
func TestApplyLockHeldElsewhere(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	holder, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	var pid int32
	if err := holder.QueryRow(ctx, "SELECT pg_backend_pid() FROM (SELECT pg_advisory_lock("+apply.LockKey+")) l").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	r := doctor.Run(ctx, connect(t, u), doctor.Options{})
	wantStatus(t, r, "apply lock", doctor.Warn, "held by pid")
	if c := check(t, r, "apply lock"); !strings.Contains(c.Message, "pid "+strconv.Itoa(int(pid))) {
		t.Errorf("lock check does not name pid %d: %s", pid, c.Line())
	}
	var still bool
	if err := holder.QueryRow(ctx, "SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()").Scan(&still); err != nil || !still {
		t.Fatalf("the holder lost its lock (%v)", err)
	}
}

// A history schema the role may not use fails the history check.
func TestHistorySchemaWithoutUsage(t *testing.T) {
	t.Parallel()
	role := pgtest.NewRole(t)
	u, name := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE SCHEMA keel", "GRANT CREATE ON DATABASE "+name+" TO "+role)
	r := doctor.Run(context.Background(), connect(t, pgtest.AsRole(t, u, role)), doctor.Options{})
	wantStatus(t, r, "history", doctor.Fail, "lacks USAGE on schema keel", "GRANT USAGE, CREATE ON SCHEMA keel")

	pgtest.Exec(t, u, "GRANT USAGE, CREATE ON SCHEMA keel TO "+role)
	r = doctor.Run(context.Background(), connect(t, pgtest.AsRole(t, u, role)), doctor.Options{})
	wantStatus(t, r, "history", doctor.OK)
}

// The kept state: none yet says so; one the role cannot read is a warning
// that says how to grant it; one it can read is fine.
func TestKeptStateCheck(t *testing.T) {
	t.Parallel()
	role := pgtest.NewRole(t)
	u, _ := pgtest.NewDatabase(t)
	asRole := pgtest.AsRole(t, u, role)
	r := doctor.Run(context.Background(), connect(t, asRole), doctor.Options{})
	wantStatus(t, r, "kept state", doctor.OK, "no apply has kept")

	pgtest.Exec(t, u, "CREATE SCHEMA keel", "CREATE TABLE keel.normalized_states (slot text PRIMARY KEY, key text NOT NULL, entry bytea NOT NULL, kept_at timestamptz NOT NULL DEFAULT now())")
	r = doctor.Run(context.Background(), connect(t, asRole), doctor.Options{})
	wantStatus(t, r, "kept state", doctor.Warn, "cannot read keel.normalized_states", "GRANT USAGE ON SCHEMA keel TO", "GRANT SELECT ON keel.normalized_states TO")

	pgtest.Exec(t, u, "GRANT USAGE ON SCHEMA keel TO "+role, "GRANT SELECT ON keel.normalized_states TO "+role)
	r = doctor.Run(context.Background(), connect(t, asRole), doctor.Options{})
	wantStatus(t, r, "kept state", doctor.OK, "may read keel.normalized_states")
}
