package render

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"keel/planner/plan"
)

// MarkdownLimit is the most bytes Markdown writes by default: below GitHub's
// limit for a comment (65,536 characters), with room for the lines a CI job
// adds around the plan (a marker, a link to the run).
const MarkdownLimit = 60000

// MarkdownFoldLines is the length of the SQL block, in lines, beyond which
// it is folded in a <details> element.
const MarkdownFoldLines = 40

// MarkdownOptions shape the pull-request comment.
type MarkdownOptions struct {
	// Env is the environment the plan was made for, named in the title.
	Env string
	// ShowTarget shows the target's host, port and user; by default the
	// comment names only the database, as a comment may be public.
	ShowTarget bool
	// Limit is the most bytes to write (MarkdownLimit when 0): beyond it the
	// mildest hazards, the last statements and the lists of objects keel
	// does not manage are left out, with a note saying how many.
	Limit int
	// FullPlan says where the whole plan is, for the note when something is
	// left out; by default the plan file and `keel plan`.
	FullPlan string
}

// Markdown writes the plan as a pull-request comment with the default
// options: see MarkdownWith.
func Markdown(w io.Writer, p *plan.Plan) error { return MarkdownWith(w, p, MarkdownOptions{}) }

// MarkdownWith writes the plan as a pull-request comment: a title with the
// env and the summary, the database and timeouts, the hazards (danger
// first), the SQL (folded when long), the differences keel cannot plan and
// the objects it does not manage. It stays within o.Limit bytes.
func MarkdownWith(w io.Writer, p *plan.Plan, o MarkdownOptions) error {
	limit := o.Limit
	if limit <= 0 {
		limit = MarkdownLimit
	}
	if o.FullPlan == "" {
		o.FullPlan = "the plan file (`keel plan --out`; in CI, the job's artifact), or `keel plan"
		if o.Env != "" {
			o.FullPlan += " --env " + o.Env
		}
		o.FullPlan += "`"
	}
	head := mdHead(p, o)
	hazards, sql, unplanned := mdHazards(p), mdSQL(p), mdUnplanned(p)
	notManaged := mdObjects("Not managed by keel, left as they are", p.NotManaged)
	desiredNotManaged := mdObjects("In the desired state but not managed by keel, not created", p.DesiredNotManaged)
	sections := []*mdSection{hazards, mdAllowed(p), sql, unplanned, notManaged, desiredNotManaged}
	// What gives way first when the comment is too long.
	shrink := []*mdSection{desiredNotManaged, notManaged, sql, unplanned, hazards}
	render := func() string {
		var b strings.Builder
		b.WriteString(head)
		for _, s := range sections {
			b.WriteString(s.render(s.items[:s.keep], len(s.items)-s.keep, o.FullPlan))
		}
		return b.String()
	}
	out := render()
	// fit leaves out s's last items until the comment is within limit or,
	// when most >= 0, until s's shown items are within most bytes.
	fit := func(s *mdSection, most int) {
		for s.keep > 0 {
			over := len(out) - limit
			if most >= 0 {
				over = s.size() - most
			}
			if over <= 0 {
				return
			}
			// Leave out at least what is over, and a line for the note.
			for over += 200; over > 0 && s.keep > 0; {
				s.keep--
				over -= len(s.items[s.keep])
			}
			out = render()
		}
	}
	if len(out) > limit {
		// The lists of objects keel leaves alone give way first; then the
		// hazards (the mildest first: they are sorted danger first) keep
		// at most two thirds of the comment, so that some of the SQL shows.
		fit(desiredNotManaged, -1)
		fit(notManaged, -1)
		fit(hazards, limit*2/3)
	}
	for _, s := range shrink {
		fit(s, -1)
	}
	if len(out) > limit {
		out = head + fmt.Sprintf("\n_The plan is too long to show here (%d statements): see %s._\n", len(p.Steps), o.FullPlan)
	}
	_, err := io.WriteString(w, out)
	return err
}

// mdSection is a part of the comment made of items, of which the first
// keep are shown.
type mdSection struct {
	items []string
	keep  int
	// render writes the section with items and a note on the omitted ones.
	render func(items []string, omitted int, fullPlan string) string
}

// size is the length of the shown items.
func (s *mdSection) size() int {
	n := 0
	for _, it := range s.items[:s.keep] {
		n += len(it)
	}
	return n
}

func newSection(items []string, render func([]string, int, string) string) *mdSection {
	return &mdSection{items: items, keep: len(items), render: render}
}

