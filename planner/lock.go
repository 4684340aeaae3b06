package planner

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockKey is the advisory lock every keel apply on a database holds.
const lockKey = `hashtextextended('keel apply ' || current_database(), 0)`

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
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock("+lockKey+")").Scan(&ok); err != nil {
			return fmt.Errorf("taking the apply lock: %w", pgError(err))
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
	var (
		pid     int
		app     string
		started time.Time
	)
	err := conn.QueryRow(ctx, `
SELECT a.pid, a.application_name, a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND ((l.classid::bigint << 32) | l.objid::bigint) = `+lockKey+`
LIMIT 1`).Scan(&pid, &app, &started)
	if err != nil {
		return "holder unknown: " + err.Error()
	}
	return fmt.Sprintf("pid %d, application_name %q, connected since %s", pid, app, started.UTC().Format(time.RFC3339))
}

func releaseLock(ctx context.Context, conn *pgx.Conn) {
	_, _ = conn.Exec(ctx, "SELECT pg_advisory_unlock("+lockKey+")")
}
