package state

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"ariga.io/atlas/sql/postgres"
)

const typesHCL = `schema "public" {}
schema "other" {}
enum "status" {
  schema = schema.public
  values = ["a", "b"]
}
collation "ci" {
  schema        = schema.public
  provider      = icu
  locale        = "und-u-ks-level2"
  deterministic = false
  comment       = "case-insensitive"
}
domain "email" {
  schema  = schema.public
  type    = varchar(255)
  null    = true
  default = "x@y"
  collate = collation.ci
  check "email_at" {
    expr    = "VALUE ~ '@'"
    comment = "has an at"
  }
  check {
    expr = "length(VALUE) > 3"
  }
  check "later" {
    expr      = "VALUE <> ''"
    not_valid = true
  }
  comment = "it's an email"
}
domain "other" "email" {
  schema = schema.other
  type   = domain.public.email
}
domain "st" {
  schema  = schema.public
  type    = enum.status
  null    = true
  default = sql("'a'::status")
}
composite "address" {
  schema = schema.public
  field "street" {
    type    = text
    collate = "C"
  }
  field "zip" {
    type    = int
    comment = "the zip"
  }
  field "odd \"f" {
    type = domain.email
  }
  comment = "an address"
}
sequence "seq" {
  schema    = schema.public
  type      = int
  start     = 10
  increment = 2
  min_value = 5
  max_value = 1000
  cache     = 3
  cycle     = true
  owner     = table.users.column.id
  comment   = "numbers"
}
sequence "other" "seq" {
  schema   = schema.other
  unlogged = true
}
table "users" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "email" {
    type = domain.email
  }
  column "addr" {
    type = composite.address
    null = true
  }
  column "oe" {
    type = domain.other.email
  }
}
statistics "users_stats" {
  schema  = schema.public
  on      = table.users
  columns = [column.id, table.users.column.email]
  exprs   = ["lower(email)"]
  kinds   = [ndistinct, "MCV"]
  target  = 500
  comment = "stats"
}
`

