package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"keel/planner/plan"
)

// Script writes what keel apply runs as a psql script (`keel plan --format
// sql`): `BEGIN;`, the transactional statements, each preceded by `SET LOCAL`
// lock_timeout and statement_timeout where they differ from the statement
// before, `COMMIT;`, then the statements that cannot run in a transaction
// block, one at a time under `SET` timeouts. It starts with `\set
// ON_ERROR_STOP on`, so that psql stops at the first error as apply does:
// a failed statement in the transaction leaves nothing of the plan, and the
// statements after it do not run. An empty plan writes nothing.
//
// What keel apply does besides the statements is not in the script: the
// apply lock, the check that the database is still in the state the plan
// was computed from, the retries after a lock timeout, the check of the
// result and the row in keel.history.
func Script(w io.Writer, p *plan.Plan) error {
	if p.Empty() {
		return nil
	}
	var tx, after []int
	for i, s := range p.Steps {
		if s.Transactional {
			tx = append(tx, i)
		} else {
			after = append(after, i)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- keel plan: %s%s.\n", p.Summary(), txNote(p))
	b.WriteString("-- The statements keel apply runs, with its timeouts; run with psql -f. keel apply also takes\n" +
		"-- the apply lock, refuses a stale plan, retries lock timeouts, checks the result and records\n" +
		"-- the apply in keel.history: this script does none of that.\n")
	b.WriteString("\\set ON_ERROR_STOP on\n")
	// writeSteps writes steps idx, setting the timeouts (SET scope) before
	// the first and before each whose timeouts differ from its predecessor's.
	writeSteps := func(idx []int, scope string) {
		var prev *plan.Step
		for _, i := range idx {
			s := &p.Steps[i]
			if prev == nil || s.LockTimeout != prev.LockTimeout || s.StatementTimeout != prev.StatementTimeout {
				fmt.Fprintf(&b, "SET %slock_timeout = %s;\nSET %sstatement_timeout = %s;\n",
					scope, pgDuration(s.LockTimeout), scope, pgDuration(s.StatementTimeout))
			}
			prev = s
			fmt.Fprintf(&b, "-- %d/%d: %s\n%s;\n", i+1, len(p.Steps), plan.OneLine(s.Comment), s.SQL)
		}
	}
	if len(tx) > 0 {
		b.WriteString("BEGIN;\n")
		writeSteps(tx, "LOCAL ")
		b.WriteString("COMMIT;\n")
	}
	if len(after) > 0 {
		b.WriteString("-- After the transaction commits, one at a time: these cannot run in a transaction block.\n")
		writeSteps(after, "")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SQL writes the statements alone, in plan order, each ending in a
// semicolon: a listing to read or search, not a script to run (that is
// Script). An empty plan writes nothing.
func SQL(w io.Writer, p *plan.Plan) error {
	var b strings.Builder
	for i, s := range p.Steps {
		if !s.Transactional && (i == 0 || p.Steps[i-1].Transactional) {
			b.WriteString("-- The statements below run outside a transaction block.\n")
		}
		fmt.Fprintf(&b, "%s;\n", s.SQL)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// pgDuration writes d as a PostgreSQL setting value, in the largest unit
// that holds it whole ('2s', '30min', '1500ms'); 0 turns the timeout off.
func pgDuration(d plan.Duration) string {
	ms := time.Duration(d).Milliseconds()
	switch {
	case ms == 0:
		return "0"
	case ms%(3600*1000) == 0:
		return fmt.Sprintf("'%dh'", ms/(3600*1000))
	case ms%(60*1000) == 0:
		return fmt.Sprintf("'%dmin'", ms/(60*1000))
	case ms%1000 == 0:
		return fmt.Sprintf("'%ds'", ms/1000)
	}
	return fmt.Sprintf("'%dms'", ms)
}
