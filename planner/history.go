package planner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// HistorySchema is keel's own schema on the target, holding the history of
// applies. It is never part of a plan.
const HistorySchema = "keel"

const historyDDL = `
CREATE SCHEMA IF NOT EXISTS keel;
CREATE TABLE IF NOT EXISTS keel.history (
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
  outcome          text NOT NULL CHECK (outcome IN ('applied', 'failed')),
  error            text NOT NULL DEFAULT ''
);
COMMENT ON TABLE keel.history IS 'One row per keel apply: what ran, from which state, who approved it, how it ended.'`

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

func ensureHistory(ctx context.Context, q execer) error {
	if _, err := q.Exec(ctx, historyDDL); err != nil {
		return fmt.Errorf("creating keel's history table keel.history: %w", pgError(err))
	}
	return nil
}

func insertHistory(ctx context.Context, q execer, e HistoryEntry) error {
	_, err := q.Exec(ctx, `INSERT INTO keel.history
  (env, plan_digest, from_fingerprint, to_fingerprint, statements, os_user, approver, started_at, finished_at, outcome, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.Env, e.PlanDigest, e.FromFingerprint, e.ToFingerprint, e.Statements, e.OSUser, e.Approver,
		e.StartedAt, e.FinishedAt, e.Outcome, e.Error)
	if err != nil {
		return fmt.Errorf("recording the apply in keel.history: %w", pgError(err))
	}
	return nil
}

// History returns the last n applies recorded on the target, newest first.
// A database keel never applied to has none.
func History(ctx context.Context, target *DB, n int) ([]HistoryEntry, error) {
	conn, err := target.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('keel.history') IS NOT NULL").Scan(&exists); err != nil {
		return nil, fmt.Errorf("reading keel.history: %w", pgError(err))
	}
	if !exists {
		return nil, nil
	}
	rows, err := conn.Query(ctx, `SELECT id, env, plan_digest, from_fingerprint, to_fingerprint, statements, os_user,
  approver, started_at, finished_at, outcome, error FROM keel.history ORDER BY id DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("reading keel.history: %w", pgError(err))
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HistoryEntry, error) {
		var e HistoryEntry
		err := r.Scan(&e.ID, &e.Env, &e.PlanDigest, &e.FromFingerprint, &e.ToFingerprint, &e.Statements,
			&e.OSUser, &e.Approver, &e.StartedAt, &e.FinishedAt, &e.Outcome, &e.Error)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading keel.history: %w", pgError(err))
	}
	return entries, nil
}

// appliedBefore returns the history entry that applied the plan with this
// digest, if any.
func appliedBefore(ctx context.Context, conn *pgx.Conn, digest string) (*HistoryEntry, error) {
	var e HistoryEntry
	err := conn.QueryRow(ctx, `SELECT id, env, started_at, os_user FROM keel.history
WHERE plan_digest = $1 AND outcome = 'applied' ORDER BY id LIMIT 1`, digest).Scan(&e.ID, &e.Env, &e.StartedAt, &e.OSUser)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading keel.history: %w", pgError(err))
	}
	return &e, nil
}
