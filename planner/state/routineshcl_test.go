package state

import (
	"errors"
	"strings"
	"testing"
)

// routinesPrelude is what the cases below add their blocks to (lines 1 to
// 6): their blocks start at line 7.
const routinesPrelude = `schema "public" {}
table "orders" {
  schema = schema.public
  column "id" { type = int }
  column "amount" { type = numeric }
}
`

// Every mistake in a view, materialized, function, procedure or trigger
// block is an error at its file:line:column that says what to write.
func TestRoutinesMistakes(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, src, want string }{
		{"unknown attribute", `view "v" {
  schema = schema.public
  as = "SELECT 1"
  checkoption = LOCAL
}`, `schema.hcl:10:3: unknown attribute "checkoption" in view "v"; did you mean "check_option"?`},
		{"view without as", `view "v" {
  schema = schema.public
}`, `schema.hcl:7:1: view "v": as is missing: write the query, as = "SELECT ..." or as = <<-SQL ... SQL`},
		{"view with two statements", `view "v" {
  schema = schema.public
  as = "SELECT 1; DROP TABLE orders"
}`, `schema.hcl:9:8: view "v": as holds more than one statement: it is the view's query alone`},
		{"view column not null", `view "v" {
  schema = schema.public
  column "id" {
    null = false
  }
  as = "SELECT 1 AS id"
}`, `schema.hcl:10:12: view "v": column "id": null = false: the columns of a view are always nullable in PostgreSQL; remove it`},
		{"view column unknown type", `view "v" {
  schema = schema.public
  column "id" {
    type = integr
  }
  as = "SELECT 1 AS id"
}`, `schema.hcl:10:12: view "v": column "id": type: `},
		{"check option", `view "v" {
  schema = schema.public
  as = "SELECT 1"
  check_option = BOTH
}`, `schema.hcl:10:18: view "v": check_option takes LOCAL or CASCADED`},
		{"security", `view "v" {
  schema = schema.public
  as = "SELECT 1"
  security = OWNER
}`, `schema.hcl:10:14: view "v": security takes INVOKER or DEFINER`},
		{"no schema", `view "v" {
  as = "SELECT 1"
}`, `schema.hcl:7:1: view "v" has no schema: write schema = schema.NAME`},
		{"undeclared schema", `view "v" {
  schema = schema.other
  as = "SELECT 1"
}`, `schema.hcl:7:1: view "v" is in schema "other", which no schema block declares: add schema "other" {}`},
		{"view declared twice", `view "v" {
  schema = schema.public
  as = "SELECT 1"
}
view "v" {
  schema = schema.public
  as = "SELECT 2"
}`, `schema.hcl:11:1: view public.v is already declared at schema.hcl:7:1`},
		{"template naming an undeclared table", `view "v" {
  schema = schema.public
  as = "SELECT * FROM ${table.nope.name}"
}`, `schema.hcl:9:8: view "v": as: This object does not have an attribute named "nope" (Unsupported attribute)`},
		{"depends_on an undeclared view", `view "v" {
  schema = schema.public
  as = "SELECT 1"
  depends_on = [table.orders, view.nope]
}`, `schema.hcl:10:31: view "v": depends_on names view.nope, which no view block declares (declared: public.v)`},
		{"depends_on not a list", `view "v" {
  schema = schema.public
  as = "SELECT 1"
  depends_on = table.orders
}`, `schema.hcl:10:16: view "v": depends_on takes a list of references to blocks`},
		{"index without columns", `materialized "m" {
  schema = schema.public
  as = "SELECT 1 AS one"
  index "m_idx" {
    unique = true
  }
}`, `schema.hcl:10:3: materialized "m": index "m_idx" has no columns: write columns = [column.NAME] or on { column = column.NAME } / on { expr = "..." } blocks`},
		{"index expr with a semicolon", `materialized "m" {
  schema = schema.public
  as = "SELECT 1 AS one"
  index "m_idx" {
    on {
      expr = "one; DROP TABLE orders"
    }
  }
}`, `schema.hcl:12:14: materialized "m": index "m_idx": on's expr holds a semicolon: it is one expression`},
		{"function without lang", `function "f" {
  schema = schema.public
  return = int
  as = "SELECT 1"
}`, `schema.hcl:7:1: function "f": lang is missing: write lang = SQL or lang = PLpgSQL`},
		{"function without return", `function "f" {
  schema = schema.public
  lang = SQL
  as = "SELECT 1"
}`, `schema.hcl:7:1: function "f": return is missing: write return = TYPE (void when it returns nothing, trigger for a trigger's function)`},
		{"arg mode", `function "f" {
  schema = schema.public
  lang = SQL
  arg "a" {
    type = int
    mode = INPUT
  }
  return = int
  as = "SELECT a"
}`, `schema.hcl:12:12: function "f": mode takes IN, OUT, INOUT or VARIADIC`},
		{"arg without type", `function "f" {
  schema = schema.public
  lang = SQL
  arg "a" {
  }
  return = int
  as = "SELECT a"
}`, `schema.hcl:10:3: function "f": arg "a" has no type: write type = TYPE (int, text, ...)`},
		{"raw type that is more than a type", `function "f" {
  schema = schema.public
  lang = SQL
  arg "a" {
    type = sql("int) RETURNS int AS 'select 1' LANGUAGE sql; DROP TABLE orders; --")
  }
  return = int
  as = "SELECT a"
}`, `schema.hcl:11:12: function "f": arg "a": type "int) RETURNS int AS 'select 1' LANGUAGE sql; DROP TABLE orders; --" closes a ")" it never opened`},
		{"default with a comma", `function "f" {
  schema = schema.public
  lang = SQL
  arg "a" {
    type = int
    default = sql("1, b int")
  }
  return = int
  as = "SELECT a"
}`, `schema.hcl:12:15: function "f": arg "a": default holds a comma outside parentheses: it is one expression`},
		{"enum type not declared", `function "f" {
  schema = schema.public
  lang = SQL
  arg "a" {
    type = enum.mood
  }
  return = int
  as = "SELECT 1"
}`, `schema.hcl:11:12: function "f": arg "a": type names enum.mood, which no enum block declares (none is declared)`},
		{"cost", `function "f" {
  schema = schema.public
  lang = SQL
  return = int
  as = "SELECT 1"
  cost = -1
}`, `schema.hcl:12:10: function "f": cost takes a positive number`},
		{"config_params setting", `function "f" {
  schema = schema.public
  lang = SQL
  return = int
  as = "SELECT 1"
  config_params {
    serch_path = "public"
  }
}`, `schema.hcl:13:5: unknown attribute "serch_path" in function "f", config_params; did you mean "search_path"?`},
		{"standard body of two statements", `function "f" {
  schema = schema.public
  lang = SQL
  return = int
  as = "RETURN 1; DROP TABLE orders"
}`, `schema.hcl:11:8: function "f": as is a BEGIN ATOMIC ... END or RETURN body that does not read as one: it is the body alone`},
		{"procedure with return", `procedure "p" {
  schema = schema.public
  lang = SQL
  return = int
  as = "SELECT 1"
}`, `schema.hcl:10:3: unknown attribute "return" in procedure "p"`},
		{"trigger on an undeclared table", `function "f" {
  schema = schema.public
  lang = PLpgSQL
  return = trigger
  as = "BEGIN RETURN NEW; END"
}
trigger "t" {
  on = table.nope
  after {
    insert = true
  }
  execute {
    function = function.f
  }
}`, `schema.hcl:14:8: trigger "t": on names table.nope, which no table block declares (declared: public.orders)`},
		{"trigger function not declared", `trigger "t" {
  on = table.orders
  after {
    insert = true
  }
  execute {
    function = function.nope
  }
}`, `schema.hcl:13:16: trigger "t": execute's function names function.nope, which no function block without arguments declares (none is declared)`},
		{"trigger function not returning trigger", `function "f" {
  schema = schema.public
  lang = SQL
  return = int
  as = "SELECT 1"
}
trigger "t" {
  on = table.orders
  after {
    insert = true
  }
  execute {
    function = function.f
  }
}`, `schema.hcl:19:16: trigger "t": execute's function public.f returns integer (schema.hcl:7:1): a trigger's function has return = trigger`},
		{"trigger without timing", `function "f" {
  schema = schema.public
  lang = PLpgSQL
  return = trigger
  as = "BEGIN RETURN NEW; END"
}
trigger "t" {
  on = table.orders
  execute {
    function = function.f
  }
}`, `schema.hcl:13:1: trigger "t": when it fires is missing: write a before, after or instead_of block, e.g. after { insert = true }`},
		{"trigger with two timings", `function "f" {
  schema = schema.public
  lang = PLpgSQL
  return = trigger
  as = "BEGIN RETURN NEW; END"
}
trigger "t" {
  on = table.orders
  before {
    insert = true
  }
  after {
    insert = true
  }
  execute {
    function = function.f
  }
}`, `schema.hcl:18:3: trigger "t": before and after blocks together: a trigger fires at one time; write two triggers`},
		{"update and update_of", `function "f" {
  schema = schema.public
  lang = PLpgSQL
  return = trigger
  as = "BEGIN RETURN NEW; END"
}
trigger "t" {
  on = table.orders
  after {
    update = true
    update_of = [table.orders.column.amount]
  }
  execute {
    function = function.f
  }
}`, `schema.hcl:16:5: trigger "t": update and update_of together: update_of = [...] fires on updates of those columns, update = true on any`},
		{"trigger when with a semicolon", `function "f" {
  schema = schema.public
  lang = PLpgSQL
  return = trigger
  as = "BEGIN RETURN NEW; END"
}
trigger "t" {
  on = table.orders
  after {
    insert = true
  }
  when = "true; DROP TABLE orders"
  execute {
    function = function.f
  }
}`, `schema.hcl:18:10: trigger "t": when holds a semicolon: it is one expression`},
		{"trigger for", `function "f" {
  schema = schema.public
  lang = PLpgSQL
  return = trigger
  as = "BEGIN RETURN NEW; END"
}
trigger "t" {
  on = table.orders
  after {
    insert = true
  }
  for = EACH_ROW
  execute {
    function = function.f
  }
}`, `schema.hcl:18:9: trigger "t": for takes ROW or STATEMENT`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(routinesPrelude + c.src + "\n")})
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *SchemaError with %q", err, c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got:\n%v\nwant a problem:\n%s", err, c.want)
			}
		})
	}
}

