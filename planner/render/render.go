// Package render writes a plan for people and tools: text for a terminal,
// a script that psql runs as keel apply would, the documented JSON, and
// markdown for a pull request. Renderers take a plan and a writer and return an error.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"keel/planner/plan"
)

// Formats are the plan renderings, by name: `keel plan --format NAME`.
var Formats = map[string]func(io.Writer, *plan.Plan) error{
	"text":     Text,
	"sql":      Script,
	"json":     JSON,
	"markdown": Markdown,
}

// Text writes the plan for a reader: target, timeouts, numbered
// statements with what each does and its hazards, a summary and the objects
// keel leaves alone.
func Text(w io.Writer, p *plan.Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for %s (schemas: %s)\n", p.Target, schemaList(p.Schemas))
	if p.Engine != "" {
		fmt.Fprintf(&b, "Planned by: %s (tables, enums and schemas), and keel\n", plan.OneLine(p.Engine))
	}
	if note := p.TargetNote(); note != "" {
		b.WriteString(note + ".\n")
	}
	if note := p.DesiredNote(); note != "" {
		b.WriteString(note + ".\n")
	}
	switch {
	case p.Matches():
		b.WriteString("\nNo changes: the database matches the desired state.\n")
		if note := p.MatchNote(); note != "" {
			b.WriteString(note + ".\n")
		}
	case p.Empty():
		b.WriteString("\nNo statements: the schema engine finds nothing to change, but the database does not match the desired state.\n")
	default:
		fmt.Fprintf(&b, "%s\n\n", timeoutsLine(p))
		for i, s := range p.Steps {
			if !s.Transactional && (i == 0 || p.Steps[i-1].Transactional) {
				b.WriteString("-- After the transaction commits, one at a time:\n\n")
			}
			fmt.Fprintf(&b, "-- %d/%d: %s (%s)\n", i+1, len(p.Steps), plan.OneLine(s.Comment), strings.TrimSpace(string(s.Action)+" "+plan.OneLine(s.Object)))
			for _, h := range s.Hazards {
				fmt.Fprintf(&b, "--   ! %s [%s] %s: %s%s\n", h.Code, h.Severity, plan.OneLine(h.Object), plan.OneLine(h.Message), sizeNote(h))
			}
			fmt.Fprintf(&b, "%s;\n\n", s.SQL)
		}
		fmt.Fprintf(&b, "Plan: %s%s.\n", p.Summary(), txNote(p))
		if hs := p.Hazards(); len(hs) > 0 {
			fmt.Fprintf(&b, "Hazards: %s.\n", hazardCounts(hs))
		}
		if len(p.Allowed) > 0 {
			fmt.Fprintf(&b, "Allowed by the planner (--allow-hazard): %s.\n", joinCodes(p.Allowed))
		}
	}
	if len(p.Unplanned) > 0 {
		fmt.Fprintf(&b, "\nDifferences keel cannot plan (%d): PostgreSQL's catalog shows them, and no statement above changes them.\n", len(p.Unplanned))
		for _, d := range p.Unplanned {
			fmt.Fprintf(&b, "  %s\n    desired: %s\n    live:    %s\n", plan.OneLine(d.Object), plan.OneLine(d.Desired), plan.OneLine(d.Live))
			if d.Why != "" {
				fmt.Fprintf(&b, "    why:     %s\n", plan.OneLine(d.Why))
			}
		}
		b.WriteString(UnplannedAdvice + "\n")
	}
	writeNotManaged(&b, "Not managed by keel, left as they are", p.NotManaged)
	writeNotManaged(&b, "In the desired state but not managed by keel, not created", p.DesiredNotManaged)
	_, err := io.WriteString(w, b.String())
	return err
}

// UnplannedAdvice says what to do about differences keel cannot plan.
const UnplannedAdvice = "keel does not apply this plan: change the desired state to match the database, or make the change in a reviewed migration by hand, then plan again."

// timeoutsLine states the timeouts the statements run with, as Apply sets them.
func timeoutsLine(p *plan.Plan) string {
	first := p.Steps[0]
	for _, s := range p.Steps {
		if s.LockTimeout != first.LockTimeout || s.StatementTimeout != first.StatementTimeout {
			return fmt.Sprintf("Statements run with their own timeouts (see each step); a lock timeout is retried %d times.", p.LockRetries)
		}
	}
	return fmt.Sprintf("Each statement runs with lock_timeout %s and statement_timeout %s; a lock timeout is retried %d times.",
		first.LockTimeout, first.StatementTimeout, p.LockRetries)
}

func txNote(p *plan.Plan) string {
	n := 0
	for _, s := range p.Steps {
		if !s.Transactional {
			n++
		}
	}
	if n == 0 {
		return ", in one transaction"
	}
	return fmt.Sprintf(", %d statements in one transaction and %d after it", len(p.Steps)-n, n)
}

func hazardCounts(hs []plan.Hazard) string {
	var order []plan.HazardCode
	counts := make(map[plan.HazardCode]int)
	for _, h := range hs {
		if counts[h.Code] == 0 {
			order = append(order, h.Code)
		}
		counts[h.Code]++
	}
	parts := make([]string, len(order))
	for i, c := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[c], c)
	}
	return strings.Join(parts, ", ")
}

func joinCodes(cs []plan.HazardCode) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

func sizeNote(h plan.Hazard) string {
	var parts []string
	if h.Rows != nil {
		rows := fmt.Sprintf("~%d rows", *h.Rows)
		switch {
		case h.RowsNote == "counted":
			rows = fmt.Sprintf("%d rows, counted", *h.Rows)
		case h.RowsNote != "":
			rows += ", " + h.RowsNote
		}
		parts = append(parts, rows)
	}
	if h.Bytes != nil {
		parts = append(parts, humanBytes(*h.Bytes))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func writeNotManaged(b *strings.Builder, title string, objs []plan.Object) {
	if len(objs) == 0 {
		return
	}
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = plan.OneLine(o.String())
	}
	fmt.Fprintf(b, "\n%s (%d): %s\n", title, len(objs), strings.Join(names, ", "))
}

// JSONFormat is the version of the `--format json` document.
const JSONFormat = 1

// jsonPlan is the `--format json` document: the plan value plus its summary.
type jsonPlan struct {
	Format  int `json:"format"`
	Summary struct {
		Create int `json:"create"`
		Alter  int `json:"alter"`
		Drop   int `json:"drop"`
	} `json:"summary"`
	Hazards []plan.Hazard `json:"hazards"`
	*plan.Plan
}

// JSON writes the plan as the documented JSON document.
func JSON(w io.Writer, p *plan.Plan) error {
	doc := jsonPlan{Format: JSONFormat, Plan: p, Hazards: p.Hazards()}
	s := p.Summary()
	doc.Summary.Create, doc.Summary.Alter, doc.Summary.Drop = s.Create, s.Alter, s.Drop
	if doc.Hazards == nil {
		doc.Hazards = []plan.Hazard{}
	}
	if p.Steps == nil {
		// An empty plan still has a steps array.
		cp := *p
		cp.Steps = []plan.Step{}
		doc.Plan = &cp
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// schemaList names schemas for display, each quoted when it is not plain.
func schemaList(schemas []string) string {
	names := make([]string, len(schemas))
	for i, s := range schemas {
		names[i] = plan.DisplayPart(s)
	}
	return strings.Join(names, ", ")
}
