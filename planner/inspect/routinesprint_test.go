package inspect

import (
	"context"
	"sort"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/pg"
	"keel/planner/state"

	"github.com/jackc/pgx/v5"
)

// routinesBase is what both databases have before the family's objects:
// schemas, an enum, tables (one partitioned), an extension.
var routinesBase = []string{
	`CREATE SCHEMA other`,
	`CREATE SCHEMA "My Schema"`,
	`CREATE EXTENSION "uuid-ossp"`,
	`CREATE TYPE public.mood AS ENUM ('happy', 'sad')`,
	`CREATE DOMAIN public.posint AS integer CHECK (VALUE > 0)`,
	`CREATE TYPE other.pair AS (a int, b text)`,
	`CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric(10,2), note varchar(20), m public.mood, "odd ""col" text)`,
	`CREATE TABLE other.orders (id int PRIMARY KEY, total bigint)`,
	`CREATE TABLE public.events (id int, at date) PARTITION BY RANGE (at)`,
	`CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
}

// routinesSetup makes, in database A, objects of every kind of the
// family, with the awkward cases: names needing quotes (a double quote
// too), the same names in two schemas, overloads, comments holding quotes,
// line breaks and ${, bodies holding $$ and ${, SQL-standard bodies,
// arguments of every mode with defaults, RETURNS TABLE and SETOF, settings,
// view options, indexes of a materialized view, triggers of every kind
// keel prints (on a view, on a partitioned table, on a partition).
var routinesSetup = []string{
	`CREATE FUNCTION public.audit() RETURNS trigger LANGUAGE plpgsql SET search_path = "$user", public AS $fn$
BEGIN
  -- a $$ and $body$ in a comment: ${not a template} %{nor this}
  RAISE NOTICE 'audit $x$ %', TG_OP;
  RETURN NEW;
END;
$fn$`,
	`COMMENT ON FUNCTION public.audit() IS E'audits\nrows: it''s ${late}'`,
	`CREATE FUNCTION other.audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS 'BEGIN RETURN NULL; END'`,
	`CREATE FUNCTION public.add(a int, b int DEFAULT 2, m public.mood DEFAULT 'happy', VARIADIC xs int[] DEFAULT ARRAY[1, 2]) RETURNS int
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 5 RETURN a + b`,
	`CREATE FUNCTION public.add(a text, b text) RETURNS text LANGUAGE sql AS $f$SELECT a || b || '$$'$f$`,
	`CREATE FUNCTION public.tbl(x int) RETURNS TABLE(a int, "B b" text) LANGUAGE sql STABLE ROWS 5 AS 'SELECT 1, ''x'''`,
	`CREATE FUNCTION public.nums(n int) RETURNS SETOF bigint LANGUAGE sql AS 'SELECT generate_series(1, n)'`,
	`CREATE FUNCTION public.atomic(v int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT v; SELECT v + 1; END`,
	`CREATE FUNCTION public.outs(IN a int, OUT b int, OUT "c ""q" text) LANGUAGE sql AS 'SELECT a, ''x'''`,
	`CREATE FUNCTION "My Schema"."we""ird fn"(int, text DEFAULT 'd') RETURNS void LANGUAGE plpgsql SET work_mem = '64MB' SET search_path = '' AS $$BEGIN END$$`,
	`CREATE FUNCTION public.mk(p public.posint, o public.orders) RETURNS other.pair LANGUAGE sql AS 'SELECT p, o.note'`,
	`CREATE PROCEDURE other.p(INOUT a int, OUT b text) LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN b := 'x'; END $$`,
	`COMMENT ON PROCEDURE other.p(int) IS 'a procedure'`,
	`CREATE PROCEDURE public.p2() LANGUAGE sql BEGIN ATOMIC INSERT INTO public.orders (id) VALUES (1); END`,
	`CREATE VIEW public.big WITH (security_barrier) AS SELECT id, amount FROM public.orders WHERE amount > 10 WITH LOCAL CHECK OPTION`,
	`COMMENT ON COLUMN public.big.id IS 'the id'`,
	`COMMENT ON VIEW public.big IS 'big ''orders'''`,
	`CREATE VIEW other.big WITH (security_invoker = true, check_option = cascaded) AS SELECT o.id AS "we""ird col", '${x}'::text AS t FROM other.orders o`,
	`CREATE VIEW public."we""ird view" AS SELECT m, "odd ""col" FROM public.orders
  WHERE note <> 'line one
line two'`,
	`CREATE VIEW public.definer WITH (security_invoker = false, security_barrier = false) AS SELECT 1 AS one`,
	`CREATE VIEW public.on_view AS SELECT id, amount, 1::public.posint AS "${p}", ROW(1, 'x')::other.pair AS pr FROM public.orders`,
	`CREATE VIEW public.uses AS SELECT b.id, public.add(b.id, 1) AS n FROM public.big b JOIN public.tbl(1) t ON t.a = b.id`,
	`CREATE MATERIALIZED VIEW public.totals AS SELECT sum(amount) AS total, note FROM public.orders GROUP BY note`,
	`CREATE UNIQUE INDEX totals_idx ON public.totals ((total > 0), note DESC NULLS LAST) WHERE total < 0`,
	`CREATE INDEX "totals ""note""" ON public.totals (note text_pattern_ops) INCLUDE (total)`,
	`CREATE INDEX totals_brin ON public.totals USING brin (total) WITH (pages_per_range = 16)`,
	`CREATE MATERIALIZED VIEW other.mv AS SELECT 1 AS "q""col", 2 AS b`,
	`CREATE INDEX mv_q ON other.mv ("q""col" DESC, b)`,
	`COMMENT ON INDEX public.totals_idx IS 'one per total'`,
	`COMMENT ON MATERIALIZED VIEW public.totals IS 'totals'`,
	`CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE OF amount, note ON public.orders FOR EACH ROW WHEN (NEW.amount > 0) EXECUTE FUNCTION public.audit('x', '1')`,
	`COMMENT ON TRIGGER orders_audit ON public.orders IS 'audits'`,
	`CREATE TRIGGER "trg ""q""" BEFORE DELETE OR TRUNCATE ON public.orders EXECUTE FUNCTION other.audit()`,
	`CREATE TRIGGER other_audit BEFORE UPDATE ON other.orders FOR EACH ROW EXECUTE FUNCTION other.audit()`,
	`CREATE TRIGGER view_ins INSTEAD OF INSERT ON public.on_view FOR EACH ROW EXECUTE FUNCTION public.audit()`,
	`CREATE TRIGGER events_audit AFTER INSERT ON public.events FOR EACH ROW EXECUTE FUNCTION public.audit()`,
	`CREATE TRIGGER part_audit AFTER DELETE ON public.events_2024 FOR EACH STATEMENT EXECUTE FUNCTION public.audit()`,
}

// routinesDescribe describes the family's objects of a database as
// PostgreSQL prints them (run with search_path = pg_catalog, so that
// names print qualified), one line each, but an extension's.
const routinesDescribe = `
SELECT 'relation ' || c.oid::regclass::text || ' ' || c.relkind::text || ' ' || coalesce(c.reloptions::text, '-') || ' ' || pg_get_viewdef(c.oid)
  || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-') || ' (' || (
    SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || coalesce(col_description(c.oid, a.attnum), '-'), ', ' ORDER BY a.attnum)
    FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) || ')'
FROM pg_class c WHERE c.relkind IN ('v', 'm') AND c.relnamespace::regnamespace::text IN ('public', 'other', '"My Schema"')
UNION ALL
SELECT 'index ' || pg_get_indexdef(x.indexrelid) || ' comment ' || coalesce(obj_description(x.indexrelid, 'pg_class'), '-')
FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid WHERE c.relkind = 'm'
UNION ALL
SELECT 'routine ' || pg_get_functiondef(p.oid) || ' comment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
FROM pg_proc p WHERE p.pronamespace::regnamespace::text IN ('public', 'other', '"My Schema"') AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text || ' comment ' || coalesce(obj_description(t.oid, 'pg_trigger'), '-')
FROM pg_trigger t WHERE NOT t.tgisinternal`

func describeRoutines(t *testing.T, u string) []string { return describe(t, u, routinesDescribe) }

// describe runs a query of one text column with search_path set to
// pg_catalog and returns its rows, sorted.
func describe(t *testing.T, u, query string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET search_path = pg_catalog"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return lines
}

// loadRoutines parses the tables, types and domains of a database and the
// printed blocks together, as keel reads a file keel inspect printed, and
// returns the family's declarations.
func loadRoutines(t *testing.T, u string, schemas []string, printed []byte) []state.ObjectDecl {
	t.Helper()
	ctx := context.Background()
	conn := openConn(t, u)
	st, err := Inspect(ctx, conn, schemas)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := state.MarshalHCL(st)
	if err != nil {
		t.Fatal(err)
	}
	types, err := inCatalogPath(ctx, conn, schemas, printTypes)
	if err != nil {
		t.Fatal(err)
	}
	src := append(append(tables, types...), printed...)
	parsed, err := state.ParseHCL([]string{"schema.hcl"}, [][]byte{src})
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	var mine []state.ObjectDecl
	for _, d := range parsed.Objects {
		switch d.Kind {
		case state.CatalogView, state.CatalogMaterializedView, state.CatalogFunction, state.CatalogProcedure, state.CatalogTrigger:
			mine = append(mine, d)
		}
	}
	return mine
}

// The family's objects print as blocks that read back, in another
// database, into objects PostgreSQL describes exactly as the originals;
// an extension's functions do not print, nor the copies of a partitioned
// table's trigger on its partitions.
func TestRoutinesRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, a, routinesBase...)
	pgtest.Exec(t, a, routinesSetup...)
	schemas := []string{"My Schema", "other", "public"}
	printed, err := inCatalogPath(ctx, openConn(t, a), schemas, printRoutines)
	if err != nil {
		t.Fatal(err)
	}
	text := string(printed)
	if got := pgtest.QueryValue[string](t, a, "SELECT current_setting('search_path')"); got == "pg_catalog" {
		t.Errorf("the printer left search_path at %s", got)
	}
	// Attributes are aligned: compare with single spaces.
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{
		`function "public" "audit" {`, `function "other" "audit" {`, `function "we\"ird fn" {`, `schema = schema["My Schema"]`,
		`view "public" "big" {`, `view "we\"ird view" {`, `materialized "totals" {`, `procedure "p" {`,
		`lang   = PLpgSQL`, `type    = enum.mood`, `mode    = VARIADIC`, `default = sql("ARRAY[1, 2]")`, `default = 2`,
		`return_table {`, `return     = sql("SETOF bigint")`, `config_params {`, `search_path = "\"$user\", public"`,
		`search_path = "\"\""`, `as     = <<-SQL`, `$${not a template} %%{nor this}`, `as     = "RETURN (a + b)"`,
		`security_barrier = true`, `check_option     = LOCAL`, `security     = INVOKER`, `check_option = CASCADED`,
		`ops    = text_pattern_ops`, `expr = "\"q\"\"col\""`, `security         = DEFINER`, `include = [column.total]`, `page_per_range = 16`, `nulls_last = true`,
		`on = table.public.orders`, `on = view.on_view`, `type = domain.posint`, `type = composite.pair`, `column "$${p}" {`, `type = sql("public.orders")`, `on = table.public.events_2024`, `instead_of {`,
		`update_of = [table.public.orders.column.amount, table.public.orders.column.note]`, `function = function.public.audit`,
		`args     = ["x", "1"]`, `when = "(new.amount > (0)::numeric)"`, `for = ROW`, `truncate = true`,
	} {
		if !strings.Contains(flat, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("printed HCL lacks %q", want)
		}
	}
	for _, unwanted := range []string{"uuid_", "keel cannot print"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("printed HCL has %q", unwanted)
		}
	}
	if n := strings.Count(text, `trigger "events_audit"`); n != 1 {
		t.Errorf("the partitioned table's trigger prints %d times, not once (its copies on partitions are not its own)", n)
	}

	parsed := loadRoutines(t, a, schemas, printed)
	b, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, b, routinesBase...)
	runDecls(t, b, parsed, true)
	runDecls(t, b, parsed, false)
	want, got := describeRoutines(t, a), describeRoutines(t, b)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("database B differs from A:\nA:\n%s\n\nB:\n%s\n\nHCL:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"), printed)
	}
	// And B prints the same.
	again, err := inCatalogPath(ctx, openConn(t, b), schemas, printRoutines)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != text {
		t.Errorf("B prints otherwise than A:\nA:\n%s\nB:\n%s", text, again)
	}
}