// Each block reads into the statements that make its object, every name
// quoted, with its comments; a sequence's owner is a statement of its own,
// run after the tables.
func TestTypeBlocksSQL(t *testing.T) {
	t.Parallel()
	st, err := ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(typesHCL)})
	if err != nil {
		t.Fatal(err)
	}
	want := []ObjectDecl{
		{Kind: "collation", Schema: "public", Name: "ci", Early: true, Pos: "schema.hcl:7:1", SQL: []string{
			`CREATE COLLATION "public"."ci" (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
			`COMMENT ON COLLATION "public"."ci" IS 'case-insensitive'`}},
		{Kind: "domain", Schema: "public", Name: "email", Early: true, Pos: "schema.hcl:14:1", SQL: []string{
			`CREATE DOMAIN "public"."email" AS character varying(255) COLLATE "public"."ci" DEFAULT 'x@y' CONSTRAINT "email_at" CHECK (VALUE ~ '@') CHECK (length(VALUE) > 3)`,
			`ALTER DOMAIN "public"."email" ADD CONSTRAINT "later" CHECK (VALUE <> '') NOT VALID`,
			`COMMENT ON DOMAIN "public"."email" IS 'it''s an email'`,
			`COMMENT ON CONSTRAINT "email_at" ON DOMAIN "public"."email" IS 'has an at'`}},
		{Kind: "domain", Schema: "other", Name: "email", Early: true, Pos: "schema.hcl:33:1", SQL: []string{
			`CREATE DOMAIN "other"."email" AS "public"."email" NOT NULL`}},
		{Kind: "domain", Schema: "public", Name: "st", Early: true, Pos: "schema.hcl:37:1", SQL: []string{
			`CREATE DOMAIN "public"."st" AS "public"."status" DEFAULT 'a'::status`}},
		{Kind: "type", Schema: "public", Name: "address", Early: true, Pos: "schema.hcl:43:1", SQL: []string{
			`CREATE TYPE "public"."address" AS ("street" text COLLATE "C", "zip" integer, "odd ""f" "public"."email")`,
			`COMMENT ON TYPE "public"."address" IS 'an address'`,
			`COMMENT ON COLUMN "public"."address"."zip" IS 'the zip'`}},
		{Kind: "sequence", Schema: "public", Name: "seq", Early: true, Pos: "schema.hcl:58:1", SQL: []string{
			`CREATE SEQUENCE "public"."seq" AS integer INCREMENT BY 2 MINVALUE 5 MAXVALUE 1000 START WITH 10 CACHE 3 CYCLE`,
			`COMMENT ON SEQUENCE "public"."seq" IS 'numbers'`}},
		{Kind: "sequence", Schema: "public", Name: "seq", Pos: "schema.hcl:67:3", SQL: []string{
			`ALTER SEQUENCE "public"."seq" OWNED BY "public"."users"."id"`}},
		{Kind: "sequence", Schema: "other", Name: "seq", Early: true, Pos: "schema.hcl:70:1", SQL: []string{
			`CREATE UNLOGGED SEQUENCE "other"."seq"`}},
		{Kind: "statistics", Schema: "public", Name: "users_stats", Pos: "schema.hcl:90:1", SQL: []string{
			`CREATE STATISTICS "public"."users_stats" (ndistinct, mcv) ON "id", "email", (lower(email)) FROM "public"."users"`,
			`ALTER STATISTICS "public"."users_stats" SET STATISTICS 500`,
			`COMMENT ON STATISTICS "public"."users_stats" IS 'stats'`}},
	}
	if !reflect.DeepEqual(st.Objects, want) {
		t.Errorf("got\n%#v\nwant\n%#v", st.Objects, want)
	}
	// The engine reads a column of a domain or composite type as a
	// user-defined type of that name, as its inspection reads it.
	s, _ := st.Realm.Schema("public")
	users, _ := s.Table("users")
	for c, want := range map[string]string{"email": `"public"."email"`, "addr": `"public"."address"`, "oe": `"other"."email"`} {
		col, _ := users.Column(c)
		if u, ok := col.Type.Type.(*postgres.UserDefinedType); !ok || u.T != want {
			t.Errorf("column %s: type %#v, want the user-defined type %s", c, col.Type.Type, want)
		}
	}
}

// A domain declared in one file is a column's type in another.
func TestDomainTypeAcrossFiles(t *testing.T) {
	t.Parallel()
	tables := `table "users" {
  schema = schema.public
  column "email" {
    type = domain.email
  }
  column "tag" {
    type = domain.tag
  }
}
`
	types := `schema "public" {}
domain "email" {
  schema = schema.public
  type   = text
}
`
	st, err := ParseHCL([]string{"tables.hcl", "types.hcl"}, [][]byte{[]byte(tables), []byte(types)})
	want := `tables.hcl:7:12: table "users", column "tag": type domain.tag: no domain block declares it`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	tables = strings.Replace(tables, "domain.tag", "text", 1)
	if st, err = ParseHCL([]string{"tables.hcl", "types.hcl"}, [][]byte{[]byte(tables), []byte(types)}); err != nil {
		t.Fatal(err)
	}
	s, _ := st.Realm.Schema("public")
	users, _ := s.Table("users")
	col, _ := users.Column("email")
	if u, ok := col.Type.Type.(*postgres.UserDefinedType); !ok || u.T != `"public"."email"` {
		t.Errorf("column email: type %#v, want the domain", col.Type.Type)
	}
	if len(st.Objects) != 1 || st.Objects[0].Pos != "types.hcl:2:1" || st.Objects[0].SQL[0] != `CREATE DOMAIN "public"."email" AS text NOT NULL` {
		t.Errorf("got %#v", st.Objects)
	}
}

// Every mistake is an error at its file:line:column that says what to
// write instead.
func TestTypeBlocksProblems(t *testing.T) {
	t.Parallel()
	const base = `schema "public" {}
table "users" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`
	for _, c := range []struct{ src, want string }{
		{`sequence "s" {}`, `schema.hcl:8:1: sequence "s": needs its schema: schema = schema.NAME`},
		{"sequence \"s\" {\n  schema = schema.nope\n}",
			`schema.hcl:9:12: sequence "s": is in schema "nope", which no schema block declares: add schema "nope" {}`},
		{"sequence \"s\" {\n  schema = \"public\"\n  type = text\n}", `schema.hcl:10:10: sequence "s": a sequence's type is smallint, int or bigint, not text`},
		{"sequence \"s\" {\n  schema = schema.public\n  start = \"x\"\n}", `schema.hcl:10:11: sequence "s": start takes an integer`},
		{"sequence \"s\" {\n  schema = schema.public\n  owner = table.users.column.nope\n}",
			`schema.hcl:10:11: sequence "s": owner names column "nope", which table "users" (schema.hcl:2:1) has no column block for`},
		{"sequence \"s\" {\n  schema = schema.public\n  owner = table.nope.column.id\n}", `schema.hcl:10:11: sequence "s": owner table.nope: no table block declares it`},
		{"sequence \"s\" {\n  schema = schema.public\n  owner = column.id\n}",
			`schema.hcl:10:11: sequence "s": owner takes the column that owns the sequence: owner = table.NAME.column.NAME (or table.SCHEMA.NAME.column.NAME)`},
		{"sequence \"users\" {\n  schema = schema.public\n}",
			`schema.hcl:8:1: sequence "users": table "users" at schema.hcl:2:1 has the same name in the same schema: rename one`},
		{"sequence \"other\" \"s\" {\n  schema = schema.public\n}",
			`schema.hcl:9:12: sequence "s": its labels put it in schema "other", its schema attribute in "public": make them agree`},
		{"sequence \"s\" {\n  schema = schema.public\n  colour = 1\n}",
			`schema.hcl:10:3: unknown attribute "colour" in sequence "s"; known here: cache, comment, cycle, increment, max_value, min_value, owner, schema, start, type, unlogged`},
		{"domain \"d\" {\n  schema = schema.public\n}", `schema.hcl:8:1: domain "d": needs its type: type = text (or any column type)`},
		{"domain \"d\" {\n  schema = schema.public\n  type = \"text\"\n}",
			`schema.hcl:10:10: domain "d": type takes a type, as a column's: int, varchar(255), sql("..."), enum.NAME, domain.NAME or composite.NAME, not a string`},
		{"domain \"d\" {\n  schema = schema.public\n  type = texx\n}",
			`schema.hcl:10:10: domain "d": type: there is no type named "texx" (did you mean "text"?): it takes a type, as a column's: int, varchar(255), sql("..."), enum.NAME, domain.NAME or composite.NAME`},
		{"domain \"d\" {\n  schema = schema.public\n  type = domain.nope\n}", `schema.hcl:10:10: domain "d": type domain.nope: no domain block declares it`},
		{"domain \"d\" {\n  schema = schema.public\n  type = sql(\"text; drop table x\")\n}",
			`schema.hcl:10:10: domain "d": type "text; drop table x" holds ";", which is no part of a type: it takes a type, as a column's: int, varchar(255), sql("..."), enum.NAME, domain.NAME or composite.NAME`},
		{"domain \"d\" {\n  schema = schema.public\n  type = text\n  default = sql(\"1; drop table x\")\n}",
			`schema.hcl:11:13: domain "d": default holds a semicolon outside quotes, which would end the statement`},
		{"domain \"d\" {\n  schema = schema.public\n  type = text\n  collate = collation.nope\n}",
			`schema.hcl:11:13: domain "d": collate collation.nope: no collation block declares it`},
		{"domain \"d\" {\n  schema = schema.public\n  type = text\n  null = \"yes\"\n}",
			`schema.hcl:11:10: domain "d": null takes true (values may be NULL) or false (NOT NULL)`},
		{"domain \"d\" {\n  schema = schema.public\n  type = text\n  check {\n    expr = \"VALUE <> ''\"\n    comment = \"x\"\n  }\n}",
			`schema.hcl:13:5: domain "d", check: a comment needs the check's name: give the block a label`},
		{"domain \"d\" {\n  schema = schema.public\n  type = text\n  check \"c\" {\n    expr = \"VALUE <> '' -- x\"\n  }\n}",
			`schema.hcl:12:12: domain "d", check "c": expr holds a -- comment, which would run on over the rest of the statement: write /* ... */`},
		{"domain \"d\" {\n  schema = schema.public\n  type = text\n  check \"c\" {}\n}",
			`schema.hcl:11:3: domain "d", check "c": needs its expression: expr = "VALUE > 0"`},
		{"domain \"d\" {\n  schema = schema.public\n  type = text\n  check \"c\" {\n    exp = \"VALUE > 0\"\n  }\n}",
			"schema.hcl:12:5: unknown attribute \"exp\" in domain \"d\", check \"c\"; did you mean \"expr\"?\n" +
				`schema.hcl:11:3: domain "d", check "c": needs its expression: expr = "VALUE > 0"`},
		{"domain \"users\" {\n  schema = schema.public\n  type = text\n}",
			`schema.hcl:8:1: domain "users": table "users" at schema.hcl:2:1 has the same name in the same schema: rename one`},
		{"domain \"d\" {\n  schema = schema.public\n  type = text\n}\ncomposite \"d\" {\n  schema = schema.public\n}",
			`schema.hcl:12:1: composite "d": type public.d is already declared at schema.hcl:8:1`},
		{"composite \"c\" {\n  schema = schema.public\n  field \"a\" {}\n  field \"a\" {\n    type = int\n  }\n}",
			"schema.hcl:10:3: composite \"c\", field \"a\": needs its type: type = text (or any column type)\n" +
				`schema.hcl:11:3: composite "c", field "a": is already declared at schema.hcl:10:3`},
		{"collation \"c\" {\n  schema = schema.public\n  provider = icu\n}", `schema.hcl:8:1: collation "c": needs its locale: locale = "..."`},
		{"collation \"c\" {\n  schema = schema.public\n  provider = foo\n  locale = \"x\"\n}", `schema.hcl:10:14: collation "c": provider takes icu, libc or builtin`},
		{"collation \"c\" {\n  schema = schema.public\n  locale = \"x\"\n  lc_ctype = \"y\"\n}",
			`schema.hcl:8:1: collation "c": takes locale, or lc_collate and lc_ctype, not both`},
		{"statistics \"s\" {\n  schema = schema.public\n}", `schema.hcl:8:1: statistics "s": needs its table: on = table.NAME`},
		{"statistics \"s\" {\n  schema = schema.public\n  on = table.users\n}",
			`schema.hcl:8:1: statistics "s": needs what it is on: columns = [column.a, column.b] and/or exprs = ["lower(email)"]`},
		{"statistics \"s\" {\n  schema = schema.public\n  on = table.users\n  columns = [column.nope]\n  kinds = [ndistinct, foo, ndistinct]\n  target = 20000\n}",
			"schema.hcl:11:14: statistics \"s\": names column \"nope\", which table \"users\" (schema.hcl:2:1) has no column block for\n" +
				"schema.hcl:12:23: statistics \"s\": kinds takes a list of ndistinct, dependencies and mcv: kinds = [ndistinct, dependencies]\n" +
				"schema.hcl:12:28: statistics \"s\": kinds names ndistinct twice\n" +
				`schema.hcl:13:12: statistics "s": target takes the statistics target, an integer from 0 to 10000 (-1: the columns' own)`},
		{"statistics \"s\" {\n  schema = schema.public\n  on = table.users\n  columns = [table.other.column.id]\n}",
			`schema.hcl:11:14: statistics "s": names a column of table.other, not of its table, table.users`},
		{"statistics \"s\" {\n  schema = schema.public\n  on = table.users\n  columns = [foo.column.id]\n}",
			`schema.hcl:11:14: statistics "s": columns takes a list of the table's columns: columns = [column.a, column.b]`},
		{"statistics \"s\" {\n  schema = schema.public\n  on = table.users\n  exprs = [\"a; b\"]\n}",
			`schema.hcl:11:12: statistics "s": the expression holds a semicolon outside quotes, which would end the statement`},
		{"table \"t\" {\n  schema = schema.public\n  column \"x\" {\n    type = composite.nope\n  }\n}",
			`schema.hcl:11:12: table "t", column "x": type composite.nope: no composite block declares it`},
	} {
		_, err := ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(base + c.src)})
		var se *SchemaError
		if !errors.As(err, &se) || err.Error() != c.want {
			t.Errorf("%s\ngot  %v\nwant %s", c.src, err, c.want)
		}
	}
}

