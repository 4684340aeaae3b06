package planner

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// StepError is a statement of a plan that failed. The plan's transaction was
// rolled back: nothing of the plan remains.
type StepError struct {
	// Index is the 1-based position of the statement in the plan.
	Index, Total int
	Step         Step
	// Code is the SQLSTATE, when the server answered with one.
	Code string
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("statement %d of %d failed, the transaction was rolled back and nothing was changed:\n  %s\n%s",
		e.Index, e.Total, e.Step.SQL, pgError(e.Err))
}

func (e *StepError) Unwrap() error { return e.Err }

// pgError formats a server error with its SQLSTATE, detail and hint.
func pgError(err error) error {
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

// Apply executes the plan's statements in order in one transaction on the
// target. Before each statement, progress (if not nil) is called with its
// 1-based position. On the first error the transaction is rolled back and a
// *StepError is returned.
func Apply(ctx context.Context, target *DB, p *Plan, progress func(i int, s Step)) error {
	if p.Empty() {
		return nil
	}
	conn, err := target.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("starting the transaction on %s: %w", target, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for i, s := range p.Steps {
		if progress != nil {
			progress(i+1, s)
		}
		if _, err := tx.Exec(ctx, s.SQL); err != nil {
			se := &StepError{Index: i + 1, Total: len(p.Steps), Step: s, Err: err}
			var pe *pgconn.PgError
			if errors.As(err, &pe) {
				se.Code = pe.Code
			}
			return se
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing the plan on %s: %w", target, pgError(err))
	}
	return nil
}
