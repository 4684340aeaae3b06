package corpus

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"keel/planner/plan"

	"github.com/jackc/pgx/v5"
)

// managedKinds are the pg_dump entry types of objects keel manages.
var managedKinds = map[string]bool{
	"SCHEMA": true, "EXTENSION": true, "COMMENT": true, "TYPE": true, "TABLE": true, "DEFAULT": true,
	"CONSTRAINT": true, "FK CONSTRAINT": true, "INDEX": true, "SEQUENCE": true, "SEQUENCE OWNED BY": true,
	"TABLE ATTACH": true, "INDEX ATTACH": true, "CHECK CONSTRAINT": true,
	"VIEW": true, "MATERIALIZED VIEW": true, "FUNCTION": true, "PROCEDURE": true, "TRIGGER": true,
	"POLICY": true, "ROW SECURITY": true, "DOMAIN": true, "COLLATION": true, "STATISTICS": true, "ACL": true,
}

// sortedOptions sorts the storage parameters of a table's WITH (...) line:
// PostgreSQL keeps them in the order they were set, which means nothing.
func sortedOptions(line string) string {
	opts, ok := strings.CutPrefix(line, "WITH (")
	if !ok {
		return line
	}
	opts, end, ok := strings.Cut(opts, ")")
	if !ok || strings.Count(opts, "'")%2 != 0 {
		return line
	}
	list := strings.Split(opts, ", ")
	sort.Strings(list)
	return "WITH (" + strings.Join(list, ", ") + ")" + end
}

// entry is one object of a `pg_dump -s` script.
type entry struct {
	kind, schema, name string
	body               string
}

func (e entry) String() string {
	if e.schema == "" || e.schema == "-" {
		return e.kind + " " + e.name
	}
	return e.kind + " " + e.schema + "." + e.name
}

// managed reports whether keel manages the entry's object.
func (e entry) managed(notManaged map[string]bool) bool {
	// A view pg_dump prints as a table and its _RETURN rule (to break a
	// loop of dependencies) is a view.
	view := e.kind == "RULE" && strings.HasSuffix(e.name, " _RETURN")
	return (managedKinds[e.kind] || view) && !notManaged[e.schema+"."+e.name]
}

// dumpScope returns the pg_dump options that restrict a dump to the compared schemas.
func dumpScope(schemas []string, exclude string, only bool) []string {
	var args []string
	if only {
		for _, s := range schemas {
			args = append(args, "-n", s)
		}
	}
	if exclude != "" {
		args = append(args, "-N", exclude)
	}
	// keel's own schema (its apply history) is on A only.
	return append(args, "-N", plan.KeelSchema)
}

// dump runs `pg_dump -s -O` and splits its output into entries, keyed by
// "kind schema.name". Comment lines, SET lines and \restrict tokens are
// dropped; the lines of an entry are sorted, so that tables compare equal up
// to column order.
func dump(dbURL string, scope []string) (map[string]entry, error) {
	var out, errb bytes.Buffer
	cmd := exec.Command("pg_dump", append([]string{"-s", "-O", "-d", dbURL}, scope...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pg_dump (from the postgresql-client package, at least the server's version): %v: %s", err, errb.String())
	}
	entries := make(map[string]entry)
	var (
		cur   *entry
		lines []string
	)
	flush := func() {
		if cur != nil {
			sort.Strings(lines)
			cur.body = strings.Join(lines, "\n")
			entries[cur.String()] = *cur
		}
		lines = nil
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if h, ok := strings.CutPrefix(l, "-- Name: "); ok {
			flush()
			cur = &entry{}
			for i, f := range strings.Split(h, "; ") {
				v := f
				if i > 0 {
					_, v, _ = strings.Cut(f, ": ")
				}
				switch i {
				case 0:
					cur.name = v
				case 1:
					cur.kind = v
				case 2:
					cur.schema = v
				}
			}
			continue
		}
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "--") || strings.HasPrefix(t, "SET ") || strings.HasPrefix(t, `\restrict`) ||
			strings.HasPrefix(t, `\unrestrict`) || strings.HasPrefix(t, "SELECT pg_catalog.set_config") {
			continue
		}
		lines = append(lines, sortedOptions(strings.TrimSuffix(t, ",")))
	}
	flush()
	return entries, nil
}

// compare lists the entries that differ between two dumps, split into those
// of objects keel manages and the others.
func compare(got, want map[string]entry, notManaged map[string]bool) (managed, unmanaged []string) {
	keys := make(map[string]entry)
	for k, e := range got {
		keys[k] = e
	}
	for k, e := range want {
		keys[k] = e
	}
	for k, e := range keys {
		g, gok := got[k]
		w, wok := want[k]
		if gok && wok && g.body == w.body {
			continue
		}
		if e.managed(notManaged) {
			managed = append(managed, k)
		} else {
			unmanaged = append(unmanaged, k)
		}
	}
	sort.Strings(managed)
	sort.Strings(unmanaged)
	return shorten(managed), shorten(unmanaged)
}

// changedUnmanaged lists the objects keel does not manage that were in A
// before the plan and are gone or different after it.
// Objects the plan announced it drops with their tables (a hazard names
// them, or the table's own drop step) are not counted.
func changedUnmanaged(before, after map[string]entry, notManaged map[string]bool, p *plan.Plan) []string {
	announced := make(map[string]bool)
	for _, st := range p.Steps {
		if st.Action == plan.ActionDrop {
			announced[st.Object] = true
		}
		for _, h := range st.Hazards {
			announced[h.Object] = true
		}
	}
	var changed []string
	for k, e := range before {
		if e.managed(notManaged) {
			continue
		}
		switch e.kind {
		case "POLICY", "TRIGGER", "RULE":
			// pg_dump names them "table name".
			if announced[strings.ToLower(e.kind)+" "+e.schema+"."+strings.Replace(e.name, " ", ".", 1)] {
				continue
			}
		case "ROW SECURITY":
			if announced["table "+e.schema+"."+e.name] {
				continue
			}
		}
		if a, ok := after[k]; !ok || a.body != e.body {
			changed = append(changed, k)
		}
	}
	sort.Strings(changed)
	return shorten(changed)
}

func shorten(list []string) []string {
	if len(list) > 6 {
		return append(list[:6:6], fmt.Sprintf("and %d more", len(list)-6))
	}
	return list
}

const userTablesQuery = `
SELECT format('%I.%I', n.nspname, c.relname)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('information_schema') AND n.nspname NOT LIKE 'pg\_%'`

// rowCounts returns the tables of the database that hold rows, with their counts.
func rowCounts(t *testing.T, dbURL string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, userTablesQuery)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	counts := make(map[string]int64)
	for _, tbl := range tables {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			counts[tbl] = n
		}
	}
	return counts
}

