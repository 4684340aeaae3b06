package source

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/inspect"
	"keel/planner/pg"
)

// printBlocks prints the tables in chunks, on two goroutines: every
// block must be, byte for byte, the block of the whole realm printed at
// once (what keel inspect prints), with tables in two schemas, foreign
// keys across chunks and schemas, an extension's type, an enum and
// settings from the catalog.
func TestTablesPrintedInChunksAsInTheWhole(t *testing.T) {
	// Not parallel: the chunks printed on two goroutines (the number of
	// tables per goroutine lowered for the test).
	defer func(n int) { printTablesPerWorker = n }(printTablesPerWorker)
	printTablesPerWorker = printChunk
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	var b strings.Builder
	b.WriteString(`CREATE EXTENSION IF NOT EXISTS "uuid-ossp"; CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA other; CREATE TYPE mood AS ENUM ('calm', 'busy');
`)
	n := printChunk + printChunk/2
	for i := range n {
		for _, s := range []string{"public", "other"} {
			name := fmt.Sprintf("%s.%c%d", s, s[0], i)
			fmt.Fprintf(&b, "CREATE TABLE %s (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email citext, m mood DEFAULT 'calm', u uuid DEFAULT uuid_generate_v4()", name)
			if i > 0 {
				fmt.Fprintf(&b, ", up bigint REFERENCES %s.%c%d (id), far bigint REFERENCES public.p%d (id)", s, s[0], i-1, i/3)
			}
			b.WriteString(") WITH (fillfactor = 90);\n")
			fmt.Fprintf(&b, "COMMENT ON COLUMN %s.email IS 'mail %d';\n", name, i)
		}
	}
	pgtest.Exec(t, u, b.String())
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Open(ctx, "keel test")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// What keel inspect prints: the tables, then the objects (none here).
	whole, st, err := inspect.PrintHCL(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	cat := st.Catalog
	want, ok := scanChanged([]string{"whole"}, [][]byte{whole}, nil)
	if !ok {
		t.Fatal("the whole print does not read")
	}
	got, ok := printBlocks(st.Realm, st.Extensions, cat, nil)
	if !ok || !got.eligible || !want.eligible {
		t.Fatalf("printed in chunks: ok %v, eligible %v (whole: %v)", ok, got != nil && got.eligible, want.eligible)
	}
	if len(got.blocks) != len(want.blocks) || len(want.blocks) < 2*n {
		t.Fatalf("%d blocks in chunks, %d whole, want at least %d", len(got.blocks), len(want.blocks), 2*n)
	}
	for id, w := range want.blocks {
		g, ok := got.blocks[id]
		if !ok || string(g.src) != string(w.src) || strings.Join(g.refs, ",") != strings.Join(w.refs, ",") {
			t.Fatalf("block %q printed in chunks:\n%s\nwhole:\n%s", id, g.src, w.src)
		}
	}
	// The realm is as it was: its schemas are of it again.
	for _, s := range st.Realm.Schemas {
		if s.Realm != st.Realm {
			t.Fatalf("schema %s is of no realm after printing", s.Name)
		}
	}
}