// mdHead is the title and the line on the target: never left out.
func mdHead(p *plan.Plan, o MarkdownOptions) string {
	var b strings.Builder
	title := "### keel plan"
	if o.Env != "" {
		title += " for " + mdCode(o.Env)
	}
	db := "database " + mdCode(p.Target.Database)
	if p.Engine != "" {
		title += " (planned by " + mdCode(p.Engine) + ")"
	}
	if o.ShowTarget {
		db += fmt.Sprintf(" on %s as %s", mdCode(fmt.Sprintf("%s:%d", p.Target.Host, p.Target.Port)), mdCode(p.Target.User))
	}
	switch {
	case p.Matches():
		fmt.Fprintf(&b, "%s: no changes\n\nThe %s matches the desired state (schemas: %s).\n", title, db, mdEscape(schemaList(p.Schemas)))
		if note := p.MatchNote(); note != "" {
			fmt.Fprintf(&b, "\n%s.\n", mdEscape(note))
		}
	case p.Empty():
		fmt.Fprintf(&b, "%s: differences keel cannot plan\n\nThe %s does not match the desired state (schemas: %s).\n", title, db, mdEscape(schemaList(p.Schemas)))
	default:
		fmt.Fprintf(&b, "%s: %s\n\n", title, p.Summary())
		after := 0
		for _, s := range p.Steps {
			if !s.Transactional {
				after++
			}
		}
		stmts := plural(len(p.Steps), "statement") + " in one transaction"
		if after > 0 {
			stmts = fmt.Sprintf("%s: %d in one transaction, %d after it", plural(len(p.Steps), "statement"), len(p.Steps)-after, after)
		}
		fmt.Fprintf(&b, "The %s · schemas: %s · %s.\n\n%s\n", db, mdEscape(schemaList(p.Schemas)), stmts, timeoutsLine(p))
	}
	if note := p.TargetNote(); note != "" {
		fmt.Fprintf(&b, "\n%s.\n", mdEscape(note))
	}
	if note := p.DesiredNote(); note != "" {
		fmt.Fprintf(&b, "\n%s.\n", mdEscape(note))
	}
	return b.String()
}

// severityRank orders severities, danger first.
func severityRank(s plan.Severity) int {
	switch s {
	case plan.SeverityDanger:
		return 0
	case plan.SeverityWarning:
		return 1
	case plan.SeverityInfo:
		return 2
	}
	return 3
}

// mdHazards is the hazards table, danger first, then in step order.
func mdHazards(p *plan.Plan) *mdSection {
	type row struct {
		step int
		h    plan.Hazard
	}
	var rows []row
	for i, s := range p.Steps {
		for _, h := range s.Hazards {
			rows = append(rows, row{i + 1, h})
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int { return severityRank(a.h.Severity) - severityRank(b.h.Severity) })
	items := make([]string, len(rows))
	severities := make([]plan.Severity, len(rows))
	for i, r := range rows {
		sev := string(r.h.Severity)
		if r.h.Severity == plan.SeverityDanger {
			sev = "**danger**"
		}
		items[i] = fmt.Sprintf("| %s | `%s` | %d | %s | %s | %s |\n", sev, r.h.Code, r.step, mdEscape(mdCode(r.h.Object)), mdEscape(r.h.Message), strings.Trim(sizeNote(r.h), " ()"))
		severities[i] = r.h.Severity
	}
	return newSection(items, func(shown []string, omitted int, fullPlan string) string {
		if len(p.Steps) == 0 {
			return ""
		}
		if len(items) == 0 {
			return "\nNo hazards.\n"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "\n**Hazards**: %s.\n\n", severityCounts(severities))
		if len(shown) > 0 {
			b.WriteString("| Severity | Hazard | Step | Object | Why | Table size |\n| --- | --- | --- | --- | --- | --- |\n")
			b.WriteString(strings.Join(shown, ""))
		}
		if omitted > 0 {
			fmt.Fprintf(&b, "\n_%d of %d hazards (%s) are left out to keep this comment under GitHub's limit: see %s._\n",
				omitted, len(items), severityCounts(severities[len(shown):]), fullPlan)
		}
		return b.String()
	})
}

// severityCounts counts hazards by severity, danger first: "1 danger, 2 info".
func severityCounts(sevs []plan.Severity) string {
	counts := map[plan.Severity]int{}
	for _, s := range sevs {
		counts[s]++
	}
	var parts []string
	for _, s := range []plan.Severity{plan.SeverityDanger, plan.SeverityWarning, plan.SeverityInfo} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

func mdAllowed(p *plan.Plan) *mdSection {
	return newSection(nil, func([]string, int, string) string {
		if len(p.Allowed) == 0 {
			return ""
		}
		return fmt.Sprintf("\nAllowed by the planner (`--allow-hazard`): %s\n", joinCodes(p.Allowed))
	})
}

// mdSQL is the statements in a sql block, folded when long.
func mdSQL(p *plan.Plan) *mdSection {
	items := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		var b strings.Builder
		if !s.Transactional && (i == 0 || p.Steps[i-1].Transactional) {
			b.WriteString("-- After the transaction commits, one at a time:\n")
		}
		fmt.Fprintf(&b, "-- %d/%d: %s\n%s;\n", i+1, len(p.Steps), plan.OneLine(s.Comment), s.SQL)
		items[i] = b.String()
	}
	return newSection(items, func(shown []string, omitted int, fullPlan string) string {
		if len(items) == 0 {
			return ""
		}
		var b strings.Builder
		sql := strings.Join(shown, "")
		if len(shown) > 0 {
			lines := strings.Count(sql, "\n")
			fence := mdFence(sql)
			block := fence + "sql\n" + sql + fence + "\n"
			if lines > MarkdownFoldLines || omitted > 0 {
				fmt.Fprintf(&b, "\n<details><summary>SQL: %s (%d lines)</summary>\n\n%s\n</details>\n", statementCount(len(shown), omitted), lines, block)
			} else {
				b.WriteString("\n" + block)
			}
		}
		if omitted > 0 {
			fmt.Fprintf(&b, "\n_%d of %d statements are left out to keep this comment under GitHub's limit: see %s._\n", omitted, len(items), fullPlan)
		}
		return b.String()
	})
}

// plural is "1 statement", "2 statements".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func statementCount(shown, omitted int) string {
	if omitted > 0 {
		return fmt.Sprintf("statements 1 to %d of %d", shown, shown+omitted)
	}
	return plural(shown, "statement")
}

