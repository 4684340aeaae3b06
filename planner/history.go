package planner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"keel/planner/pg"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// HistorySchema is keel's own schema on the target, holding the history of
// applies. It is never part of a plan.
const HistorySchema = "keel"

// The outcomes of an apply in keel.history.
const (
	// OutcomeApplied: every statement ran.
	OutcomeApplied = "applied"
	// OutcomeFailed: a statement failed (the transaction was rolled back), or
	// the apply was interrupted after its transaction committed.
	OutcomeFailed = "failed"
	// OutcomeRunning: the transaction committed and the statements that run
	// after it are running. A row left so by a lost connection or a killed
	// keel is recorded as failed by the next apply.
	OutcomeRunning = "running"
)

const historyTableDDL = `CREATE TABLE keel.history (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  env              text NOT NULL,
  plan_digest      text NOT NULL,
  from_fingerprint text NOT NULL,
  to_fingerprint   text NOT NULL,
  statements       integer NOT NULL,
  os_user          text NOT NULL,
  approver         text NOT NULL DEFAULT '',
  started_at       timestamptz NOT NULL,
  finished_at      timestamptz NOT NULL,
  outcome          text NOT NULL CONSTRAINT history_outcome_check CHECK (outcome IN ('applied', 'failed', 'running')),
  error            text NOT NULL DEFAULT ''
)`

// HistoryEntry is one apply, as recorded in keel.history.
type HistoryEntry struct {
	ID              int64     `json:"id"`
	Env             string    `json:"env"`
	PlanDigest      string    `json:"plan_digest"`
	FromFingerprint string    `json:"from_fingerprint"`
	ToFingerprint   string    `json:"to_fingerprint"`
	Statements      int       `json:"statements"`
	OSUser          string    `json:"os_user"`
	Approver        string    `json:"approver,omitempty"`
	StartedAt       time.Time `json:"started_at"`
	FinishedAt      time.Time `json:"finished_at"`
	// Outcome is "applied" or "failed".
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
}

// execer is a connection or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// querier is a connection or a transaction that also reads rows.
type querier interface {
	execer
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ensureHistory creates what is missing of keel's history: the schema, the
// table, or (in a table made by an older keel) the outcome "running". It
// creates nothing that exists, so a role that may use the schema but not
// create one in the database can apply.
func ensureHistory(ctx context.Context, q querier) error {
	var hasSchema, hasTable, hasRunning bool
	err := q.QueryRow(ctx, `
SELECT to_regnamespace('keel') IS NOT NULL, to_regclass('keel.history') IS NOT NULL,
       EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
               WHERE conrelid = to_regclass('keel.history') AND conname = 'history_outcome_check'
                 AND pg_catalog.pg_get_constraintdef(oid) LIKE '%''running''%')`).Scan(&hasSchema, &hasTable, &hasRunning)
	if err != nil {
		return fmt.Errorf("reading keel's history table keel.history: %w", pg.ServerError(err))
	}
	var stmts []string
	if !hasSchema {
		stmts = append(stmts, "CREATE SCHEMA keel")
	}
	switch {
	case !hasTable:
		stmts = append(stmts, historyTableDDL,
			"COMMENT ON TABLE keel.history IS 'One row per keel apply: what ran, from which state, who approved it, how it ended.'")
	case !hasRunning:
		stmts = append(stmts, "ALTER TABLE keel.history DROP CONSTRAINT IF EXISTS history_outcome_check, "+
			"ADD CONSTRAINT history_outcome_check CHECK (outcome IN ('applied', 'failed', 'running'))")
	}
	for _, st := range stmts {
		if _, err := q.Exec(ctx, st); err != nil {
			return fmt.Errorf("creating keel's history table keel.history: %w", pg.ServerError(err))
		}
	}
	return nil
}

// insertHistory records an apply and returns its id.
func insertHistory(ctx context.Context, q querier, e HistoryEntry) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO keel.history
  (env, plan_digest, from_fingerprint, to_fingerprint, statements, os_user, approver, started_at, finished_at, outcome, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		e.Env, e.PlanDigest, e.FromFingerprint, e.ToFingerprint, e.Statements, e.OSUser, e.Approver,
		e.StartedAt, e.FinishedAt, e.Outcome, e.Error).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("recording the apply in keel.history: %w", pg.ServerError(err))
	}
	return id, nil
}

// finishHistory records how an apply recorded as running ended.
func finishHistory(ctx context.Context, q execer, id int64, outcome, errText string) error {
	_, err := q.Exec(ctx, "UPDATE keel.history SET outcome = $2, finished_at = now(), error = $3 WHERE id = $1", id, outcome, errText)
	if err != nil {
		return fmt.Errorf("recording the end of apply #%d in keel.history: %w", id, pg.ServerError(err))
	}
	return nil
}

// recordInterrupted records as failed the applies left running: their
// transaction committed, then the connection was lost or keel was killed
// while the statements after it ran. The caller holds the apply lock, so no
// apply is running. It returns the ids it recorded.
func recordInterrupted(ctx context.Context, q querier) ([]int64, error) {
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass('keel.history') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return nil, err
	}
	var ids []int64
	err := q.QueryRow(ctx, `
WITH done AS (
  UPDATE keel.history SET outcome = 'failed', finished_at = now(),
    error = 'interrupted: the transaction committed, then the connection was lost or keel was killed while the ' ||
            'statements after it ran; some of them may not have run: keel plan shows what remains'
  WHERE outcome = 'running' RETURNING id)
SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM done`).Scan(&ids)
	if err != nil {
		return nil, fmt.Errorf("recording interrupted applies in keel.history: %w", pg.ServerError(err))
	}
	return ids, nil
}

// History returns the last n applies recorded on the target, newest first.
// A database keel never applied to has none.
func History(ctx context.Context, target *pg.DB, n int) ([]HistoryEntry, error) {
	conn, err := target.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('keel.history') IS NOT NULL").Scan(&exists); err != nil {
		return nil, fmt.Errorf("reading keel.history: %w", pg.ServerError(err))
	}
	if !exists {
		return nil, nil
	}
	rows, err := conn.Query(ctx, `SELECT id, env, plan_digest, from_fingerprint, to_fingerprint, statements, os_user,
  approver, started_at, finished_at, outcome, error FROM keel.history ORDER BY id DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("reading keel.history: %w", pg.ServerError(err))
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HistoryEntry, error) {
		var e HistoryEntry
		err := r.Scan(&e.ID, &e.Env, &e.PlanDigest, &e.FromFingerprint, &e.ToFingerprint, &e.Statements,
			&e.OSUser, &e.Approver, &e.StartedAt, &e.FinishedAt, &e.Outcome, &e.Error)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading keel.history: %w", pg.ServerError(err))
	}
	return entries, nil
}

// appliedBefore returns the history entry that applied the plan with this
// digest, if any.
func appliedBefore(ctx context.Context, conn *pgx.Conn, digest string) (*HistoryEntry, error) {
	var e HistoryEntry
	err := conn.QueryRow(ctx, `SELECT id, env, started_at, os_user FROM keel.history
WHERE plan_digest = $1 AND outcome IN ('applied', 'running') ORDER BY id LIMIT 1`, digest).Scan(&e.ID, &e.Env, &e.StartedAt, &e.OSUser)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading keel.history: %w", pg.ServerError(err))
	}
	return &e, nil
}
