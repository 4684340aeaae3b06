package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"keel/planner/pg"
	"keel/planner/state"
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

// sameAsWhole fails t unless got, a state normalized from an entry of the
// files' earlier form, is the state a whole normalization of src (written
// to path) gives in a throwaway database: the same fingerprint and catalog.
func sameAsWhole(t *testing.T, conn *pg.Conn, path, src string, got *state.State) {
	t.Helper()
	plain, _, err := DevDatabase{NoScratch: true}.Open(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := writeHCLAt(t, path, src).Load(context.Background(), plain)
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
}

// writeHCLAt writes s to path and opens it.
func writeHCLAt(t *testing.T, path, s string) *HCL {
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

// A desired state normalized from the cache's entry for its earlier form,
// only its changed tables loaded (normalizeChanged), is the state a whole
// normalization gives: the same fingerprint and the same catalog. Changes
// it does not apply to (an enum's values, a table that another references
// removed) are normalized whole.
func TestChangedTablesNormalizeAsTheWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Scratch databases of its own: the package's may all be in use by
	// the tests running beside it.
	conn, scratchName := scratchServer(t)
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
			write := func(s string) *HCL { return writeHCLAt(t, path, s) }
			cache := &Cache{Dir: t.TempDir()}
			dev, done, err := DevDatabase{Cache: cache, Scratch: scratchName}.Open(ctx, conn)
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			if _, err := write(orig).Load(ctx, dev); err != nil {
				t.Fatal(err)
			}
			h := write(c.hcl)
			base := cache.read(ctx, cache.baseKey(ctx, h, conn), conn.Pgx())
			if base == nil {
				t.Fatal("no base entry for the files")
			}
			// The changed tables in a scratch database, the whole state
			// below in a throwaway one: both normalize alike.
			sc := dev.openScratch(ctx)
			if sc == nil {
				t.Fatal("no scratch database")
			}
			got, _, err := normalizeChanged(h, base, func(declared *state.State) (*state.State, error) {
				return sc.load(ctx, declared)
			})
			sc.close()
			if !c.incremental {
				if err == nil {
					t.Fatal("normalized incrementally; want the whole normalization")
				}
				return
			}
			if err != nil {
				t.Fatalf("not normalized incrementally: %v", err)
			}
			sameAsWhole(t, conn, path, c.hcl, got)
		})
	}
}

// Files whose bytes the cache holds under other paths (a copied file, another
// checkout, a cache restored on a CI runner) are answered from that entry,
// and their first change is normalized from it, only the changed table
// loaded, as at the paths the entry was made for: whether the plan of the
// copy loaded the entry, or a match record answered it (EntryKey, then
// PointLatest).
func TestCopiedFilesChangeIncrementally(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Scratch databases of its own: the package's may all be in use by
	// the tests running beside it.
	conn, scratchName := scratchServer(t)
	orig := chainHCL(6)
	for _, how := range []string{"loaded", "answered by a match record"} {
		t.Run(how, func(t *testing.T) {
			cache := &Cache{Dir: t.TempDir()}
			dev, done, err := DevDatabase{Cache: cache, Scratch: scratchName}.Open(ctx, conn)
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			if _, err := writeHCLAt(t, filepath.Join(t.TempDir(), "schema.hcl"), orig).Load(ctx, dev); err != nil {
				t.Fatal(err)
			}
			copied := filepath.Join(t.TempDir(), "schema.hcl")
			h := writeHCLAt(t, copied, orig)
			if how == "loaded" {
				if _, err := h.Load(ctx, dev); err != nil {
					t.Fatal(err)
				}
			} else {
				d := dev
				if _, ok := d.EntryKey(ctx, h); !ok {
					t.Fatal("no entry key")
				}
				d.PointLatest(h)
			}
			changed := writeHCLAt(t, copied, strings.Replace(orig, "table \"t03\" {\n  schema = schema.public\n",
				"table \"t03\" {\n  schema = schema.public\n  column \"note\" {\n    type = text\n    null = true\n  }\n", 1))
			base := cache.read(ctx, cache.baseKey(ctx, changed, conn), conn.Pgx())
			if base == nil {
				t.Fatal("the copied files have no base entry: their first change would be normalized whole")
			}
			sc := dev.openScratch(ctx)
			if sc == nil {
				t.Fatal("no scratch database")
			}
			defer sc.close()
			loaded := -1
			st, _, err := normalizeChanged(changed, base, func(declared *state.State) (*state.State, error) {
				loaded = countTables(declared)
				return sc.load(ctx, declared)
			})
			if err != nil {
				t.Fatalf("the change to the copied files was not normalized from the entry: %v", err)
			}
			// t03, t02 its foreign key refers to, and t04 referring to it.
			if loaded < 1 || loaded > 3 {
				t.Errorf("%d tables loaded to normalize the change, want t03 and its neighbours t02 and t04 of 6", loaded)
			}
			if _, ok := st.Realm.Schemas[0].Table("t03"); !ok {
				t.Fatal("t03 missing from the normalized state")
			}
		})
	}
}

