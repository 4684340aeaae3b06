package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"keel/planner/pg"
	"keel/planner/plan"

	"github.com/jackc/pgx/v5"
)

// LockKey is the SQL expression of the advisory lock every keel apply on a
// database holds (a bigint key: the lock's pg_locks row has objsubid 1).
const LockKey = `hashtextextended('keel apply ' || current_database(), 0)`

// lockHolderQuery finds the session holding the apply lock.
const lockHolderQuery = `
WITH k AS (SELECT ` + LockKey + ` AS key)
SELECT a.pid, coalesce(a.application_name, ''), a.backend_start
FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid, k
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295
LIMIT 1`

// LockError says another apply holds the database's apply lock.
type LockError struct {
	Waited time.Duration
	// Holder describes the session holding the lock: pid, application_name,
	// since when.
	Holder string
}

func (e *LockError) Error() string {
	return fmt.Sprintf("another keel apply holds the apply lock on this database (%s); gave up after waiting %s. "+
		"Wait for it to finish and run again, or raise lock_wait in the profile", e.Holder, e.Waited)
}

// acquireLock takes the apply lock on conn, trying until wait has passed.
func acquireLock(ctx context.Context, conn *pgx.Conn, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock("+LockKey+")").Scan(&ok); err != nil {
			return fmt.Errorf("taking the apply lock: %w", pg.ServerError(err))
		}
		if ok {
			return nil
		}
		if !time.Now().Before(deadline) {
			return &LockError{Waited: wait, Holder: lockHolder(ctx, conn)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// lockHolder describes the session that holds the apply lock.
func lockHolder(ctx context.Context, conn *pgx.Conn) string {
	h, ok := lockHolderIfAny(ctx, conn)
	if !ok && h == "" {
		return "holder unknown: no session holds it now"
	}
	return h
}

// lockHolderIfAny describes the session that holds the apply lock; ok is
// false when none does, or when reading pg_locks failed (then the
// description says why).
func lockHolderIfAny(ctx context.Context, conn *pgx.Conn) (string, bool) {
	var (
		pid     int
		app     string
		started time.Time
	)
	err := conn.QueryRow(ctx, lockHolderQuery, pgx.QueryExecModeSimpleProtocol).Scan(&pid, &app, &started)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false
	}
	if err != nil {
		return "holder unknown: " + err.Error(), false
	}
	return fmt.Sprintf("pid %d, application_name %q, connected since %s", pid, app, started.UTC().Format(time.RFC3339)), true
}

// UnlockError says that releasing the apply lock at the end of an apply
// failed: pg_advisory_unlock returned false, so the server session keel's
// connection ended up in did not hold the lock, and the session that does
// still holds it.
type UnlockError struct {
	Target plan.Target
	// Pid is the backend of keel's connection when it tried to unlock.
	Pid int32
	// Holder describes the session holding the lock now, as LockError's.
	Holder string
}

func (e *UnlockError) Error() string {
	msg := fmt.Sprintf("the apply lock was NOT released on %s: pg_advisory_unlock returned false in server process %d, which did not hold it "+
		"(what the apply did is as reported above). keel's connection was most likely handed to another server session "+
		"by a connection pooler in transaction mode", e.Target, e.Pid)
	if e.Holder == "" {
		return msg + ". No session holds the lock now; connect keel to the PostgreSQL server directly or through a session-mode pool"
	}
	return msg + fmt.Sprintf(". The lock is still held by %s, and every later keel apply on this database waits for it: "+
		"if no keel apply is running, end that session on the server itself (SELECT pg_terminate_backend(pid) with its pid), "+
		"and connect keel to the PostgreSQL server directly or through a session-mode pool", e.Holder)
}

// releaseLock releases the apply lock taken on conn. It is an *UnlockError
// when pg_advisory_unlock says this session did not hold it. A connection
// that is already closed has released it with its session.
func releaseLock(ctx context.Context, conn *pgx.Conn, target *pg.DB) error {
	var (
		pid      int32
		released bool
	)
	err := conn.QueryRow(ctx, "SELECT pg_backend_pid(), pg_advisory_unlock("+LockKey+")", pgx.QueryExecModeSimpleProtocol).Scan(&pid, &released)
	switch {
	case err != nil && conn.IsClosed():
		return nil
	case err != nil:
		return fmt.Errorf("releasing the apply lock on %s (closing the connection releases it too): %w", target, pg.ServerError(err))
	case !released:
		e := &UnlockError{Target: target.Target(), Pid: pid}
		if h, ok := lockHolderIfAny(ctx, conn); ok {
			e.Holder = h
		}
		return e
	}
	return nil
}

// ProbeLock takes the apply lock on conn and releases it at once, as keel
// doctor does to tell whether an apply could take it. When another session
// holds it, held is true and holder describes that session.
func ProbeLock(ctx context.Context, conn *pgx.Conn) (holder string, held bool, err error) {
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock("+LockKey+")").Scan(&got); err != nil {
		return "", false, fmt.Errorf("taking the apply lock: %w", pg.ServerError(err))
	}
	if !got {
		return lockHolder(ctx, conn), true, nil
	}
	var released bool
	if err := conn.QueryRow(ctx, "SELECT pg_advisory_unlock("+LockKey+")").Scan(&released); err != nil || !released {
		return "", false, fmt.Errorf("releasing the apply lock it took: %v", pg.ServerError(err))
	}
	return "", false, nil
}
