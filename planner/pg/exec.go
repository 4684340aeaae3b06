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
