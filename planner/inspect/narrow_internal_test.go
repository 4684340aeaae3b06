package inspect

import (
	"strings"
	"testing"
)

// Each table query is narrowed to the changed tables where it selects
// them (all but the enums'), and the dependencies' query to their objects:
// a query left whole would still be right but slow, a query narrowed in
// the wrong place would read entries of other tables.
func TestQueriesAreNarrowed(t *testing.T) {
	queries, kinds := narrowedQueries()
	for i, q := range tableQueries {
		m := kindOfQuery.FindStringSubmatch(q)
		if m == nil {
			t.Fatalf("table query %d has no kind", i)
		}
		if m[1] == "enum" {
			if queries[i].query != "" {
				t.Fatal("the enums' query was narrowed to tables")
			}
			continue
		}
		if queries[i].query == "" || queries[i].kind != m[1] || !kinds[m[1]] {
			t.Errorf("the %s query is not narrowed to the changed tables", m[1])
		}
		if strings.Count(queries[i].query, "$2") != 1 {
			t.Errorf("the narrowed %s query does not name the tables once", m[1])
		}
	}
	if kinds["enum"] || len(kinds) != len(tableQueries)-1 {
		t.Fatalf("narrowed kinds: %v", kinds)
	}
	d := narrowedDepends()
	for _, want := range []string{"own AS (", "objid = ANY (ARRAY(SELECT oid FROM own))", "FROM deps dep",
		"u.objid = ANY (ARRAY(SELECT id FROM ids))", "CASE WHEN d.kind = 'table' THEN d.name ELSE d.tbl END"} {
		if !strings.Contains(d, want) {
			t.Errorf("the narrowed dependencies' query lacks %q", want)
		}
	}
}