// A bare name in several schemas needs its schema, unless one is the
// referring block's.
func TestTypeReferencesInSeveralSchemas(t *testing.T) {
	t.Parallel()
	src := `schema "public" {}
schema "other" {}
domain "public" "d" {
  schema = schema.public
  type   = text
}
domain "other" "d" {
  schema = schema.other
  type   = int
}
composite "c" {
  schema = schema.other
  field "f" {
    type = domain.d
  }
}
sequence "s" {
  schema = schema.public
  type   = domain.d
}
`
	_, err := ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(src)})
	want := `schema.hcl:19:12: sequence "s": a sequence's type is smallint, int or bigint, not "public"."d"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	src = strings.Replace(src, `schema = schema.public
  type   = domain.d`, `schema = schema.public
  type   = int`, 1)
	src += "table \"t\" {\n  schema = schema.other\n  column \"a\" {\n    type = domain.d\n  }\n}\ntable \"u\" {\n  schema = schema.public\n  column \"a\" {\n    type = domain.other.d\n  }\n}\n"
	st, err := ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Objects[2].SQL[0]; got != `CREATE TYPE "other"."c" AS ("f" "other"."d")` {
		t.Errorf("composite: %s", got)
	}
	for sch, tbl := range map[string]string{"other": "t", "public": "u"} {
		s, _ := st.Realm.Schema(sch)
		tb, _ := s.Table(tbl)
		if u, ok := tb.Columns[0].Type.Type.(*postgres.UserDefinedType); !ok || u.T != `"other"."d"` {
			t.Errorf("%s.%s.a: %#v, want other.d", sch, tbl, tb.Columns[0].Type.Type)
		}
	}
}

// A type reads as the engine reads a column's type.
func TestTypeSQL(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]string{
		"int": "integer", "varchar(255)": "character varying(255)", "timestamptz(3)": "timestamptz(3)",
		`sql("public.x")`: "public.x", "numeric(10,2)": "numeric(10,2)", "day_to_second(2)": "interval day to second(2)",
	} {
		got, err := TypeSQL(expr)
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", expr, got, err, want)
		}
	}
	if _, err := TypeSQL("texx"); err == nil {
		t.Error("texx reads as a type")
	}
}

// Reading any file with these blocks never panics: bad input is an error.
func FuzzTypeBlocks(f *testing.F) {
	f.Add(typesHCL)
	f.Add("schema \"public\" {}\nsequence \"s\" {\n  schema = schema.public\n  owner = table.t.column.c\n}\ntable \"t\" {\n  schema = schema.public\n  column \"c\" {\n    type = domain.d\n  }\n}\n")
	f.Fuzz(func(t *testing.T, src string) {
		_, _ = ParseHCL([]string{"fuzz.hcl"}, [][]byte{[]byte(src)})
	})
}
