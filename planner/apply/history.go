package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"keel/internal/pgsql"
	"keel/planner/pg"
	"keel/planner/plan"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

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

// historyTableDDL creates HistoryTable; its SQL names keel.history, and
// every statement on it lives in this file.
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

// HistoryTable is keel's history table, in HistorySchema.
const HistoryTable = plan.KeelSchema + ".history"

// HistoryStatus is what exists of keel's history on a database and what the
// role may do there. ensureHistory creates what is missing from it, and
// keel doctor words it: one reading for both.
type HistoryStatus struct {
	// SchemaExists, TableExists: schema keel and table keel.history.
	SchemaExists, TableExists bool
	// Current: the table takes the outcome "running" (an older keel's
	// does not, and is altered at the next apply).
	Current bool
	// The role's privileges: CREATE on the database (to create the
	// schema), USAGE and CREATE on the schema, SELECT and INSERT on the
	// table, and ownership of the table (to alter an older one).
	CreateSchema, UseSchema, CreateInSchema, ReadWrite, OwnTable bool
	// ManagedExists: the table keel.managed_schemas; ManagedReadWrite:
	// the role may read, insert and delete its rows.
	ManagedExists, ManagedReadWrite bool
}

// managedTableDDL creates ManagedTable, where keel records the schemas it
// manages in the database (see Plan.DropSchemas).
const managedTableDDL = `CREATE TABLE keel.managed_schemas (
  name  text PRIMARY KEY,
  since timestamptz NOT NULL DEFAULT now()
)`

// ManagedTable lists the schemas keel manages in the database: the ones
// its applies brought to a desired state, until one drops them.
const ManagedTable = plan.KeelSchema + ".managed_schemas"

// ReadHistoryStatus reads the status of keel's history on the connection's
// database.
func ReadHistoryStatus(ctx context.Context, q querier) (HistoryStatus, error) {
	var s HistoryStatus
	err := q.QueryRow(ctx, `
SELECT n.oid IS NOT NULL, t.oid IS NOT NULL,
       EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
               WHERE conrelid = t.oid AND conname = 'history_outcome_check'
                 AND pg_catalog.pg_get_constraintdef(oid) LIKE '%''running''%'),
       has_database_privilege(current_database(), 'CREATE'),
       coalesce(has_schema_privilege(n.oid, 'USAGE'), false),
       coalesce(has_schema_privilege(n.oid, 'CREATE'), false),
       coalesce(has_table_privilege(t.oid, 'SELECT') AND has_table_privilege(t.oid, 'INSERT'), false),
       coalesce(pg_has_role(t.relowner, 'USAGE'), false),
       m.oid IS NOT NULL,
       coalesce(has_table_privilege(m.oid, 'SELECT') AND has_table_privilege(m.oid, 'INSERT') AND has_table_privilege(m.oid, 'DELETE'), false)
FROM (SELECT 1) one
LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = $1
LEFT JOIN pg_catalog.pg_class t ON t.relnamespace = n.oid AND t.relname = 'history'
LEFT JOIN pg_catalog.pg_class m ON m.relnamespace = n.oid AND m.relname = 'managed_schemas'`, plan.KeelSchema).Scan(
		&s.SchemaExists, &s.TableExists, &s.Current, &s.CreateSchema, &s.UseSchema, &s.CreateInSchema, &s.ReadWrite, &s.OwnTable,
		&s.ManagedExists, &s.ManagedReadWrite)
	if err != nil {
		return s, fmt.Errorf("reading keel's history table %s: %w", HistoryTable, pg.ServerError(err))
	}
	return s, nil
}

// Missing are the statements that create what is missing: the schema, the
// table, or the outcome "running" in an older table. Nothing that exists
// is created again, so a role that may use the schema keel but not create
// one in the database can apply.
func (s HistoryStatus) Missing() []string {
	var stmts []string
	if !s.SchemaExists {
		stmts = append(stmts, "CREATE SCHEMA "+plan.KeelSchema)
	}
	switch {
	case !s.TableExists:
		stmts = append(stmts, historyTableDDL,
			"COMMENT ON TABLE keel.history IS 'One row per keel apply: what ran, from which state, who approved it, how it ended.'")
	case !s.Current:
		stmts = append(stmts, "ALTER TABLE keel.history DROP CONSTRAINT IF EXISTS history_outcome_check, "+
			"ADD CONSTRAINT history_outcome_check CHECK (outcome IN ('applied', 'failed', 'running'))")
	}
	if !s.ManagedExists {
		stmts = append(stmts, managedTableDDL,
			"COMMENT ON TABLE keel.managed_schemas IS 'The schemas keel manages here: a managed schema that leaves the desired state is dropped by the next plan.'")
	}
	return stmts
}

// recordManaged records, in the plan's transaction, the schemas it brought
// to the desired state as managed, and forgets those it dropped.
func recordManaged(ctx context.Context, q querier, p *plan.Plan) error {
	if _, err := q.Exec(ctx, "INSERT INTO keel.managed_schemas (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING", p.Schemas); err != nil {
		return fmt.Errorf("recording the managed schemas in %s: %w", ManagedTable, pg.ServerError(err))
	}
	if len(p.DropSchemas) > 0 {
		if _, err := q.Exec(ctx, "DELETE FROM keel.managed_schemas WHERE name = ANY($1)", p.DropSchemas); err != nil {
			return fmt.Errorf("recording the dropped schemas in %s: %w", ManagedTable, pg.ServerError(err))
		}
	}
	return nil
}

