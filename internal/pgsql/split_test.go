package pgsql

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []Statement
		err  string
	}{
		{
			name: "statements with their first lines, comments between them",
			src:  "-- header\nCREATE TABLE a (x int);\n\n/* block\n comment; */\nCREATE TABLE b (\n  y int -- trailing; comment\n);\nSELECT 1",
			want: []Statement{
				{Text: "CREATE TABLE a (x int)", Line: 2},
				{Text: "CREATE TABLE b (\n  y int -- trailing; comment\n)", Line: 6},
				{Text: "SELECT 1", Line: 9},
			},
		},
		{
			name: "semicolons inside strings, identifiers and dollar quotes",
			src:  "SELECT 'a;''b';\nSELECT \"x;y\";\nSELECT E'it\\'s;';\nCREATE FUNCTION f() RETURNS text AS $fn$\nSELECT 'x;y';\n$fn$ LANGUAGE sql;\nSELECT $$;$$;",
			want: []Statement{
				{Text: "SELECT 'a;''b'", Line: 1},
				{Text: `SELECT "x;y"`, Line: 2},
				{Text: `SELECT E'it\'s;'`, Line: 3},
				{Text: "CREATE FUNCTION f() RETURNS text AS $fn$\nSELECT 'x;y';\n$fn$ LANGUAGE sql", Line: 4},
				{Text: "SELECT $$;$$", Line: 7},
			},
		},
		{
			name: "SQL-standard function bodies keep their semicolons",
			src:  "CREATE OR REPLACE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 2 END;\nEND;\nSELECT 3;",
			want: []Statement{
				{Text: "CREATE OR REPLACE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 2 END;\nEND", Line: 1},
				{Text: "SELECT 3", Line: 6},
			},
		},
		{
			name: "pg_dump's restrict tokens are skipped",
			src:  "\\restrict abc\nSET x = 1;\n\\unrestrict abc\n",
			want: []Statement{{Text: "SET x = 1", Line: 2}},
		},
		{
			name: "other meta-commands are refused with their line",
			src:  "SELECT 1;\n\\i other.sql\n",
			err:  "2: psql meta-command `\\i other.sql`",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Split(tc.src)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// A function whose body is BEGIN ATOMIC ... END, as pg_get_functiondef
// prints it, is one statement; two such are not.
func TestOneStatementBeginAtomic(t *testing.T) {
	def := "CREATE OR REPLACE FUNCTION public.answer()\n RETURNS integer\n LANGUAGE sql\nBEGIN ATOMIC\n SELECT 42;\nEND"
	if err := OneStatement(def); err != nil {
		t.Fatalf("OneStatement: %v", err)
	}
	if err := OneStatement(def + ";\n" + def); err == nil {
		t.Fatal("two functions pass as one statement")
	}
}
