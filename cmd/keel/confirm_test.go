package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/plan"
)

// In an env that applies at once, a plan with a danger hazard (a table with
// rows dropped) does not run without a person's yes: without a terminal it
// needs --auto-approve, and nothing changes until then.
func TestDangerNeedsConfirmationInAutoEnv(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, "CREATE TABLE legacy (id int)", "INSERT INTO legacy VALUES (1)")
	desired := writeFile(t, "schema.hcl", "schema \"public\" {}\n")
	code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", desired)
	if code != exitPolicy || !strings.Contains(errs, "1 danger hazard (data-loss table public.legacy)") || !strings.Contains(errs, "--auto-approve") {
		t.Fatalf("apply without a terminal: exit %d, want %d and the hazard named:\n%s%s", code, exitPolicy, out, errs)
	}
	if !tableExists(t, u, "public.legacy") {
		t.Fatal("legacy was dropped without confirmation")
	}
	if code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", desired, "--auto-approve"); code != 0 || tableExists(t, u, "public.legacy") {
		t.Fatalf("apply --auto-approve: exit %d:\n%s%s", code, out, errs)
	}
}

// At a terminal, the plan is shown and only "yes" applies it.
func TestConfirmationAtATerminal(t *testing.T) {
	t.Parallel()
	rows := int64(3)
	p := &plan.Plan{Steps: []plan.Step{{SQL: `DROP TABLE "public"."legacy"`, Action: plan.ActionDrop, Object: "table public.legacy", Transactional: true,
		Hazards: []plan.Hazard{{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: "table public.legacy", Message: "drops the table", Rows: &rows}}}}}
	for answer, ok := range map[string]bool{"yes\n": true, "y\n": false, "\n": false, "": false, "YES please\n": false} {
		var out bytes.Buffer
		err := (&applyCmd{}).confirm(p, &streams{out: &out, err: &out, in: strings.NewReader(answer), terminal: true})
		var re *plan.RefusedError
		if ok != (err == nil) || !ok && !errors.As(err, &re) {
			t.Errorf("answer %q: err = %v", answer, err)
		}
		if !strings.Contains(out.String(), `DROP TABLE "public"."legacy"`) || !strings.Contains(out.String(), `Only "yes" applies`) {
			t.Errorf("answer %q: the plan and the question are not shown:\n%s", answer, out.String())
		}
	}
	// --auto-approve does not ask.
	var out bytes.Buffer
	if err := (&applyCmd{AutoApprove: true}).confirm(p, &streams{out: &out, in: strings.NewReader(""), terminal: true}); err != nil || out.Len() > 0 {
		t.Errorf("--auto-approve: err %v, printed %q", err, out.String())
	}
}