// mdUnplanned is the table of differences keel cannot plan.
func mdUnplanned(p *plan.Plan) *mdSection {
	items := make([]string, len(p.Unplanned))
	for i, d := range p.Unplanned {
		items[i] = fmt.Sprintf("| %s | %s | %s | %s |\n", mdEscape(mdCode(d.Object)), mdEscape(mdCode(d.Desired)), mdEscape(mdCode(d.Live)), mdEscape(d.Why))
	}
	return newSection(items, func(shown []string, omitted int, fullPlan string) string {
		if len(items) == 0 {
			return ""
		}
		var b strings.Builder
		fmt.Fprintf(&b, "\n**Differences keel cannot plan (%d)**: PostgreSQL's catalog shows them, and no statement changes them.\n\n", len(items))
		if len(shown) > 0 {
			b.WriteString("| Object | Desired | Live | Why |\n| --- | --- | --- | --- |\n" + strings.Join(shown, ""))
		}
		if omitted > 0 {
			fmt.Fprintf(&b, "\n_%d of them are left out to keep this comment under GitHub's limit: see %s._\n", omitted, fullPlan)
		}
		b.WriteString("\n" + UnplannedAdvice + "\n")
		return b.String()
	})
}

// mdObjects lists objects keel leaves alone, folded.
func mdObjects(title string, objs []plan.Object) *mdSection {
	items := make([]string, len(objs))
	for i, o := range objs {
		if o.Detail != "" {
			items[i] = fmt.Sprintf("- %s %s (%s)\n", mdEscape(o.Kind), mdCode(o.Name), mdEscape(o.Detail))
		} else {
			items[i] = fmt.Sprintf("- %s %s\n", mdEscape(o.Kind), mdCode(o.Name))
		}
	}
	return newSection(items, func(shown []string, omitted int, fullPlan string) string {
		if len(items) == 0 {
			return ""
		}
		var b strings.Builder
		fmt.Fprintf(&b, "\n<details><summary>%s (%d)</summary>\n\n%s", title, len(items), strings.Join(shown, ""))
		if omitted > 0 {
			fmt.Fprintf(&b, "\n_%d of them are left out to keep this comment under GitHub's limit: see %s._\n", omitted, fullPlan)
		}
		b.WriteString("\n</details>\n")
		return b.String()
	})
}

// mdEscape makes s fit one cell of a markdown table.
func mdEscape(s string) string { return strings.ReplaceAll(plan.OneLine(s), "|", `\|`) }

// mdCode writes s as inline code, fenced with more backticks than it holds
// in a row, so that a name cannot end the code span and write markdown.
func mdCode(s string) string {
	s = plan.OneLine(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdFence is a code-block fence longer than any run of backticks in s.
func mdFence(s string) string {
	return strings.Repeat("`", max(3, longestRun(s, '`')+1))
}

func longestRun(s string, c rune) int {
	n, run := 0, 0
	for _, r := range s {
		if r == c {
			run++
			n = max(n, run)
		} else {
			run = 0
		}
	}
	return n
}
