package inspect

import (
	"context"
	"fmt"
	"strings"
	"time"

	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"
)

// LockTimeoutError says that reading the live state waited too long for a
// lock another session holds on a table of the managed schemas.
type LockTimeoutError struct {
	Timeout  time.Duration
	Attempts int
	Holders  []string
	Err      error
}

func (e *LockTimeoutError) Error() string {
	msg := fmt.Sprintf("lock timeout: reading the database's schema waited longer than lock_timeout %s for a lock, %d times; nothing was changed", e.Timeout, e.Attempts)
	if len(e.Holders) > 0 {
		msg += ". The lock is held by " + strings.Join(e.Holders, "; ")
	}
	return msg + ". Run again once it is released, or raise lock_timeout in the profile"
}

func (e *LockTimeoutError) Unwrap() error { return e.Err }

// InspectUnder reads the live state of schemas under lock_timeout t.Lock,
// retrying lock timeouts t.Retries times.
func (l *Live) InspectUnder(ctx context.Context, schemas []string, t plan.Timeouts) (*state.State, error) {
	if _, err := l.db.ExecContext(ctx, fmt.Sprintf("SET lock_timeout = %d", t.Lock.Milliseconds())); err != nil {
		return nil, fmt.Errorf("setting lock_timeout: %w", pg.ServerError(err))
	}
	for attempt := 1; ; attempt++ {
		st, err := l.Inspect(ctx, schemas)
		if err == nil || !pg.IsLockTimeout(err) {
			return st, err
		}
		if attempt > t.Retries {
			return nil, &LockTimeoutError{Timeout: t.Lock, Attempts: attempt, Holders: l.strongLockHolders(ctx, schemas), Err: err}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pg.Backoff(attempt)):
		}
	}
}

// strongLockHolders describes the sessions holding ACCESS EXCLUSIVE locks on
// relations of the schemas: the ones that block reading their definitions.
func (l *Live) strongLockHolders(ctx context.Context, schemas []string) []string {
	rows, err := l.db.QueryContext(ctx, `
SELECT a.pid, coalesce(a.application_name, ''), a.query_start, n.nspname || '.' || c.relname
FROM pg_catalog.pg_locks k
JOIN pg_catalog.pg_stat_activity a ON a.pid = k.pid
JOIN pg_catalog.pg_class c ON c.oid = k.relation
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE k.granted AND k.mode = 'AccessExclusiveLock' AND k.pid <> pg_backend_pid() AND n.nspname = ANY($1)
ORDER BY a.query_start NULLS LAST LIMIT 5`, schemas)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var (
			pid       int
			app, name string
			started   *time.Time
		)
		if rows.Scan(&pid, &app, &started, &name) != nil {
			return out
		}
		since := "unknown"
		if started != nil {
			since = started.UTC().Format(time.RFC3339)
		}
		out = append(out, fmt.Sprintf("pid %d (application_name %q, query started %s, AccessExclusiveLock on %s)", pid, app, since, name))
	}
	return out
}