// What the blocks cannot say is not printed: a comment line says what and
// why, and no block reads back as something else.
func TestRoutinesUnprintable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, a, routinesBase...)
	pgtest.Exec(t, a,
		`CREATE FUNCTION public.audit() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'`,
		`CREATE FUNCTION public."q""fn"() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'`,
		`CREATE AGGREGATE public.total(int) (sfunc = int4pl, stype = int)`,
		`CREATE FUNCTION public.setting() RETURNS int LANGUAGE sql SET plpgsql.variable_conflict = 'use_column' AS 'SELECT 1'`,
		`SET check_function_bodies = off`,
		`CREATE FUNCTION public.strbody() RETURNS int LANGUAGE sql AS 'RETURN 1'`,
		`CREATE VIEW public.v_on WITH (security_barrier = on) AS SELECT 1 AS one`,
		`CREATE MATERIALIZED VIEW public.mv WITH (fillfactor = 50) AS SELECT 1 AS one`,
		`CREATE TRIGGER off_trg AFTER INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION public.audit()`,
		`ALTER TABLE public.orders DISABLE TRIGGER off_trg`,
		`CREATE CONSTRAINT TRIGGER con_trg AFTER INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION public.audit()`,
		`CREATE TRIGGER trans_trg AFTER INSERT ON public.orders REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION public.audit()`,
		`CREATE TRIGGER q_trg AFTER INSERT ON public.orders EXECUTE FUNCTION public."q""fn"()`,
		`CREATE TRIGGER ext_trg BEFORE INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()`,
	)
	printed, err := inCatalogPath(ctx, openConn(t, a), []string{"My Schema", "other", "public"}, printRoutines)
	if err != nil {
		t.Fatal(err)
	}
	text := string(printed)
	for _, want := range []string{
		`# keel cannot print function public.total(integer): it is an aggregate`,
		`# keel cannot print function public.setting(): it sets "plpgsql.variable_conflict"`,
		`# keel cannot print function public.strbody(): its body is a string that reads as an SQL-standard body`,
		`# keel cannot print view public.v_on: its option security_barrier=on`,
		`# keel cannot print materialized view public.mv: its storage parameters (fillfactor=50)`,
		`# keel cannot print trigger off_trg on public.orders: it is disabled`,
		`# keel cannot print trigger con_trg on public.orders: it is a constraint trigger`,
		`# keel cannot print trigger trans_trg on public.orders: it has transition tables`,
		`# keel cannot print trigger q_trg on public.orders: HCL cannot refer to function public."q\"fn"`,
		`# keel cannot print trigger ext_trg on public.orders: its function pg_catalog.suppress_redundant_updates_trigger is not printed here`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("printed HCL lacks %q:\n%s", want, text)
		}
	}
	for _, unwanted := range []string{`"total"`, `"setting"`, `"strbody"`, `"v_on"`, `"mv"`, `trigger "`} {
		if strings.Contains(text, unwanted) {
			t.Errorf("printed HCL has a block for %s:\n%s", unwanted, text)
		}
	}
	// What is printed reads back.
	loadRoutines(t, a, []string{"My Schema", "other", "public"}, printed)
}