// scanChanged, which parses only the blocks that are not the base's (or,
// without a base, each block alone), reads the files as the parser does
// whole (scanWhole); where the layout could mislead it (a "}"
// line in a heredoc, a block comment, CRLF line ends), it gives up rather
// than read a block wrongly.
func TestScanChangedReadsAsTheParser(t *testing.T) {
	orig := chainHCL(6)
	table := func(i int) string { return fmt.Sprintf("table \"t%02d\" {\n  schema = schema.public\n", i) }
	baseOf := func(src string) *Cached {
		t.Helper()
		set, err := scanWhole([]string{"schema.hcl"}, [][]byte{[]byte(src)})
		if err != nil || !set.eligible {
			t.Fatalf("the base does not scan: %v", err)
		}
		return &Cached{Blocks: set.hashes(), BlockRefs: set.refs()}
	}
	base := baseOf(orig)
	heredoc := "  comment = <<-EOT\n    a\n}\ntable \"t09\" {\n  schema = schema.public\n  EOT\n"
	for _, c := range []struct {
		name, src string
		quick     bool
	}{
		{"unchanged", orig, true},
		{"a column added", strings.Replace(orig, table(3), table(3)+"  column \"note\" {\n    type = text\n    null = true\n  }\n", 1), true},
		{"a table added, with comments between", orig + "# a new one\n\n// with a reference\ntable \"t06\" {\n  schema = schema.public\n  column \"id\" {\n    type = bigint\n  }\n  foreign_key \"fk\" {\n    columns     = [column.id]\n    ref_columns = [table.t05.column.id]\n  }\n}\n", true},
		{"a table removed", orig[:strings.Index(orig, table(5))], true},
		{"a heredoc holding a closing brace and a block's first line", strings.Replace(orig, table(2), table(2)+heredoc, 1), false},
		{"a block comment", strings.Replace(orig, table(2), "/* before\n}\n*/\n"+table(2), 1), false},
		{"CRLF line ends", strings.ReplaceAll(orig, "\n", "\r\n"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			want, err := scanWhole([]string{"schema.hcl"}, [][]byte{[]byte(c.src)})
			if err != nil {
				t.Fatal(err)
			}
			for _, base := range []*Cached{base, nil} {
				got, ok := scanChanged([]string{"schema.hcl"}, [][]byte{[]byte(c.src)}, base)
				if !ok {
					if c.quick {
						t.Fatalf("scanChanged gave up (base %t)", base != nil)
					}
					continue
				}
				sameBlocks(t, got, want)
			}
			if got, err := scanBlocks([]string{"schema.hcl"}, [][]byte{[]byte(c.src)}); err != nil {
				t.Fatal(err)
			} else {
				sameBlocks(t, got, want)
			}
		})
	}
}

// sameBlocks fails unless got reads the blocks of want.
func sameBlocks(t *testing.T, got, want *blockSet) {
	t.Helper()
	if !reflect.DeepEqual(got.hashes(), want.hashes()) || !reflect.DeepEqual(got.refs(), want.refs()) || got.eligible != want.eligible {
		t.Fatalf("read\n%q\nthe parser\n%q", got.hashes(), want.hashes())
	}
	for id, b := range want.blocks {
		g := got.blocks[id]
		if g.kind != b.kind || g.schema != b.schema || g.name != b.name {
			t.Fatalf("block %q: read %+v, the parser %+v", id, g, b)
		}
		fks, ok := g.foreignKeyRanges()
		if !ok || !reflect.DeepEqual(withoutForeignKeys(g.src, fks), withoutForeignKeys(b.src, b.fks)) {
			t.Fatalf("block %q: its foreign keys are read otherwise", id)
		}
	}
}