// lostRows says which tables of before lost rows, or "".
func lostRows(t *testing.T, dbURL string, before map[string]int64) string {
	t.Helper()
	after := rowCounts(t, dbURL)
	var lost []string
	for tbl, n := range before {
		if after[tbl] < n {
			lost = append(lost, fmt.Sprintf("%s had %d rows, has %d", tbl, n, after[tbl]))
		}
	}
	sort.Strings(lost)
	return strings.Join(lost, "; ")
}

// corpusIntro heads docs/corpus.md.
const corpusIntro = `# keel on the schema-diff corpus

Generated by ` + "`go test ./corpus -run TestCorpus -corpus ../shared/corpus`" + ` (scripts/test.sh runs it);
do not edit. For each case of ` + "`../shared/corpus`" + ` (migra's fixtures), ` + "`a.sql`" + ` is loaded into a fresh
database A and ` + "`b.sql`" + ` into B; keel plans A towards B (` + "`--schema`" + ` B's URL), applies, and re-plans.
`

// writeReport writes the results as a Markdown table with counts.
func writeReport(path, intro string, outcomes []outcome, known map[string]string) error {
	counts := make(map[Result]int)
	for _, o := range outcomes {
		counts[o.result]++
	}
	var b strings.Builder
	b.WriteString(intro + "\n")
	b.WriteString("- **converged**: the re-plan is empty and `pg_dump -s -O` of A and B are equal up to column order.\n")
	b.WriteString("- **not managed**: the re-plan is empty and everything keel manages is equal; what differs are objects\n")
	b.WriteString("  keel does not manage (aggregates, rules, range types, foreign tables, ...), which the plan\n")
	b.WriteString("  listed and left alone; no data was lost.\n")
	b.WriteString("- **refused**: keel refused with the reason shown (the plan could not be made, it listed differences\n")
	b.WriteString("  keel cannot plan, or the apply was rolled back) and A's dump is exactly as before; each is\n")
	b.WriteString("  explained in the test.\n")
	b.WriteString("- **silent**: anything else (the apply succeeded and A is not B, data was lost, an object keel does\n")
	b.WriteString("  not manage changed, or a refusal left A changed). The test fails on any.\n\n")
	fmt.Fprintf(&b, "Counts (%d cases): %d converged, %d not managed, %d refused, %d silent.\n\n",
		len(outcomes), counts[Converged], counts[NotManaged], counts[Refused], counts[Silent])
	b.WriteString("| case | result | reason |\n| --- | --- | --- |\n")
	for _, o := range outcomes {
		reason := o.reason
		if k, ok := known[o.name]; ok && o.result == Refused {
			reason = k + " Observed: " + reason
		}
		name := o.name
		if o.about != "" {
			name += ": " + o.about
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, o.result, strings.ReplaceAll(reason, "|", `\|`))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