// HCL written by hand from Atlas's documentation makes the objects that
// the same SQL makes.
func TestRoutinesHandWritten(t *testing.T) {
	t.Parallel()
	const hcl = `schema "public" {}
table "orders" {
  schema = schema.public
  column "order_id" {
    type = int
  }
  column "amount" {
    type = numeric
  }
}
table "orders_audit" {
  schema = schema.public
  column "order_id" {
    type = int
  }
  column "operation" {
    type = text
  }
}
function "audit_orders" {
  schema = schema.public
  lang   = PLpgSQL
  return = trigger
  as     = <<-SQL
  BEGIN
    INSERT INTO orders_audit(order_id, operation) VALUES (NEW.order_id, TG_OP);
    RETURN NEW;
  END;
  SQL
}
trigger "trigger_orders_audit" {
  on = table.orders
  after {
    insert    = true
    update_of = [table.orders.column.amount]
  }
  execute {
    function = function.audit_orders
  }
}
function "positive" {
  schema = schema.public
  lang   = SQL
  arg "v" {
    type = integer
  }
  return = boolean
  as     = "SELECT v > 0"
}
function "sql_body1" {
  schema = schema.public
  lang   = SQL
  arg "v" {
    type = integer
  }
  return = integer
  as = <<-SQL
   BEGIN ATOMIC
    SELECT v;
   END
  SQL
}
function "sql_body2" {
  schema = schema.public
  lang   = SQL
  arg {
    type = integer
  }
  return     = integer
  as         = "RETURN $1"
  volatility = IMMUTABLE
  strict     = true
}
procedure "proc" {
  schema = schema.public
  lang   = SQL
  arg "a" {
    type = integer
  }
  arg "b" {
    type = text
  }
  arg "c" {
    type    = integer
    default = 100
  }
  as = <<-SQL
   INSERT INTO orders_audit VALUES(a, b);
   INSERT INTO orders_audit VALUES(c, b);
  SQL
}
view "clean_orders" {
  schema = schema.public
  column "order_id" {
    type = int
  }
  as         = <<-SQL
  SELECT o.order_id
    FROM ${table.orders.name} AS o
  SQL
  depends_on = [table.orders]
  comment    = "orders without amounts"
}
view "comedies" {
  schema       = schema.public
  as           = "SELECT order_id FROM orders WHERE amount > 0"
  depends_on   = [table.orders]
  check_option = CASCADED
}
materialized "mat_view" {
  schema = schema.public
  column "total" {
    null = true
    type = numeric
  }
  index "idx_expr" {
    unique = true
    on {
      expr = "((total > (0)::numeric))"
    }
  }
  index "idx_pred" {
    unique  = true
    columns = [column.total]
    where   = "(total < (0)::numeric)"
  }
  as         = <<-SQL
   SELECT sum(amount) AS total
     FROM orders;
  SQL
  depends_on = [table.orders]
}
`
	parsed, err := state.ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(hcl)})
	if err != nil {
		t.Fatal(err)
	}
	tables := []string{
		`CREATE TABLE public.orders (order_id int NOT NULL, amount numeric NOT NULL)`,
		`CREATE TABLE public.orders_audit (order_id int NOT NULL, operation text NOT NULL)`,
	}
	a, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, a, tables...)
	pgtest.Exec(t, a,
		`CREATE FUNCTION public.audit_orders() RETURNS trigger LANGUAGE plpgsql AS $body$BEGIN
  INSERT INTO orders_audit(order_id, operation) VALUES (NEW.order_id, TG_OP);
  RETURN NEW;
END;
$body$`,
		`CREATE TRIGGER trigger_orders_audit AFTER INSERT OR UPDATE OF amount ON public.orders EXECUTE FUNCTION public.audit_orders()`,
		`CREATE FUNCTION public.positive(v integer) RETURNS boolean LANGUAGE sql AS 'SELECT v > 0'`,
		`CREATE FUNCTION public.sql_body1(v integer) RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT v; END`,
		`CREATE FUNCTION public.sql_body2(integer) RETURNS integer LANGUAGE sql IMMUTABLE STRICT RETURN $1`,
		`CREATE PROCEDURE public.proc(a integer, b text, c integer DEFAULT 100) LANGUAGE sql AS $body$INSERT INTO orders_audit VALUES(a, b);
INSERT INTO orders_audit VALUES(c, b);
$body$`,
		`CREATE VIEW public.clean_orders AS SELECT o.order_id FROM orders AS o`,
		`COMMENT ON VIEW public.clean_orders IS 'orders without amounts'`,
		`CREATE VIEW public.comedies AS SELECT order_id FROM orders WHERE amount > 0 WITH CASCADED CHECK OPTION`,
		`CREATE MATERIALIZED VIEW public.mat_view AS SELECT sum(amount) AS total FROM orders WITH NO DATA`,
		`CREATE UNIQUE INDEX idx_expr ON public.mat_view ((total > 0::numeric))`,
		`CREATE UNIQUE INDEX idx_pred ON public.mat_view (total) WHERE total < 0::numeric`,
	)
	b, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, b, tables...)
	runDecls(t, b, parsed.Objects, true)
	runDecls(t, b, parsed.Objects, false)
	want, got := describeRoutines(t, a), describeRoutines(t, b)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("database B differs from A:\nA:\n%s\n\nB:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}

// A view's column block says its column's type: the throwaway database
// fails, naming the view, the column and the block, when it is another.
func TestRoutinesViewColumnTypeCheck(t *testing.T) {
	t.Parallel()
	const hcl = `schema "public" {}
view "v" {
  schema = schema.public
  column "id" {
    type = text
  }
  as = "SELECT 1 AS id"
}
`
	parsed, err := state.ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(hcl)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var failed error
	for _, s := range parsed.Objects[0].SQL {
		if _, err := conn.Exec(ctx, s); err != nil {
			failed = err
			break
		}
	}
	const want = `view public.v: column id is integer, but its column block (schema.hcl:4:3) says text`
	if failed == nil || !strings.Contains(failed.Error(), want) {
		t.Errorf("running the view's statements: %v; want an error saying %q", failed, want)
	}
}

// inCatalogPath runs a printer as ObjectsHCL does: with search_path set
// to pg_catalog.
func inCatalogPath(ctx context.Context, c *pg.Conn, schemas []string, p objectPrinter) (out []byte, err error) {
	err = withCatalogPath(ctx, c, "printing", func() (err error) {
		out, err = p(ctx, c, schemas)
		return err
	})
	return out, err
}
