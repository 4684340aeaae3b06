package pg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"keel/internal/pgsql"
)

// ServerError formats a server error with its SQLSTATE, detail and hint.
func ServerError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	msg := fmt.Sprintf("%s: %s (SQLSTATE %s)", pe.Severity, pe.Message, pe.Code)
	if pe.Detail != "" {
		msg += "\nDETAIL: " + pe.Detail
	}
	if pe.Hint != "" {
		msg += "\nHINT: " + pe.Hint
	}
	return errors.New(msg)
}

// ExecStatement runs one statement of a plan or of a normalization. It must
// be exactly one statement, and it is sent with the extended query
// protocol, in which PostgreSQL refuses more than one: two checks that what
// runs is the statement that was shown.
func ExecStatement(ctx context.Context, conn *pgconn.PgConn, sql string) error {
	if err := pgsql.OneStatement(sql); err != nil {
		return fmt.Errorf("refusing to run a statement: %w:\n  %s", err, sql)
	}
	return conn.ExecParams(ctx, sql, nil, nil, nil, nil).Read().Err
}

// ExecStatements runs statements as ExecStatement does, each one statement
// with the extended protocol, but sent in pipelined groups: a few round
// trips instead of one per statement. The caller runs them in a
// transaction (a failed statement aborts it, and the server skips the rest
// of its group). It returns the index of the statement that failed, with
// its error.
func ExecStatements(ctx context.Context, conn *pgconn.PgConn, stmts []string) (int, error) {
	for i, s := range stmts {
		if err := pgsql.OneStatement(s); err != nil {
			return i, fmt.Errorf("refusing to run a statement: %w:\n  %s", err, s)
		}
	}
	// Groups small enough that neither side's buffers fill before the
	// results are read.
	const group = 64
	for start := 0; start < len(stmts); start += group {
		end := min(start+group, len(stmts))
		p := conn.StartPipeline(ctx)
		for _, s := range stmts[start:end] {
			p.SendQueryParams(s, nil, nil, nil, nil)
		}
		failed, ferr := -1, error(nil)
		err := p.Sync()
		for i := start; err == nil && failed < 0 && i < end; i++ {
			var res any
			if res, err = p.GetResults(); err != nil {
				// The server's error for statement i (it may come before
				// its result, in place of its parse or bind).
				var pe *pgconn.PgError
				if errors.As(err, &pe) {
					failed, ferr, err = i, err, nil
				}
				break
			}
			rr, ok := res.(*pgconn.ResultReader)
			if !ok {
				err = fmt.Errorf("pipeline: unexpected result %T", res)
				break
			}
			if _, rerr := rr.Close(); rerr != nil {
				// The server skips the rest of the group; Close reads
				// up to the Sync.
				failed, ferr = i, rerr
			}
		}
		if cerr := p.Close(); err == nil && failed < 0 && cerr != nil {
			err = cerr
		}
		if failed >= 0 {
			return failed, ferr
		}
		if err != nil {
			return start, err
		}
	}
	return -1, nil
}
