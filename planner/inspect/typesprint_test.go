package inspect

import (
	"context"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/pg"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"github.com/jackc/pgx/v5"
)

// typesSetup creates, in database A, objects of every kind of the family,
// with the awkward cases: names needing quotes (a double quote too), the
// same name in two schemas, comments over several lines, a domain over a
// domain of another schema, NOT VALID checks, sequences owned by a column
// or used by a default, the sequences of serial and identity columns
// (which are the columns', not blocks), and an extension's domain (lo).
var typesSetup = []string{
	`CREATE SCHEMA other`,
	`CREATE EXTENSION "uuid-ossp"`,
	`CREATE EXTENSION lo`,
	`CREATE COLLATION public.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
	`COMMENT ON COLLATION public.ci IS 'case-insensitive'`,
	`CREATE COLLATION other."My ""Coll" (locale = 'C.utf8')`,
	`CREATE COLLATION other.lc2 (lc_collate = 'C', lc_ctype = 'C.utf8')`,
	`CREATE TYPE public.status AS ENUM ('a', 'b')`,
	`CREATE DOMAIN public.email AS varchar(255) COLLATE public.ci DEFAULT 'x@y' CONSTRAINT email_at CHECK (VALUE ~ '@') CHECK (length(VALUE) > 3)`,
	`ALTER DOMAIN public.email ADD CONSTRAINT later CHECK (VALUE <> '') NOT VALID`,
	`COMMENT ON DOMAIN public.email IS 'an email'`,
	`COMMENT ON CONSTRAINT email_at ON DOMAIN public.email IS 'has an at'`,
	`CREATE DOMAIN other."Dom ""x" AS public.email NOT NULL`,
	`CREATE DOMAIN public.st AS public.status DEFAULT 'a'`,
	`CREATE DOMAIN public.posint AS integer DEFAULT 1 CHECK (VALUE > 0)`,
	`CREATE DOMAIN public.money2 AS numeric(10,2) NOT NULL DEFAULT 1.50`,
	`CREATE DOMAIN public.tags AS text[]`,
	`CREATE DOMAIN public.ts AS timestamptz(3) DEFAULT now()`,
	`CREATE DOMAIN public.flag AS boolean DEFAULT false`,
	`CREATE DOMAIN other.email AS text COLLATE "C"`,
	`CREATE TYPE public.address AS (street text COLLATE "C", zip integer, mail public.email, "odd ""f" other."Dom ""x", coll text COLLATE other.lc2)`,
	`COMMENT ON TYPE public.address IS E'multi\nline $$ comment'`,
	`COMMENT ON COLUMN public.address.zip IS 'the zip'`,
	`CREATE TYPE other.pair AS (a int, b public.address, s public.st)`,
	`CREATE TYPE public.empty AS ()`,
	typesUsersTable,
	`CREATE SEQUENCE public.free AS integer START 10 INCREMENT 2 MINVALUE 5 MAXVALUE 1000 CACHE 3 CYCLE`,
	`COMMENT ON SEQUENCE public.free IS 'numbers'`,
	`CREATE SEQUENCE public.down INCREMENT -1`,
	`CREATE SEQUENCE public.small AS smallint START 100`,
	`CREATE SEQUENCE public."Owned ""seq" OWNED BY public.users.n`,
	`CREATE SEQUENCE public.nextval_seq OWNED BY public.users.m`,
	`ALTER TABLE public.users ALTER COLUMN m SET DEFAULT nextval('public.nextval_seq')`,
	`CREATE UNLOGGED SEQUENCE other.us`,
	`CREATE SEQUENCE other.free`,
	`CREATE STATISTICS public.users_stats (ndistinct, mcv) ON n, m, (lower(email)) FROM public.users`,
	`ALTER STATISTICS public.users_stats SET STATISTICS 500`,
	`COMMENT ON STATISTICS public.users_stats IS 'stats'`,
	`CREATE STATISTICS other.all_kinds ON n, "odd col" FROM public.users`,
	`CREATE STATISTICS public.one_expr ON (n + m) FROM public.users`,
}

const typesUsersTable = `CREATE TABLE public.users (id serial PRIMARY KEY, email public.email, addr public.address, n int, m int, "odd col" int,
  ident int GENERATED ALWAYS AS IDENTITY, pair other.pair, st public.st)`

// typesDescribe describes the objects of the family of a database as
// PostgreSQL does, names qualified, one line each.
const typesDescribe = `
SELECT 'sequence ' || c.oid::regclass::text || ' ' || format_type(s.seqtypid, NULL) || ' ' || s.seqstart || ' ' || s.seqincrement || ' ' || s.seqmin
  || ' ' || s.seqmax || ' ' || s.seqcache || ' ' || s.seqcycle || ' ' || c.relpersistence::text || ' owner ' || coalesce((
    SELECT d.refobjid::regclass::text || '.' || d.refobjsubid || ' ' || d.deptype::text FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')), '-')
  || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
UNION ALL
SELECT 'domain ' || t.oid::regtype::text || ' ' || format_type(t.typbasetype, t.typtypmod) || ' ' || t.typnotnull || ' ' || coalesce(pg_get_expr(t.typdefaultbin, 0), '-')
  || ' ' || t.typcollation::regcollation::text || ' comment ' || coalesce(obj_description(t.oid, 'pg_type'), '-')
FROM pg_type t WHERE t.typtype = 'd' AND t.typnamespace <> 'pg_catalog'::regnamespace AND t.typnamespace <> 'information_schema'::regnamespace
UNION ALL
SELECT 'check ' || k.contypid::regtype::text || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) || ' comment ' || coalesce(obj_description(k.oid, 'pg_constraint'), '-')
FROM pg_constraint k WHERE k.contypid <> 0 AND k.contype = 'c' AND k.contypid::regtype::text NOT LIKE 'information_schema.%'
UNION ALL
SELECT 'type ' || t.oid::regtype::text || ' comment ' || coalesce(obj_description(t.oid, 'pg_type'), '-') || ' (' || coalesce((
    SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attcollation::regcollation::text || ' ' || coalesce(col_description(r.oid, a.attnum), '-'), ', ' ORDER BY a.attnum)
    FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')'
FROM pg_type t JOIN pg_class r ON r.oid = t.typrelid AND r.relkind = 'c'
UNION ALL
SELECT 'collation ' || co.oid::regcollation::text || ' ' || co.collprovider::text || ' ' || co.collisdeterministic || ' ' || coalesce(co.collcollate, '-') || ' ' || coalesce(co.collctype, '-')
  || ' ' || coalesce(to_jsonb(co) ->> 'colliculocale', '-') || ' comment ' || coalesce(obj_description(co.oid, 'pg_collation'), '-')
FROM pg_collation co WHERE co.collnamespace <> 'pg_catalog'::regnamespace
UNION ALL
SELECT 'statistics ' || pg_get_statisticsobjdef(s.oid) || ' ' || s.stxstattarget || ' comment ' || coalesce(obj_description(s.oid, 'pg_statistic_ext'), '-')
FROM pg_statistic_ext s
UNION ALL
SELECT 'column ' || a.attrelid::regclass::text || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-')
FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid AND r.relkind = 'r'
JOIN pg_namespace n ON n.oid = r.relnamespace AND n.nspname IN ('public', 'other')
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped`

func describeTypes(t *testing.T, u string) []string { return describe(t, u, typesDescribe) }

// runDecls runs the SQL of the declarations, early or late ones, as keel
// does in the throwaway database: each in its own transaction, in rounds,
// so that one that needs another is tried again after it.
func runDecls(t *testing.T, u string, decls []state.ObjectDecl, early bool) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET check_function_bodies = off"); err != nil {
		t.Fatal(err)
	}
	var pending []state.ObjectDecl
	for _, d := range decls {
		if d.Early == early {
			pending = append(pending, d)
		}
	}
	for round := 0; len(pending) > 0; round++ {
		var failed []state.ObjectDecl
		var last error
		for _, d := range pending {
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				for _, s := range d.SQL {
					if _, err := tx.Exec(ctx, s); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				failed, last = append(failed, d), err
			}
		}
		if len(failed) == len(pending) {
			t.Fatalf("%s %s.%s (%s) does not run: %v\n%s", failed[0].Kind, failed[0].Schema, failed[0].Name, failed[0].Pos, last, strings.Join(failed[0].SQL, "\n"))
		}
		pending = failed
	}
}

func openConn(t *testing.T, u string) *pg.Conn {
	t.Helper()
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Open(context.Background(), "keel test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// The objects of the family print as blocks that read back, in another
// database, into objects PostgreSQL describes exactly as the originals;
// an extension's objects and the sequences of serial and identity columns
// do not print.
func TestTypesRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, a, typesSetup...)
	conn := openConn(t, a)
	schemas := []string{"other", "public"}
	printed, err := inCatalogPath(ctx, conn, schemas, printTypes)
	if err != nil {
		t.Fatal(err)
	}
	text := string(printed)
	if got := pgtest.QueryValue[string](t, a, "SELECT current_setting('search_path')"); got == "pg_catalog" {
		t.Errorf("the printer left search_path at %s", got)
	}
	for _, want := range []string{
		`domain "public" "email" {`, `domain "other" "email" {`, `collate = collation.ci`, `type    = domain.public.email`,
		`owner  = table.users.column.n`, `sequence "Owned \"seq" {`, `sequence "public" "free" {`,
		`type = sql("other.\"Dom \"\"x\"")`, `kinds   = [ndistinct, mcv]`, `columns = [column.n, column["odd col"]]`,
		`type    = enum.status`, `type    = timestamptz(3)`, `type    = character_varying(255)`, `null    = false`, `default = 1`,
		`provider      = icu`, `deterministic = false`, `lc_collate = "C"`, `not_valid = true`, `unlogged = true`, `target  = 500`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("printed HCL lacks %q", want)
		}
	}
	for _, unwanted := range []string{`"lo"`, "users_id_seq", "users_ident_seq", "uuid"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("printed HCL has %q (an extension's object, or a column's sequence)", unwanted)
		}
	}

	st, err := Inspect(ctx, conn, schemas)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := state.MarshalHCL(st)
	if err != nil {
		t.Fatal(err)
	}
	src := append(tables, printed...)
	parsed, err := state.ParseHCL([]string{"schema.hcl"}, [][]byte{src})
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}

	b, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, b, `CREATE SCHEMA other`, `CREATE EXTENSION "uuid-ossp"`, `CREATE EXTENSION lo`, `CREATE TYPE public.status AS ENUM ('a', 'b')`)
	runDecls(t, b, parsed.Objects, true)
	pgtest.Exec(t, b, typesUsersTable, `ALTER TABLE public.users ALTER COLUMN m SET DEFAULT nextval('public.nextval_seq')`)
	runDecls(t, b, parsed.Objects, false)

	want, got := describeTypes(t, a), describeTypes(t, b)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("database B differs from A:\nA:\n%s\n\nB:\n%s\n\nHCL:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"), printed)
	}
}

// HCL written by hand from Atlas's documentation makes the objects that
// the same SQL makes.
func TestTypesHandWritten(t *testing.T) {
	t.Parallel()
	const hcl = `schema "public" {}
domain "us_postal_code" {
  schema = schema.public
  type   = text
  null   = true
  check "us_postal_code_check" {
    expr = "((VALUE ~ '^\\d{5}$'::text) OR (VALUE ~ '^\\d{5}-\\d{4}$'::text))"
  }
}
domain "username" {
  schema  = schema.public
  type    = text
  null    = false
  default = "anonymous"
  check "username_length" {
    expr = "(length(VALUE) > 3)"
  }
}
composite "address" {
  schema = schema.public
  field "street" {
    type = text
  }
  field "city" {
    type = text
  }
}
collation "french" {
  schema   = schema.public
  locale   = "fr-x-icu"
  provider = icu
}
sequence "s1" {
  schema = schema.public
}
sequence "s2" {
  schema    = schema.public
  type      = smallint
  start     = 100
  increment = 2
  min_value = 100
  max_value = 1000
}
sequence "s3" {
  schema  = schema.public
  owner   = table.t2.column.id
  comment = "Sequence with column owner"
}
table "users" {
  schema = schema.public
  column "name" {
    type = domain.username
  }
  column "zip" {
    type = domain.us_postal_code
  }
  column "address" {
    type = composite.address
  }
}
table "t2" {
  schema = schema.public
  column "id" {
    type = int
  }
}
statistics "t2_stats" {
  schema  = schema.public
  on      = table.users
  columns = [column.name, column.zip]
  kinds   = [dependencies]
}
`
	parsed, err := state.ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(hcl)})
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := parsed.Realm.Schemas[0].Table("users")
	for c, want := range map[string]string{"name": `"public"."username"`, "zip": `"public"."us_postal_code"`, "address": `"public"."address"`} {
		col, _ := tb.Column(c)
		if u, ok := col.Type.Type.(*postgres.UserDefinedType); !ok || u.T != want {
			t.Errorf("column %s: the engine reads its type as %#v, want the user-defined type %s", c, col.Type.Type, want)
		}
	}
	byHand, _ := pgtest.NewDatabase(t)
	runDecls(t, byHand, parsed.Objects, true)
	pgtest.Exec(t, byHand, `CREATE TABLE public.users (name public.username NOT NULL, zip public.us_postal_code NOT NULL, address public.address NOT NULL)`,
		`CREATE TABLE public.t2 (id int NOT NULL)`)
	runDecls(t, byHand, parsed.Objects, false)

	bySQL, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, bySQL,
		`CREATE DOMAIN us_postal_code AS text CONSTRAINT us_postal_code_check CHECK (VALUE ~ '^\d{5}$' OR VALUE ~ '^\d{5}-\d{4}$')`,
		`CREATE DOMAIN username AS text NOT NULL DEFAULT 'anonymous' CONSTRAINT username_length CHECK (length(VALUE) > 3)`,
		`CREATE TYPE address AS (street text, city text)`,
		`CREATE COLLATION french (provider = icu, locale = 'fr-x-icu')`,
		`CREATE SEQUENCE s1`,
		`CREATE SEQUENCE s2 AS smallint START 100 INCREMENT 2 MINVALUE 100 MAXVALUE 1000`,
		`CREATE TABLE public.users (name public.username NOT NULL, zip public.us_postal_code NOT NULL, address public.address NOT NULL)`,
		`CREATE TABLE public.t2 (id int NOT NULL)`,
		`CREATE SEQUENCE s3 OWNED BY t2.id`,
		`COMMENT ON SEQUENCE s3 IS 'Sequence with column owner'`,
		`CREATE STATISTICS t2_stats (dependencies) ON name, zip FROM users`,
	)
	want, got := describeTypes(t, bySQL), describeTypes(t, byHand)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("the hand-written HCL makes other objects than SQL does:\nSQL:\n%s\n\nHCL:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}

// A name that HCL cannot refer to is refused, never printed as something
// that reads back as another object.
func TestTypesPrintRefusesUnreferable(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, `CREATE SCHEMA "we""ird"`, `CREATE DOMAIN "we""ird".d AS int`)
	_, err := inCatalogPath(context.Background(), openConn(t, u), []string{`we"ird`}, printTypes)
	if err == nil || !strings.Contains(err.Error(), `Atlas HCL cannot refer to schema "we\"ird"`) || !strings.Contains(err.Error(), "rename it") {
		t.Fatalf("printing a domain in a schema named with a double quote: got %v, want a refusal that says to rename it", err)
	}
}
