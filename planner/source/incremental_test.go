package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// chainHCL is a desired state of n tables, each with an identity key, an
// enum column with a default, a CHECK, a unique index and a foreign key to
// the table before it.
func chainHCL(n int) string {
	var b strings.Builder
	b.WriteString("schema \"public\" {}\nextension \"pg_trgm\" {\n  schema = schema.public\n}\nenum \"status\" {\n  schema = schema.public\n  values = [\"new\", \"open\", \"closed\"]\n}\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "table \"t%02d\" {\n  schema = schema.public\n  column \"id\" {\n    type = bigint\n    identity {\n      generated = BY_DEFAULT\n    }\n  }\n", i)
		b.WriteString("  column \"st\" {\n    type    = enum.status\n    default = \"new\"\n  }\n  column \"amount\" {\n    type = numeric(10,2)\n    null = true\n  }\n")
		if i > 0 {
			fmt.Fprintf(&b, "  column \"parent_id\" {\n    type = bigint\n    null = true\n  }\n  foreign_key \"t%02d_parent\" {\n    columns     = [column.parent_id]\n    ref_columns = [table.t%02d.column.id]\n    on_delete   = CASCADE\n  }\n", i, i-1)
		}
		fmt.Fprintf(&b, "  primary_key {\n    columns = [column.id]\n  }\n  index \"t%02d_amount\" {\n    unique  = true\n    columns = [column.amount]\n  }\n  check \"t%02d_amount_check\" {\n    expr = \"amount >= 0\"\n  }\n}\n", i, i)
	}
	return b.String()
}

// A desired state normalized from the cache's entry for its earlier form,
// only its changed tables loaded (normalizeChanged), is the state a whole
// normalization gives: the same fingerprint and the same catalog. Changes
// it does not apply to (an enum's values, a table that another references
// removed) are normalized whole.
func TestChangedTablesNormalizeAsTheWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := testConn(t)
	// A name that needs quoting in SQL, and a double quote in HCL.
	const hostile = "table \"we\\\"ird t\" {\n  schema = schema.public\n  column \"a\" {\n    type = int\n  }\n"
	orig := chainHCL(8) + hostile + "}\n"
	table := func(i int) string { return fmt.Sprintf("table \"t%02d\" {\n  schema = schema.public\n", i) }
	cases := []struct {
		name, hcl   string
		incremental bool
	}{
		{"a column added", strings.Replace(orig, table(4), table(4)+"  column \"note\" {\n    type = text\n    null = true\n  }\n", 1), true},
		{"a column's type changed", strings.Replace(orig, table(3)+"  column \"id\" {\n    type = bigint", table(3)+"  column \"id\" {\n    type = integer", 1), true},
		{"a table added, referencing another", orig + "table \"extra\" {\n  schema = schema.public\n  column \"t\" {\n    type = bigint\n  }\n" +
			"  foreign_key \"extra_t\" {\n    columns     = [column.t]\n    ref_columns = [table.t02.column.id]\n  }\n}\n", true},
		{"the last table removed", orig[:strings.Index(orig, table(7))], true},
		{"an index and a check changed", strings.Replace(strings.Replace(orig, "index \"t05_amount\" {\n    unique  = true", "index \"t05_amount\" {\n    unique  = false", 1),
			"check \"t05_amount_check\" {\n    expr = \"amount >= 0\"", "check \"t05_amount_check\" {\n    expr = \"amount > 1\"", 1), true},
		{"a table with a hostile name changed", strings.Replace(orig, hostile, hostile+"  column \"b\" {\n    type = text\n    null = true\n  }\n", 1), true},
		{"an enum's values changed", strings.Replace(orig, `"open", "closed"`, `"open", "done"`, 1), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "schema.hcl")
			write := func(s string) *HCL {
				t.Helper()
				if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
				h, err := OpenHCL(path)
				if err != nil {
					t.Fatal(err)
				}
				return h
			}
			cache := &Cache{Dir: t.TempDir()}
			dev, done, err := DevDatabase{Cache: cache}.Open(ctx, conn)
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			if _, err := write(orig).Load(ctx, dev); err != nil {
				t.Fatal(err)
			}
			h := write(c.hcl)
			base := cache.base(ctx, h, conn)
			if base == nil {
				t.Fatal("no base entry for the files")
			}
			got, err := normalizeChanged(ctx, dev, h, base)
			if !c.incremental {
				if err == nil {
					t.Fatal("normalized incrementally; want the whole normalization")
				}
				return
			}
			if err != nil {
				t.Fatalf("not normalized incrementally: %v", err)
			}
			plain, _, err := DevDatabase{}.Open(ctx, conn)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := write(c.hcl).Load(ctx, plain)
			if err != nil {
				t.Fatal(err)
			}
			gfp, err := got.Fingerprint()
			if err != nil {
				t.Fatal(err)
			}
			wfp, err := whole.Fingerprint()
			if err != nil {
				t.Fatal(err)
			}
			if gfp.Hash != wfp.Hash {
				t.Errorf("fingerprints differ: %v", wfp.Changes(gfp))
			}
			if !reflect.DeepEqual(got.Catalog, whole.Catalog) {
				for _, d := range got.Catalog.Differences(whole.Catalog) {
					t.Errorf("catalog: %s: incremental %q, whole %q", d.Key, d.Desired, d.Live)
				}
			}
			if !reflect.DeepEqual(got.Catalog.Fingerprint(), whole.Catalog.Fingerprint()) {
				t.Errorf("catalog fingerprints differ")
			}
		})
	}
}