// Problem says what keeps the role from recording an apply, and the fix;
// "" when nothing does.
func (s HistoryStatus) Problem(role, database string) (problem, fix string) {
	r := pgsql.QuoteIdent(role)
	switch {
	case !s.SchemaExists && !s.CreateSchema:
		return fmt.Sprintf("schema %s, where keel records what it applied, does not exist, and role %q lacks CREATE on database %q to create it", plan.KeelSchema, role, database),
			fmt.Sprintf("as the database's owner or a superuser: CREATE SCHEMA %s AUTHORIZATION %s (or GRANT CREATE ON DATABASE %s TO %s)",
				plan.KeelSchema, r, pgsql.QuoteIdent(database), r)
	case !s.SchemaExists:
		return "", ""
	case !s.UseSchema:
		return fmt.Sprintf("role %q lacks USAGE on schema %s, where keel records what it applied", role, plan.KeelSchema),
			fmt.Sprintf("as the schema's owner or a superuser: GRANT USAGE, CREATE ON SCHEMA %s TO %s", plan.KeelSchema, r)
	case !s.TableExists && !s.CreateInSchema:
		return fmt.Sprintf("%s does not exist yet, and role %q lacks CREATE on schema %s to create it", HistoryTable, role, plan.KeelSchema),
			fmt.Sprintf("as the schema's owner or a superuser: GRANT CREATE ON SCHEMA %s TO %s", plan.KeelSchema, r)
	case s.TableExists && !s.ReadWrite:
		return fmt.Sprintf("role %q may not read and insert into %s", role, HistoryTable),
			fmt.Sprintf("as the table's owner or a superuser: GRANT SELECT, INSERT ON %s TO %s", HistoryTable, r)
	case !s.ManagedExists && !s.CreateInSchema:
		return fmt.Sprintf("%s, where keel records the schemas it manages, does not exist yet, and role %q lacks CREATE on schema %s to create it", ManagedTable, role, plan.KeelSchema),
			fmt.Sprintf("as the schema's owner or a superuser: GRANT CREATE ON SCHEMA %s TO %s", plan.KeelSchema, r)
	case s.ManagedExists && !s.ManagedReadWrite:
		return fmt.Sprintf("role %q may not read, insert into and delete from %s", role, ManagedTable),
			fmt.Sprintf("as the table's owner or a superuser: GRANT SELECT, INSERT, DELETE ON %s TO %s", ManagedTable, r)
	case s.TableExists && !s.Current && !s.OwnTable:
		return fmt.Sprintf("%s was made by an older keel and needs its outcome check widened, which only its owner may do", HistoryTable),
			fmt.Sprintf("as the table's owner: ALTER TABLE %s DROP CONSTRAINT history_outcome_check, ADD CONSTRAINT history_outcome_check CHECK (outcome IN ('applied', 'failed', 'running'))", HistoryTable)
	}
	return "", ""
}

// ensureHistory creates what is missing of keel's history (see Missing).
func ensureHistory(ctx context.Context, q querier) error {
	s, err := ReadHistoryStatus(ctx, q)
	if err != nil {
		return err
	}
	for _, st := range s.Missing() {
		if _, err := q.Exec(ctx, st); err != nil {
			return fmt.Errorf("creating keel's history table keel.history: %w", pg.ServerError(err))
		}
	}
	return nil
}

// Adopt makes keel's schema in a database keel never applied, which an
// apply found matching the desired state p was planned for: keel.history
// and keel.managed_schemas, as the first apply's transaction makes them,
// with p's schemas recorded as managed, in a transaction of its own. The
// normalized state can then be kept there (planner.Keep), for the next plan
// on a runner whose cache is empty. made is false, with no error, when
// schema keel exists. When the role may not make them, the error says what
// to grant, and nothing was made.
func (s *Session) Adopt(ctx context.Context, p *plan.Plan) (made bool, err error) {
	conn := s.c.Pgx()
	st, err := ReadHistoryStatus(ctx, conn)
	if err != nil || st.SchemaExists {
		return false, err
	}
	var role, database string
	if err := conn.QueryRow(ctx, "SELECT current_user, current_database()").Scan(&role, &database); err != nil {
		return false, fmt.Errorf("making schema %s: %w", plan.KeelSchema, pg.ServerError(err))
	}
	if problem, fix := st.Problem(role, database); problem != "" {
		return false, fmt.Errorf("%s; fix: %s", problem, fix)
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := ensureHistory(ctx, tx); err != nil {
			return err
		}
		return recordManaged(ctx, tx, p)
	})
	if err != nil {
		return false, fmt.Errorf("making schema %s: %w", plan.KeelSchema, err)
	}
	return true, nil
}

// hasHistory reports whether keel.history exists.
func hasHistory(ctx context.Context, q querier) (bool, error) {
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass('keel.history') IS NOT NULL").Scan(&exists); err != nil {
		return false, fmt.Errorf("reading keel.history: %w", pg.ServerError(err))
	}
	return exists, nil
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
	if exists, err := hasHistory(ctx, q); err != nil || !exists {
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
func History(ctx context.Context, conn *pg.Conn, n int) ([]HistoryEntry, error) {
	if exists, err := hasHistory(ctx, conn.Pgx()); err != nil || !exists {
		return nil, err
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
