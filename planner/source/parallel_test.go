package source

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"keel/planner/pg"
	"keel/planner/state"
)

// Tables created on several connections at once, a foreign key to a table
// before it on its connection with its table, the others among a
// connection's tables after them there and the rest after all tables,
// normalize as created in order on one: the same fingerprint and the same
// catalog. A statement that fails names its block, whether the tables were
// to be made at once (the state is then loaded again in order) or in
// order, a table's or a foreign key's. Not parallel: it lowers
// parallelFrom and renderChunk.
func TestTablesLoadedInParallelNormalizeAsInOrder(t *testing.T) {
	conn := testConn(t)
	defer func(n int) { parallelFrom = n }(parallelFrom)
	// Chunks of three tables: the engine writes them in four, with the
	// names guarded once for all of them (diff.RenderChunks), the
	// hostile table's in the last.
	defer func(n int) { renderChunk = n }(renderChunk)
	renderChunk = 3
	const extra = `schema "billing" {
  comment = "money"
}
table "we\"ird t" {
  schema  = schema.billing
  comment = "a table's comment"
  column "a" {
    type = int
  }
  column "ref" {
    type = bigint
    null = true
  }
  foreign_key "to_t03" {
    columns     = [column.ref]
    ref_columns = [table.t03.column.id]
  }
  index "by_a" {
    columns = [column.a]
  }
}
table "v" {
  schema = schema.billing
  column "a" {
    type = int
  }
  primary_key {
    columns = [column.a]
  }
  foreign_key "to_u" {
    columns     = [column.a]
    ref_columns = [table.u.column.a]
  }
}
table "u" {
  schema = schema.billing
  column "a" {
    type = int
  }
  column "b" {
    type = int
    null = true
  }
  primary_key {
    columns = [column.a]
  }
  foreign_key "u \"to\" v" {
    columns     = [column.b]
    ref_columns = [table.v.column.a]
  }
}
`
	hcl := chainHCL(10) + extra
	loadState := func(from int) (fp string, cat any, catFP any) {
		t.Helper()
		parallelFrom = from
		st, err := loadHCLText(t, conn, hcl)
		if err != nil {
			t.Fatal(err)
		}
		f, err := st.Fingerprint()
		if err != nil {
			t.Fatal(err)
		}
		return f.Hash, st.Catalog, st.Catalog.Fingerprint()
	}
	before, apart, own, with, again := parallelLoads.Load(), catalogsApart.Load(), ownPartFKs.Load(), withTableFKs.Load(), loadedAgain.Load()
	pfp, pcat, pcatFP := loadState(1)
	if parallelLoads.Load() != before+1 || catalogsApart.Load() != apart+1 || loadedAgain.Load() != again {
		t.Fatal("the tables were not created on several connections, the catalog not read on a second one, or the state was loaded again in order")
	}
	quoted := state.CatalogKey{Kind: state.CatalogConstraint, Schema: "billing", Table: "u", Name: `u "to" v`}
	if def := pcat.(state.Catalog)[quoted]; !strings.Contains(def, "FOREIGN KEY (b) REFERENCES billing.v(a)") {
		t.Errorf("%s: %q, want the key to billing.v made with its table", quoted, def)
	}
	// 13 tables on 4 connections: t00-t03, t04-t06, t07-t09, and
	// "we\"ird t", v and u; t01, t02, t03, t05, t06, t08 and t09 refer to
	// the table before them on their connection, and u to v by a key whose
	// name holds double quotes (created with them); v to u after it (added
	// after them on their connection); t04, t07 and "we\"ird t" to a table
	// on another (added after all tables).
	if got := withTableFKs.Load() - with; got != 8 {
		t.Errorf("%d foreign keys created with their tables, want 8", got)
	}
	if got := ownPartFKs.Load() - own; got != 1 {
		t.Errorf("%d foreign keys added on their tables' connection, want 1", got)
	}
	sfp, scat, scatFP := loadState(1 << 30)
	if parallelLoads.Load() != before+1 || catalogsApart.Load() != apart+1 {
		t.Fatal("the tables were created, or the catalog read, on several connections below parallelFrom")
	}
	if pfp != sfp {
		t.Errorf("fingerprints differ: %s in parallel, %s in order", pfp, sfp)
	}
	if !reflect.DeepEqual(pcat, scat) || !reflect.DeepEqual(pcatFP, scatFP) {
		t.Errorf("the catalogs differ")
	}

	// A table that does not load, among others, and a foreign key that
	// does not, to the table before it (on the same connection): named
	// by their blocks.
	badTable := "table \"bad\" {\n  schema = schema.public\n  column \"id\" {\n    type    = uuid\n    default = sql(\"no_such_function()\")\n  }\n}\n"
	badFK := "table \"bad\" {\n  schema = schema.public\n  column \"ref\" {\n    type = text\n  }\n  foreign_key \"bad_ref\" {\n    columns     = [column.ref]\n    ref_columns = [table.t09.column.id]\n  }\n}\n"
	for _, c := range []struct{ hcl, server string }{
		{chainHCL(10) + badTable, "no_such_function"},
		{chainHCL(10) + badFK, "bad_ref"},
	} {
		line := strings.Count(c.hcl[:strings.Index(c.hcl, `table "bad"`)], "\n") + 1
		for _, from := range []int{1, 1 << 30} {
			parallelFrom = from
			again := loadedAgain.Load()
			_, err := loadHCLText(t, conn, c.hcl)
			if from == 1 && loadedAgain.Load() != again+1 {
				t.Errorf("a bad table (%s) did not fail on several connections", c.server)
			}
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema.hcl:%d: the desired state does not load into PostgreSQL: create \"bad\" table", line)) ||
				!strings.Contains(err.Error(), c.server) {
				t.Fatalf("loading a bad table (parallelFrom %d): %v; want schema.hcl:%d named with the server's error (%s)", from, err, line, c.server)
			}
		}
	}
}

// A table with a column of another table's row type needs that table made
// first, which on several connections it may not be: the state is loaded
// again in order on one, and normalizes. Not parallel: it lowers
// parallelFrom.
func TestTableNeedingAnotherLoadsInParallelMode(t *testing.T) {
	conn := testConn(t)
	defer func(n int) { parallelFrom = n }(parallelFrom)
	parallelFrom = 1
	var b strings.Builder
	b.WriteString("schema \"public\" {}\n")
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&b, "table \"base%d\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n}\n", i)
		fmt.Fprintf(&b, "table \"uses%d\" {\n  schema = schema.public\n  column \"b\" {\n    type = sql(\"public.base%d\")\n    null = true\n  }\n}\n", i, i)
	}
	st, err := loadHCLText(t, conn, b.String())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		k := state.CatalogKey{Kind: state.CatalogColumn, Schema: "public", Table: fmt.Sprintf("uses%d", i), Name: "b"}
		if got, want := st.Catalog[k], fmt.Sprintf("public.base%d", i); got != want {
			t.Fatalf("%s: %q, want %q", k, got, want)
		}
	}
}

// loadHCLText normalizes src, written to a schema.hcl of its own, on conn's
// server, without a cache.
func loadHCLText(t *testing.T, conn *pg.Conn, src string) (*state.State, error) {
	t.Helper()
	h := writeHCL(t, src)
	dev, done, err := DevDatabase{}.Open(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	return h.Load(context.Background(), dev)
}
