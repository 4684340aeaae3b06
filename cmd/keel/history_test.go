package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"keel/internal/pgtest"

	"github.com/jackc/pgx/v5"
)

const accountsIndexedHCL = `
schema "public" {}
table "accounts" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "email" {
    type = text
  }
  primary_key {
    columns = [column.id]
  }
  index "accounts_email_idx" {
    columns = [column.email]
  }
}
`

// A lost connection during a statement that runs after the transaction
// (CREATE INDEX CONCURRENTLY) leaves the apply recorded as running; the next
// apply records it as failed, says so, and builds what remains.
func TestInterruptedApplyIsRecordedByTheNext(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	dir := devEnv(t, "concurrent_indexes = true\nlock_timeout = \"2m\"\nstatement_timeout = \"5m\"\n")
	pgtest.Exec(t, u, "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL)", "INSERT INTO accounts VALUES (1, 'a@example.com')")
	desired := writeFile(t, "schema.hcl", accountsIndexedHCL)

	// SHARE UPDATE EXCLUSIVE lets keel read accounts and blocks its
	// CREATE INDEX CONCURRENTLY.
	holder := holdLock(t, u, "accounts", "SHARE UPDATE EXCLUSIVE")
	type result struct {
		code      int
		out, errs string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errs := keelIn(t, dir, "apply", "--env", "dev", "--url", u, "--schema", desired)
		done <- result{code, out, errs}
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for !pgtest.QueryValue[bool](t, u, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
  AND application_name LIKE 'keel apply%' AND wait_event_type = 'Lock' AND query LIKE 'CREATE INDEX CONCURRENTLY%')`) {
		if time.Now().After(deadline) {
			t.Fatal("keel's CREATE INDEX CONCURRENTLY never waited for the lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := pgtest.QueryValue[string](t, u, "SELECT string_agg(outcome, ',') FROM keel.history"); got != "running" {
		t.Fatalf("while the index is being built, history outcomes are %q, want running", got)
	}
	// The connection dies mid-statement.
	pgtest.Exec(t, u, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'keel apply%'")
	first := <-done
	if first.code != 1 {
		t.Fatalf("the interrupted apply exited %d, want 1:\n%s%s", first.code, first.out, first.errs)
	}
	pgtest.Exec(t, u, fmt.Sprintf("SELECT pg_terminate_backend(%d)", holder))
	if got := pgtest.QueryValue[string](t, u, "SELECT string_agg(outcome, ',') FROM keel.history"); got != "running" {
		t.Fatalf("after the lost connection, history outcomes are %q, want running (nothing could record the end)", got)
	}

	code, out, errs := keelIn(t, dir, "apply", "--env", "dev", "--url", u, "--schema", desired)
	if code != 0 {
		t.Fatalf("the next apply exited %d:\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "was interrupted after its transaction committed") {
		t.Errorf("the next apply does not say that the last one was interrupted:\n%s", errs)
	}
	got := pgtest.QueryValue[string](t, u, "SELECT string_agg(outcome || ':' || (error LIKE 'interrupted:%')::text, ',' ORDER BY id) FROM keel.history")
	if got != "failed:true,applied:false" {
		t.Fatalf("history is %q, want the interrupted apply failed (interrupted) and the next one applied", got)
	}
	if !pgtest.QueryValue[bool](t, u, "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('public.accounts_email_idx')") {
		t.Fatal("the index was not built, or is invalid")
	}
}

// A history table made by an older keel (outcome limited to applied and
// failed) takes the running outcome at the next apply.
func TestOldHistoryTableIsUpgraded(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	dir := devEnv(t, "concurrent_indexes = true\n")
	pgtest.Exec(t, u, "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL)", `CREATE SCHEMA keel`, `CREATE TABLE keel.history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, env text NOT NULL, plan_digest text NOT NULL,
  from_fingerprint text NOT NULL, to_fingerprint text NOT NULL, statements integer NOT NULL, os_user text NOT NULL,
  approver text NOT NULL DEFAULT '', started_at timestamptz NOT NULL, finished_at timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('applied', 'failed')), error text NOT NULL DEFAULT '')`)
	code, out, errs := keelIn(t, dir, "apply", "--env", "dev", "--url", u, "--schema", writeFile(t, "schema.hcl", accountsIndexedHCL))
	if code != 0 {
		t.Fatalf("apply exited %d:\n%s%s", code, out, errs)
	}
	if got := pgtest.QueryValue[string](t, u, "SELECT string_agg(outcome, ',') FROM keel.history"); got != "applied" {
		t.Fatalf("history outcomes %q, want applied", got)
	}
}

// A CREATE INDEX CONCURRENTLY that hits its lock timeout while it waits for
// an older transaction has made its index already, INVALID: the retry drops
// that index and builds it again, instead of failing on its name.
func TestConcurrentIndexRetriedAfterALockTimeout(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	dir := devEnv(t, "concurrent_indexes = true\nlock_timeout = \"300ms\"\nlock_retries = 8\n")
	pgtest.Exec(t, u, "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL)")
	// An open transaction with a snapshot: the index build waits for it
	// after it has made the index.
	ctx := context.Background()
	blocker, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(ctx)
	if _, err := blocker.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ"); err != nil {
		t.Fatal(err)
	}
	if _, err := blocker.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	// Released once a first attempt failed: the invalid index is there and
	// keel's session waits between attempts.
	released := make(chan struct{})
	go func() {
		defer close(released)
		watch, err := pgx.Connect(ctx, u)
		if err != nil {
			return
		}
		defer watch.Close(ctx)
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			var failedOnce bool
			if err := watch.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_index WHERE NOT indisvalid AND indexrelid = 'accounts_email_idx'::regclass)
  AND NOT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'keel apply%' AND state = 'active')`).Scan(&failedOnce); err == nil && failedOnce {
				break
			}
		}
		blocker.Exec(ctx, "COMMIT")
	}()
	code, out, errs := keelIn(t, dir, "apply", "--env", "dev", "--url", u, "--schema", writeFile(t, "schema.hcl", accountsIndexedHCL))
	<-released
	if code != 0 || !strings.Contains(errs, "hit lock_timeout") || !strings.Contains(errs, "waiting for another transaction to end") {
		t.Fatalf("apply: exit %d, want 0 after a retry:\n%s%s", code, out, errs)
	}
	if !pgtest.QueryValue[bool](t, u, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email_idx'::regclass") {
		t.Fatal("the index is not valid")
	}
}
