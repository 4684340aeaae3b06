package main

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"keel/internal/pgtest"
)

// unchanged fails the test unless the database at dbURL is as new: no
// relations in public, no keel schema (so no history row), no extension
// but plpgsql, and no advisory lock held in it, all read on the server
// itself.
func unchanged(t *testing.T, dbURL string) {
	t.Helper()
	if n := pgtest.QueryValue[int](t, dbURL, "SELECT count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace"); n != 0 {
		t.Errorf("%d relations in schema public, want none", n)
	}
	if pgtest.QueryValue[bool](t, dbURL, "SELECT to_regnamespace('keel') IS NOT NULL") {
		t.Errorf("schema keel exists (%d history rows)", historyRows(t, dbURL))
	}
	if n := pgtest.QueryValue[int](t, dbURL, "SELECT count(*)::int FROM pg_extension WHERE extname <> 'plpgsql'"); n != 0 {
		t.Errorf("%d extensions installed", n)
	}
	if n := advisoryLocks(t, dbURL); n != 0 {
		t.Errorf("%d advisory locks held in the database, want none", n)
	}
}

// advisoryLocks counts the advisory locks held in the database at dbURL.
func advisoryLocks(t *testing.T, dbURL string) int {
	t.Helper()
	return pgtest.QueryValue[int](t, dbURL, `SELECT count(*)::int FROM pg_locks
WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
}

// poolerRefusal fails the test unless an apply's exit code and stderr say
// that it refused to run through the transaction pooler on port.
func poolerRefusal(t *testing.T, port, code int, out, errs string) {
	t.Helper()
	if code == 0 {
		t.Fatalf("apply through a transaction pooler succeeded:\n%s%s", out, errs)
	}
	for _, want := range []string{"127.0.0.1:" + strconv.Itoa(port), "connection pooler in transaction or statement mode",
		"directly", "session-mode pool", "nothing was locked or executed"} {
		if !strings.Contains(errs, want) {
			t.Errorf("exit %d; the error does not say %q:\n%s", code, want, errs)
		}
	}
	if strings.Contains(out+errs, testPassword) {
		t.Errorf("the password appears in the output:\n%s%s", out, errs)
	}
}

// Behind PgBouncer in transaction mode, keel apply refuses with a message
// that says to connect directly or through a session pool, and the database
// is left as it was, without a lock; keel doctor fails its pooler check
// there and passes it directly. Through a session-mode pool of the same
// PgBouncer, the apply works and the next plan is empty.
func TestApplyBehindPgBouncer(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	b := pgtest.StartPgBouncer(t, u)
	envs := devEnv(t, "")
	pooled := withPassword(t, b.Transaction, "disable")

	code, out, errs := keelIn(t, envs, "apply", "--env", "dev", "--url", pooled, "--schema", "../../schema.hcl")
	poolerRefusal(t, b.Port, code, out, errs)
	unchanged(t, u)
	// With the simple protocol there is no prepared statement to collide
	// and give the pooler away; the detection does not rely on one.
	code, out, errs = keelIn(t, envs, "apply", "--env", "dev", "--url", pooled+"&default_query_exec_mode=simple_protocol", "--schema", "../../schema.hcl")
	poolerRefusal(t, b.Port, code, out, errs)
	unchanged(t, u)

	code, out, errs = keelIn(t, envs, "doctor", "--env", "dev", "--url", pooled, "--schema", "../../schema.hcl")
	if code != 1 || !strings.Contains(out, "fail  pooler: 127.0.0.1:"+strconv.Itoa(b.Port)+" is a connection pooler in transaction or statement mode") ||
		!strings.Contains(out, "session-mode pool") {
		t.Errorf("doctor through the transaction pooler: exit %d, want 1 and a failed pooler check:\n%s%s", code, out, errs)
	}
	if strings.Contains(out+errs, testPassword) {
		t.Errorf("doctor shows the password:\n%s%s", out, errs)
	}
	unchanged(t, u)

	code, out, errs = keelIn(t, envs, "doctor", "--env", "dev", "--url", u, "--schema", "../../schema.hcl")
	if code != 0 || !strings.Contains(out, "ok    pooler: direct connection") {
		t.Errorf("doctor on a direct connection: exit %d, want 0 and the pooler check ok:\n%s%s", code, out, errs)
	}

	session := withPassword(t, b.Session, "disable")
	if code, out, errs := keelIn(t, envs, "apply", "--env", "dev", "--url", session, "--schema", "../../schema.hcl"); code != 0 {
		t.Fatalf("apply through a session pool: exit %d:\n%s%s", code, out, errs)
	}
	if !tableExists(t, u, "public.users") || historyRows(t, u) != 1 {
		t.Fatalf("apply through a session pool: no users table or not one history row (%d)", historyRows(t, u))
	}
	if n := advisoryLocks(t, u); n != 0 {
		t.Fatalf("%d advisory locks left after an apply through a session pool", n)
	}
	if code, out, errs := keelIn(t, envs, "plan", "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--detailed-exitcode"); code != 0 {
		t.Fatalf("re-plan after the apply through a session pool: exit %d, want 0:\n%s%s", code, out, errs)
	}
}

// Ten applies at once through PgBouncer in transaction mode are all
// refused; none ran (no history row, the database as new, no lock left).
func TestConcurrentAppliesBehindTransactionPooler(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	b := pgtest.StartPgBouncer(t, u)
	envs := devEnv(t, "")
	pooled := withPassword(t, b.Transaction, "disable")
	type result struct {
		code      int
		out, errs string
	}
	results := make([]result, 10)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out, errs := keelIn(t, envs, "apply", "--env", "dev", "--url", pooled, "--schema", "../../schema.hcl")
			results[i] = result{code, out, errs}
		}()
	}
	wg.Wait()
	for _, r := range results {
		poolerRefusal(t, b.Port, r.code, r.out, r.errs)
	}
	unchanged(t, u)
}
