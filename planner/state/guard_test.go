package state

import (
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

func TestNameGuardRewrite(t *testing.T) {
	g, err := NewGuard()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Restore() // also when the test fails early: it holds the trees until then
	name, value := `canary"; --`, `'x\'); DROP TABLE canary; --'`
	n, v := name, value
	g.ident(&n)
	g.literal(&v)
	if n == name || v == value || !strings.Contains(n, g.nonce) || !strings.Contains(v, g.nonce) {
		t.Fatalf("not guarded: %q, %q", n, v)
	}
	got, err := g.Rewrite(`DROP TABLE "public"."` + n + `"`)
	if err != nil || got != `DROP TABLE "public"."canary""; --"` {
		t.Fatalf("rewrite = %q, %v", got, err)
	}
	got, err = g.Rewrite(`COMMENT ON TABLE "public"."t" IS '` + v + `'`)
	if err != nil || got != `COMMENT ON TABLE "public"."t" IS '''x\''); DROP TABLE canary; --'''` {
		t.Fatalf("rewrite = %q, %v", got, err)
	}
	for _, bad := range []string{
		`CREATE SEQUENCE "` + n + `_id_seq"`,           // inside a longer name
		`SELECT nextval('"public"."` + n + `"')`,       // inside a string
		`DROP TABLE ` + n,                              // without quotes
		`SELECT 1 -- ` + n,                             // in a comment
		`SELECT $$` + n + `$$`,                         // in a dollar quote
		`COMMENT ON TABLE "t" IS '` + v + ` and more'`, // inside a longer value
	} {
		if _, err := g.Rewrite(bad); err == nil {
			t.Errorf("rewrite(%q) did not refuse", bad)
		} else if !strings.Contains(err.Error(), "canary") {
			t.Errorf("rewrite(%q): %v does not name the real name", bad, err)
		}
	}
	g.Restore()
	if n != name || v != value {
		t.Fatalf("restore: %q, %q", n, v)
	}
}

func TestNameGuardRefusesUnquotedFields(t *testing.T) {
	s := &schema.Schema{Name: "public"}
	tbl := &schema.Table{Name: "t", Schema: s, Columns: []*schema.Column{{Name: "a", Type: &schema.ColumnType{Type: &schema.IntegerType{T: "int"}}}}}
	s.Tables = []*schema.Table{tbl}
	r := &schema.Realm{Schemas: []*schema.Schema{s}}
	for name, attrs := range map[string]struct {
		idx  []schema.Attr
		part []schema.Attr
		want string
	}{
		"method":   {idx: []schema.Attr{&postgres.IndexType{T: "gin; DROP TABLE t"}}, want: `index method "gin; DROP TABLE t"`},
		"opclass":  {part: []schema.Attr{&postgres.IndexOpClass{Name: "x) ; DROP TABLE t; --"}}, want: "operator class"},
		"operator": {part: []schema.Attr{&postgres.Operator{Name: "= ; DROP"}}, want: "operator"},
	} {
		tbl.Indexes = []*schema.Index{{Name: "i", Table: tbl, Attrs: attrs.idx, Parts: []*schema.IndexPart{{C: tbl.Columns[0], Attrs: attrs.part}}}}
		g, _ := NewGuard()
		err := g.Realm(r)
		g.Restore()
		if err == nil || !strings.Contains(err.Error(), "table public.t: index \"i\"") || !strings.Contains(err.Error(), attrs.want) {
			t.Errorf("%s: error %v, want one naming the table, the index and %q", name, err, attrs.want)
		}
	}
	tbl.Indexes = nil
	tbl.ForeignKeys = []*schema.ForeignKey{{Symbol: "fk", Table: tbl, OnDelete: "CASCADE; DROP TABLE t"}}
	g, _ := NewGuard()
	if err := g.Realm(r); err == nil || !strings.Contains(err.Error(), "unknown action") {
		t.Errorf("foreign key action: error %v", err)
	}
	g.Restore()
}

// A realm encoded while a Guard has placeholders in it (a cache entry is
// encoded in the background while the plan's statements are rendered)
// holds the real names, never a placeholder: the encoding waits for the
// Guard's Restore. (A cache entry encoded with placeholders did not read
// back to its state, and a plan of a hostile name normalized again.)
func TestEncodingWaitsForTheGuard(t *testing.T) {
	name := `tr"aced; --`
	s := &schema.Schema{Name: "public"}
	s.Tables = []*schema.Table{{Name: name, Schema: s, Columns: []*schema.Column{{Name: "a", Type: &schema.ColumnType{Type: &schema.IntegerType{T: "int"}}}}}}
	r := &schema.Realm{Schemas: []*schema.Schema{s}}
	g, err := NewGuard()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Restore()
	if err := g.Realm(r); err != nil {
		t.Fatal(err)
	}
	if s.Tables[0].Name == name {
		t.Fatal("the Guard put no placeholder for a name with a double quote")
	}
	type encoded struct {
		b   []byte
		err error
	}
	done := make(chan encoded, 1)
	go func() {
		b, err := EncodeRealm(r)
		done <- encoded{b, err}
	}()
	var got encoded
	select {
	case got = <-done:
		t.Error("the realm was encoded while the Guard had placeholders in it")
	case <-time.After(time.Second): // the encoding waits: let it go
		g.Restore()
		got = <-done
	}
	if got.err != nil {
		t.Fatal(got.err)
	}
	back, err := DecodeRealm(got.b)
	if err != nil {
		t.Fatal(err)
	}
	if n := back.Schemas[0].Tables[0].Name; n != name {
		t.Fatalf("encoded table name %q, want %q", n, name)
	}
}
