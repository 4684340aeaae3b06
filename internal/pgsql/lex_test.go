package pgsql

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// hostile are names and values that break SQL written by string concatenation.
var hostile = []string{
	`x" (a int); DROP TABLE public.canary; --`,
	`canary"; --`,
	`it's`,
	`'x\'); DROP TABLE canary; --'`,
	`semi;colon`,
	`$$dollar$$`,
	`$x$ ; $x$`,
	`dash--dash`,
	"new\nline",
	"/* open comment",
	`back\slash`,
	`ünï¢ødé 表`,
	strings.Repeat("long_é", 12),
	`E'`,
	`U&"`,
	`""`,
}

func TestOneStatement(t *testing.T) {
	ok := []string{
		"CREATE TABLE a (x int)",
		"CREATE TABLE a (x int);",
		"CREATE TABLE a (x int);  -- done\n",
		`SELECT 'a;b', "c;d", $$e;f$$, $t$g;h$t$, E'i\';j', /* k; /* nested; */ l; */ 1`,
		"SELECT U&'d\\0061t;' , U&\"x;y\"",
		"SELECT a$b, $1",
		// One statement, lexically: the engine's quoting of a table named
		// `canary"; --` drops "canary". Only correct quoting prevents it.
		`DROP TABLE "public"."canary"; --"`,
	}
	for _, s := range ok {
		if err := OneStatement(s); err != nil {
			t.Errorf("OneStatement(%q) = %v, want nil", s, err)
		}
	}
	bad := []string{
		"",
		";",
		"  -- nothing\n",
		"SELECT 1; SELECT 2",
		"SELECT 1;;SELECT 2",
		`CREATE TABLE "public"."x" (a int); DROP TABLE public.canary; --" (c int)`,
		`SELECT E'it\'s'; DROP TABLE canary; --'`,
		`SELECT 'x\'); DROP TABLE canary; --'`, // with standard_conforming_strings on, 'x\' ends the string
		"SELECT 'unterminated",
		`SELECT "unterminated`,
		"SELECT $a$ unterminated",
		"SELECT /* unterminated",
	}
	for _, s := range bad {
		if err := OneStatement(s); err == nil {
			t.Errorf("OneStatement(%q) = nil, want an error", s)
		}
	}
}

func TestQuotedNamesLexAsOneToken(t *testing.T) {
	for _, name := range hostile {
		for _, q := range []struct {
			quoted string
			kind   Kind
		}{{QuoteIdent(name), QuotedIdent}, {QuoteLiteral(name), String}} {
			toks, err := Lex(q.quoted)
			if err != nil || len(toks) != 1 || toks[0].Kind != q.kind || toks[0].Value != name {
				t.Errorf("Lex(%s) = %+v, %v: want one token holding %q", q.quoted, toks, err, name)
			}
		}
		stmt := "COMMENT ON TABLE " + QuoteQualified(name, name) + " IS " + QuoteLiteral(name)
		if err := OneStatement(stmt); err != nil {
			t.Errorf("OneStatement(%s) = %v", stmt, err)
		}
	}
}

func TestIsPlainIdent(t *testing.T) {
	for s, want := range map[string]bool{"users": true, "_a1$": true, "Users": false, "1a": false, "$a": false, "a-b": false, "": false, "é": false} {
		if got := IsPlainIdent(s); got != want {
			t.Errorf("IsPlainIdent(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzQuote checks that any quoted name or value reads back as one token
// holding it, and that a statement built with them is one statement.
func FuzzQuote(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return // PostgreSQL rejects such names and values itself
		}
		for _, q := range []string{QuoteIdent(s), QuoteLiteral(s)} {
			toks, err := Lex(q)
			if err != nil || len(toks) != 1 || toks[0].Value != s {
				t.Fatalf("Lex(%s) = %+v, %v", q, toks, err)
			}
			for _, r := range q {
				if !unicode.IsPrint(r) {
					t.Fatalf("%q quotes as %q, which holds %U", s, q, r)
				}
			}
			if p, err := Printable("SELECT " + q); err != nil || p != "SELECT "+q {
				t.Fatalf("Printable changed a printable statement: %q, %v", p, err)
			}
		}
		if err := OneStatement("COMMENT ON TABLE " + QuoteQualified(s, s) + " IS " + QuoteLiteral(s)); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzOneStatement checks that the check never panics and agrees with
// Split: text it accepts splits into exactly one statement.
func FuzzOneStatement(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "SELECT 1; SELECT 2", `CREATE TABLE "x" (a int); DROP TABLE canary; --" (c int)`,
		`SELECT 'x\'); DROP TABLE c; --'`, "SELECT $$;$$", "/* a /* b */ c */ SELECT 1", "SELECT E'\\';'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if OneStatement(s) != nil || strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s)), "CREATE") {
			return
		}
		if strings.Contains(s, "\\") {
			return // psql meta-commands are Split's business
		}
		stmts, err := Split(s)
		if err != nil || len(stmts) != 1 {
			t.Fatalf("OneStatement accepted %q, Split gives %d statements (%v)", s, len(stmts), err)
		}
	})
}

// FuzzSplit checks that splitting never panics and that every statement it
// returns (but routine bodies) is one statement.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"CREATE TABLE a (x int);\nSELECT 'a;b';",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;",
		"\\restrict x\nSELECT 1;",
		"SELECT $a$;$a$; SELECT 2",
		"SELECT E'\\';'; SELECT 3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stmts, err := Split(s)
		if err != nil {
			return
		}
		for _, st := range stmts {
			if st.Text == "" || st.Line < 1 {
				t.Fatalf("empty statement or bad line: %+v", st)
			}
			if isRoutineWithBody(strings.Fields(strings.ToUpper(st.Text))) {
				continue
			}
			if err := OneStatement(st.Text); err != nil {
				t.Fatalf("Split(%q) gave %q, which is not one statement: %v", s, st.Text, err)
			}
		}
	})
}