// A trigger's function and table may be declared in other files: the
// statements name them qualified; a partition (whose block keel reads
// apart) is taken as written when referred to qualified.
func TestRoutinesAcrossFiles(t *testing.T) {
	t.Parallel()
	files := []string{"a.hcl", "b.hcl"}
	srcs := [][]byte{[]byte(routinesPrelude + `schema "audit" {}
function "log" {
  schema = schema.audit
  lang   = PLpgSQL
  return = trigger
  as     = "BEGIN RETURN NEW; END"
}
function "log" {
  schema = schema.public
  lang   = PLpgSQL
  arg "x" {
    type = int
  }
  return = trigger
  as     = "BEGIN RETURN NEW; END"
}
`), []byte(`trigger "orders_log" {
  on = table.orders
  before {
    update_of = [table.orders.column.amount]
    delete    = true
  }
  for  = ROW
  when = "OLD.amount IS DISTINCT FROM NEW.amount"
  execute {
    function = function.log
    args     = ["it's", 2]
  }
  comment = "logs"
}
trigger "p_log" {
  on = table.public.orders_2024
  after {
    insert = true
  }
  execute {
    function = function.audit.log
  }
}
`)}
	st, err := ParseHCL(files, srcs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range st.Objects {
		if o.Kind == kindTrigger {
			got = append(got, o.Schema+"|"+o.Table+"|"+o.Name+"|"+o.Pos+"|"+strings.Join(o.SQL, ";\n"))
		}
	}
	want := []string{
		`public|orders|orders_log|b.hcl:1:1|CREATE TRIGGER "orders_log" BEFORE DELETE OR UPDATE OF "amount" ON "public"."orders" FOR EACH ROW WHEN (OLD.amount IS DISTINCT FROM NEW.amount) EXECUTE FUNCTION "audit"."log"('it''s', '2');
COMMENT ON TRIGGER "orders_log" ON "public"."orders" IS 'logs'`,
		`public|orders_2024|p_log|b.hcl:15:1|CREATE TRIGGER "p_log" AFTER INSERT ON "public"."orders_2024" EXECUTE FUNCTION "audit"."log"()`,
	}
	if strings.Join(got, "\n\n") != strings.Join(want, "\n\n") {
		t.Errorf("got:\n%s\n\nwant:\n%s", strings.Join(got, "\n\n"), strings.Join(want, "\n\n"))
	}
}

// The statements of each kind of block, as the throwaway database runs
// them: names quoted, literals quoted, bodies dollar-quoted with a tag
// they do not hold, the options in the order written; the blocks are
// taken out of what the engine evaluates.
func TestRoutinesStatements(t *testing.T) {
	t.Parallel()
	src := routinesPrelude + `enum "mood" {
  schema = schema.public
  values = ["happy", "sad"]
}
function "we\"ird" {
  schema = schema.public
  lang   = PLpgSQL
  arg "a" {
    type    = varchar(10)
    default = "it's"
  }
  arg "m" {
    type    = enum.mood
    mode    = INOUT
    default = sql("'sad'::public.mood")
  }
  arg {
    type = sql("integer[]")
    mode = VARIADIC
  }
  return     = sql("SETOF integer")
  as         = "BEGIN RETURN NEXT 1; -- $body$\nEND"
  volatility = STABLE
  security   = DEFINER
  parallel   = RESTRICTED
  cost       = 2.5
  rows       = 10
  config_params {
    search_path = "\"$user\", Public, \"A\"\"b\""
    work_mem    = "64MB"
  }
  comment = "it's ${"$"}{x}"
}
function "t" {
  schema = schema.public
  lang   = SQL
  return_table {
    column "a" {
      type = int
    }
  }
  as = <<-SQL
   BEGIN ATOMIC
     SELECT 1;
   END;
  SQL
}
view "v" {
  schema           = schema.public
  as               = "SELECT id FROM orders -- trailing comment"
  security_barrier = false
  check_option     = LOCAL
  security         = DEFINER
}
materialized "m" {
  schema = schema.public
  column "total" {
    comment = "the total"
  }
  as = "SELECT sum(amount) AS total, id FROM orders GROUP BY id -- comment"
  index "m_idx" {
    unique         = true
    type           = BTREE
    on {
      column = column.total
      desc   = true
      nulls_last = true
    }
    on {
      expr  = "id + 1"
      ops   = int4_ops
    }
    include        = [column.id]
    nulls_distinct = false
    where          = "total > 0"
    comment        = "m's"
  }
}
`
	st, err := ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range st.Objects {
		got = append(got, o.Kind+" "+o.Schema+"."+o.Name+" early="+map[bool]string{true: "yes", false: "no"}[o.Early]+"\n"+strings.Join(o.SQL, "\n--\n"))
	}
	want := []string{
		`function public.we"ird early=yes
CREATE FUNCTION "public"."we""ird"("a" character varying(10) DEFAULT 'it''s', INOUT "m" "public"."mood" DEFAULT 'sad'::public.mood, VARIADIC integer[]) RETURNS SETOF integer LANGUAGE "plpgsql" STABLE SECURITY DEFINER PARALLEL RESTRICTED COST 2.5 ROWS 10 SET "search_path" = '$user', 'public', 'A"b' SET "work_mem" = '64MB' AS $body1$BEGIN RETURN NEXT 1; -- $body$
END$body1$
--
COMMENT ON FUNCTION "public"."we""ird"("a" character varying(10), INOUT "m" "public"."mood", VARIADIC integer[]) IS 'it''s ${x}'`,
		`function public.t early=yes
CREATE FUNCTION "public"."t"() RETURNS TABLE("a" integer) LANGUAGE "sql"
BEGIN ATOMIC
  SELECT 1;
END`,
		`view public.v early=no
CREATE VIEW "public"."v" WITH (security_barrier = false, check_option = local, security_invoker = false) AS
SELECT id FROM orders -- trailing comment`,
		`materialized view public.m early=no
CREATE MATERIALIZED VIEW "public"."m" ("total") AS
SELECT sum(amount) AS total, id FROM orders GROUP BY id -- comment
WITH NO DATA
--
CREATE UNIQUE INDEX "m_idx" ON "public"."m" USING btree ("total" DESC NULLS LAST, (id + 1) "int4_ops") INCLUDE ("id") NULLS NOT DISTINCT WHERE total > 0
--
COMMENT ON INDEX "public"."m_idx" IS 'm''s'
--
COMMENT ON COLUMN "public"."m"."total" IS 'the total'`,
	}
	if strings.Join(got, "\n\n") != strings.Join(want, "\n\n") {
		t.Errorf("got:\n%s\n\nwant:\n%s", strings.Join(got, "\n\n"), strings.Join(want, "\n\n"))
	}
	// The engine saw none of the blocks: the realm has the table and the
	// enum alone.
	if s, ok := st.Realm.Schema("public"); !ok || len(s.Tables) != 1 {
		t.Errorf("the realm has %v", st.Realm.Schemas)
	}
}

// A list setting's value as PostgreSQL shows it splits into the names SET
// writes back to it.
func TestRoutinesSplitNameList(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`"$user", public`:        `$user|public`,
		`""`:                     ``,
		``:                       ``,
		`Public, "A""b", x`:      `public|A"b|x`,
		`pg_catalog,pg_temp`:     `pg_catalog|pg_temp`,
		`"a" "b"`:                `error`,
		`"open`:                  `error`,
		`a"b"`:                   `error`,
		`"My Schema", "other"`:   `My Schema|other`,
		`"my, schema", public`:   `my, schema|public`,
		`"x"  , y`:               `x|y`,
		`  spaced , "kept " `:    `spaced|kept `,
		`"$user"`:                `$user`,
		`public`:                 `public`,
		`"Upper"`:                `Upper`,
		`Upper`:                  `upper`,
		`"a""""b"`:               `a""b`,
		`"",""`:                  `|`,
		`"a", ""`:                `a|`,
		`public, pg_temp, "x y"`: `public|pg_temp|x y`,
	} {
		names, err := splitNameList(in)
		got := strings.Join(names, "|")
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("splitNameList(%q) = %q, want %q", in, got, want)
		}
	}
}