func TestPrintable(t *testing.T) {
	in := "COMMENT ON TABLE \"x\n-- 1/1: harmless\" IS 'two\nlines\u202e'"
	got, err := Printable(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `COMMENT ON TABLE U&"x\000A-- 1/1: harmless" IS U&'two\000Alines\202E'`
	if got != want {
		t.Fatalf("Printable(%q)\n = %s\nwant %s", in, got, want)
	}
	toks, _ := Lex(got)
	if toks[len(toks)-1].Value != "two\nlines\u202e" {
		t.Fatalf("the literal reads back as %q", toks[len(toks)-1].Value)
	}
}

// BenchmarkOneStatement checks a statement as keel's normalization sends
// thousands of (one per table, index and foreign key).
//
//	go test ./internal/pgsql -run '^$' -bench OneStatement -benchmem
func BenchmarkOneStatement(b *testing.B) {
	sql := `CREATE TABLE "public"."t0042" ("id" bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY, "uid" uuid NOT NULL DEFAULT public.uuid_generate_v4(), "name" text NOT NULL, "st" "public"."status" NOT NULL DEFAULT 'new', "amount" numeric(10,2) NULL, "created_at" timestamptz NOT NULL DEFAULT now(), "parent_id" bigint NULL, PRIMARY KEY ("id"), CONSTRAINT "t0042_amount_check" CHECK (amount >= (0)::numeric))`
	b.SetBytes(int64(len(sql)))
	for range b.N {
		if err := OneStatement(sql); err != nil {
			b.Fatal(err)
		}
	}
}

// OneStatement's lexer reads tokens without their values: the same tokens
// (kinds, texts, offsets) as Lex, and the same errors.
func TestKindsOnlyLexesAsLex(t *testing.T) {
	for _, sql := range []string{
		`SELECT 'a''b;' AS "x"";y"`, `SELECT 1; SELECT 2`, `SELECT 'unterminated`, `SELECT "unterminated`,
		`SELECT E'a\';' ; `, `SELECT U&'\0041;'`, `SELECT $$;$$, $t$;$t$`, `-- only a comment`, `;`,
		`CREATE TABLE "a""b" ("c;" text DEFAULT ';')`, `SELECT 1 /* ; /* nested */ ; */`, `SELECT ''''`, `SELECT """"`,
		`SELECT N'x''y', B'01', X'ff'`, `SELECT "a" 'b'`, `''`, `""`, `"`, `'`,
	} {
		want, wantErr := Lex(sql)
		l := &lexer{src: sql, kindsOnly: true}
		var got []Token
		var gotErr error
		for {
			tok, more, err := l.next()
			if err != nil {
				gotErr = err
				break
			}
			if !more {
				break
			}
			got = append(got, tok)
		}
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("%q: error %v, Lex's %v", sql, gotErr, wantErr)
			continue
		}
		if wantErr != nil {
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%q: %d tokens, Lex reads %d", sql, len(got), len(want))
			continue
		}
		for i := range got {
			if got[i].Kind != want[i].Kind || got[i].Text != want[i].Text || got[i].Offset != want[i].Offset {
				t.Errorf("%q: token %d is %+v, Lex reads %+v", sql, i, got[i], want[i])
			}
		}
	}
}
