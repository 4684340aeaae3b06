package inspect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"keel/internal/pgsql"
	"keel/internal/pgtest"
	"keel/planner/pg"
	"keel/planner/state"

	"github.com/jackc/pgx/v5"
)

// secTestRole creates a role of the server for the test, whose name starts
// with base, and drops it when the test ends. Call it before
// pgtest.NewDatabase, so that the databases (and what they grant it) go
// first.
func secTestRole(t *testing.T, base string) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := base + hex.EncodeToString(b[:])
	pgtest.Exec(t, pgtest.ServerURL(), "CREATE ROLE "+pgsql.QuoteIdent(name))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pgtest.ServerURL())
		if err != nil {
			t.Errorf("dropping role %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP ROLE IF EXISTS "+pgsql.QuoteIdent(name)); err != nil {
			t.Errorf("dropping role %s: %v", name, err)
		}
	})
	return name
}

func secConnect(t *testing.T, u string) *pg.Conn {
	t.Helper()
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Open(context.Background(), "keel security test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// secLoad runs the declarations of the kinds of the security family on the
// database at u as the throwaway database does: each in a transaction,
// those that fail tried again after the others, in rounds. It returns the
// error of the first that still fails.
func secLoad(t *testing.T, u string, decls []state.ObjectDecl) error {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var todo []state.ObjectDecl
	for _, d := range decls {
		switch d.Kind {
		case "row security", "policy", "privilege", "role":
			todo = append(todo, d)
		}
	}
	for len(todo) > 0 {
		var failed []state.ObjectDecl
		var first error
		for _, d := range todo {
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, stmt := range d.SQL {
				if err = pgsql.OneStatement(stmt); err != nil {
					t.Fatalf("%s: %s is not one statement: %v", d.Pos, stmt, err)
				}
				if _, err = tx.Exec(ctx, stmt); err != nil {
					err = fmt.Errorf("%s: %s: %w", d.Pos, stmt, err)
					break
				}
			}
			if err != nil {
				_ = tx.Rollback(ctx)
				failed = append(failed, d)
				if first == nil {
					first = err
				}
				continue
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if len(failed) == len(todo) {
			return first
		}
		todo = failed
	}
	return nil
}

// secDescribe describes, as PostgreSQL prints them with names qualified,
// the row-level security switches of the tables of the schemas, their
// policies with their comments, and every grantee's privileges (but the
// owner's) on the schemas and on their objects, leaving out the objects of
// extensions.
func secDescribe(t *testing.T, u string, schemas ...string) string {
	t.Helper()
	notExt := func(catalog, oid string) string {
		return `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '` + catalog + `'::regclass AND e.objid = ` + oid + ` AND e.deptype = 'e')`
	}
	q := `SELECT coalesce(string_agg(line, E'\n' ORDER BY line), '') FROM (
SELECT format('rls %I.%I %s %s', n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity) AS line
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p')
UNION ALL
SELECT format('policy %I on %I.%I %s %s %s using %s check %s comment %L', pol.polname, n.nspname, c.relname,
  pol.polpermissive, pol.polcmd,
  (SELECT string_agg(x, ',' ORDER BY x) FROM (SELECT CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE quote_ident(ro.rolname) END AS x
    FROM unnest(pol.polroles) r(oid) LEFT JOIN pg_roles ro ON ro.oid = r.oid) rs),
  pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid), obj_description(pol.oid, 'pg_policy'))
FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)
UNION ALL
SELECT format('grant %s to %s: %s%s', o.what, CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END,
  x.privilege_type, CASE WHEN x.is_grantable THEN ' with grant option' ELSE '' END)
FROM (
  SELECT 'schema ' || quote_ident(n.nspname) AS what, coalesce(n.nspacl, acldefault('n', n.nspowner)) AS acl, n.nspowner AS owner
  FROM pg_namespace n WHERE n.nspname = ANY($1)
  UNION ALL
  SELECT c.relkind::text || ' ' || c.oid::regclass::text, coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner)), c.relowner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND ` + notExt("pg_class", "c.oid") + `
  UNION ALL
  SELECT 'routine ' || p.oid::regprocedure::text, coalesce(p.proacl, acldefault('f', p.proowner)), p.proowner
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1) AND ` + notExt("pg_proc", "p.oid") + `
) o CROSS JOIN LATERAL aclexplode(o.acl) x LEFT JOIN pg_roles r ON r.oid = x.grantee WHERE x.grantee <> o.owner
) lines`
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "SET search_path = pg_catalog"); err != nil {
		t.Fatal(err)
	}
	var out string
	if err := conn.QueryRow(context.Background(), q, schemas).Scan(&out); err != nil {
		t.Fatalf("describing the security of %s: %v", u, err)
	}
	return out
}

// secObjectsSQL creates the objects the policies and privileges of the
// tests are on.
const secObjectsSQL = `CREATE SCHEMA "Sales Dept";
CREATE TABLE public.orders (id int PRIMARY KEY, tenant int, note text);
CREATE TABLE "Sales Dept"."order items" (id int, qty int);
CREATE TABLE "Sales Dept".orders (id int);
CREATE TABLE public.events (at date, x int) PARTITION BY RANGE (at);
CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE public.serials (id serial, n int);
CREATE VIEW public.v AS SELECT id FROM public.orders;
CREATE MATERIALIZED VIEW public.mv AS SELECT id FROM public.orders;
CREATE SEQUENCE public.counter;
CREATE FUNCTION public.f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;
CREATE FUNCTION public.transfer() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $body$
BEGIN
  RAISE NOTICE '$$ not the end $$';
END
$body$;
CREATE PROCEDURE public.p() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE EXTENSION "uuid-ossp";`

// The policies, privileges and row-level security of a database print as
// HCL that, read back and loaded into another database with the same
// tables, gives the same policies, privileges and switches; nothing of an
// extension prints.
func TestSecurityRoundTrip(t *testing.T) {
	t.Parallel()
	reader := secTestRole(t, "keel_sec_reader_")
	writer := secTestRole(t, "keel_sec_writer_")
	odd := secTestRole(t, `keel sec "odd" `)
	a, _ := pgtest.NewDatabase(t)
	b, _ := pgtest.NewDatabase(t)
	r, w, o := pgsql.QuoteIdent(reader), pgsql.QuoteIdent(writer), pgsql.QuoteIdent(odd)
	pgtest.Exec(t, a, secObjectsSQL,
		`ALTER TABLE public.orders ENABLE ROW LEVEL SECURITY`,
		`ALTER TABLE public.orders FORCE ROW LEVEL SECURITY`,
		`ALTER TABLE "Sales Dept"."order items" ENABLE ROW LEVEL SECURITY`,
		`ALTER TABLE public.events_2026 FORCE ROW LEVEL SECURITY`,
		`CREATE POLICY tenant ON public.orders AS RESTRICTIVE FOR SELECT TO `+r+`, `+o+` USING (tenant = current_setting('app.tenant')::int)`,
		`CREATE POLICY "it's ""quoted""" ON public.orders FOR INSERT TO PUBLIC WITH CHECK (tenant > 0)`,
		`CREATE POLICY upd ON public.orders FOR UPDATE TO PUBLIC USING (true) WITH CHECK (note <> '${x} %{y}' AND public.f(id) > 0)`,
		`COMMENT ON POLICY upd ON public.orders IS 'multi
line ''comment'' "with quotes"'`,
		`CREATE POLICY tenant ON "Sales Dept"."order items" USING (qty > 0)`,
		`CREATE POLICY p2026 ON public.events_2026 TO `+w+` USING (x > 0)`,
		`GRANT USAGE ON SCHEMA "Sales Dept" TO `+r,
		`GRANT SELECT, INSERT ON public.orders TO `+r,
		`GRANT UPDATE ON public.orders TO `+w+` WITH GRANT OPTION`,
		`GRANT SELECT ON public.orders TO `+w,
		`GRANT ALL ON public.serials TO `+w,
		`GRANT SELECT ON public.v TO `+r,
		`GRANT SELECT ON public.mv TO PUBLIC`,
		`GRANT USAGE ON SEQUENCE public.counter TO `+w,
		`GRANT USAGE, SELECT ON SEQUENCE public.serials_id_seq TO `+w,
		`GRANT EXECUTE ON FUNCTION public.f(int) TO `+r,
		`REVOKE EXECUTE ON FUNCTION public.transfer() FROM PUBLIC`,
		`GRANT EXECUTE ON FUNCTION public.transfer() TO `+w,
		`REVOKE EXECUTE ON PROCEDURE public.p() FROM PUBLIC`,
		`GRANT EXECUTE ON PROCEDURE public.p() TO `+o,
		`GRANT SELECT ON "Sales Dept".orders TO `+r,
		`GRANT SELECT ON public.events_2026 TO `+r,
		`REVOKE USAGE ON SCHEMA public FROM PUBLIC`,
		`GRANT EXECUTE ON FUNCTION public.uuid_generate_v4() TO `+r,
		`REVOKE EXECUTE ON FUNCTION public.uuid_generate_v1() FROM PUBLIC`)
	pgtest.Exec(t, b, secObjectsSQL)

	ctx := context.Background()
	schemas := []string{"Sales Dept", "public"}
	conn := secConnect(t, a)
	st, err := Inspect(ctx, conn, schemas)
	if err != nil {
		t.Fatal(err)
	}
	if st.Catalog, err = ReadCatalog(ctx, conn, schemas); err != nil {
		t.Fatal(err)
	}
	// MarshalHCL prints the tables' row_security blocks.
	tables, err := state.MarshalHCL(st)
	if err != nil {
		t.Fatal(err)
	}
	printed, err := printSecurity(ctx, conn, schemas)
	if err != nil {
		t.Fatal(err)
	}
	text := string(printed)
	for _, want := range []string{
		`role "` + reader + `" {` + "\n  external = true\n}",
		`role "keel sec \"odd\" `,
		`to    = ["` + strings.ReplaceAll(odd, `"`, `\"`) + `", role.` + reader + `]`,
		"  on    = table.public.orders\n  as    = RESTRICTIVE\n  for   = SELECT\n",
		`on    = table["order items"]`,
		`on    = table.public.events_2026`,
		`check = "(tenant > 0)"`,
		`(note <> '$${x} %%{y}'::text)`,
		`comment = "multi\nline 'comment' \"with quotes\""`,
		"for        = table.public.orders\n  privileges = [UPDATE]\n  grantable  = true",
		"for        = view.v\n",
		"for        = materialized.mv\n",
		"for        = sequence.counter\n",
		"for        = sequence.public.serials_id_seq\n",
		"for        = function.f\n",
		"for        = procedure.p\n",
		"for        = schema[\"Sales Dept\"]\n  privileges = [USAGE]",
		"privileges = [SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER]",
		"revoke {\n  from       = PUBLIC\n  for        = function.transfer\n  privileges = [EXECUTE]\n}",
		"revoke {\n  from       = PUBLIC\n  for        = schema.public\n  privileges = [USAGE]\n}",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed HCL lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "uuid_generate") || strings.Contains(text, "keel cannot write") {
		t.Errorf("the printed HCL names an extension's function, or notes what it cannot write:\n%s", text)
	}
	for _, want := range []string{
		"  row_security {\n    enabled  = true\n    enforced = true\n  }\n",
		"  row_security {\n    enabled  = false\n    enforced = true\n  }\n",
	} {
		if !strings.Contains(string(tables), want) {
			t.Errorf("the printed tables lack %q:\n%s", want, tables)
		}
	}

	// Views, materialized views, sequences, functions and procedures are
	// declared by blocks of other readers; here they are not declared, and
	// referred to with their schema (what keel does for one it does not
	// declare).
	src := regexp.MustCompile(`= (view|materialized|sequence|function|procedure)\.([^.\s\[]+)\n`).ReplaceAllString(string(tables)+"\n"+text, "= $1.public.$2\n")
	parsed, err := state.ParseHCL([]string{"inspected.hcl"}, [][]byte{[]byte(src)})
	if err != nil {
		t.Fatalf("reading the printed HCL back: %v\n%s", err, src)
	}
	if err := secLoad(t, b, parsed.Objects); err != nil {
		t.Fatalf("loading the printed HCL: %v\n%s", err, src)
	}
	want, got := secDescribe(t, a, schemas...), secDescribe(t, b, schemas...)
	if got != want {
		t.Errorf("the database loaded from the printed HCL differs:\n%s\nwant:\n%s\nHCL:\n%s", got, want, src)
	}
	if !strings.Contains(want, "policy upd on public.orders t w PUBLIC using true check ((note <> '${x} %{y}'::text) AND (public.f(id) > 0))") ||
		!strings.Contains(want, "grant routine public.transfer() to "+writer+": EXECUTE") || strings.Contains(want, "grant routine public.transfer() to PUBLIC") {
		t.Errorf("the description misses what the test made:\n%s", want)
	}
}

// HCL written by hand as the Atlas docs show it gives the same policies,
// privileges and row-level security as the same SQL.
func TestSecurityHandWritten(t *testing.T) {
	t.Parallel()
	reader := secTestRole(t, "keel_sec_hand_")
	a, _ := pgtest.NewDatabase(t)
	b, _ := pgtest.NewDatabase(t)
	const tables = `CREATE TABLE public.docs (id int, owner text);
CREATE TABLE public.orders (id int, sales_rep_id int);
CREATE SEQUENCE public.ids;`
	r := pgsql.QuoteIdent(reader)
	pgtest.Exec(t, a, tables,
		`ALTER TABLE public.docs ENABLE ROW LEVEL SECURITY`,
		`ALTER TABLE public.orders ENABLE ROW LEVEL SECURITY`,
		`ALTER TABLE public.orders FORCE ROW LEVEL SECURITY`,
		`CREATE POLICY docs_owner ON public.docs FOR SELECT TO PUBLIC USING (owner = CURRENT_USER)`,
		`CREATE POLICY sales_rep_access ON public.orders FOR SELECT TO PUBLIC USING (sales_rep_id = (CURRENT_USER)::integer)`,
		`CREATE POLICY restrict_sales_rep_updates ON public.orders AS RESTRICTIVE FOR UPDATE TO `+r+` WITH CHECK (sales_rep_id = (CURRENT_USER)::integer)`,
		`COMMENT ON POLICY restrict_sales_rep_updates ON public.orders IS 'This is a restrictive policy'`,
		`GRANT USAGE ON SCHEMA public TO `+r,
		`GRANT SELECT, INSERT ON public.docs TO `+r+` WITH GRANT OPTION`,
		`GRANT ALL ON public.orders TO `+r,
		`GRANT USAGE ON SEQUENCE public.ids TO PUBLIC`)
	pgtest.Exec(t, b, tables)
	src := fmt.Sprintf(`schema "public" {}

table "docs" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "owner" {
    type = text
  }
  row_security {
    enabled = true
  }
}

table "orders" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "sales_rep_id" {
    type = int
  }
  row_security {
    enabled  = true // ENABLE ROW LEVEL SECURITY
    enforced = true // FORCE ROW LEVEL SECURITY
  }
}

role %[1]q {
  external = true
}

policy "docs_owner" {
  on    = table.docs
  for   = SELECT
  to    = [PUBLIC]
  using = "owner = CURRENT_USER"
}

policy "sales_rep_access" {
  on    = table.orders
  for   = SELECT
  to    = [PUBLIC]
  using = "(sales_rep_id = (CURRENT_USER)::integer)"
}

policy "restrict_sales_rep_updates" {
  on      = table.orders
  as      = RESTRICTIVE
  for     = UPDATE
  to      = [%[1]q]
  check   = "(sales_rep_id = (CURRENT_USER)::integer)"
  comment = "This is a restrictive policy"
}

permission {
  to         = role.%[1]s
  for        = schema.public
  privileges = [USAGE]
}

permission {
  to         = role.%[1]s
  for        = table.docs
  privileges = [SELECT, INSERT]
  grantable  = true
}

permission {
  to         = role.%[1]s
  for        = table.orders
  privileges = [ALL]
}

permission {
  to         = PUBLIC
  for        = sequence.public.ids
  privileges = [USAGE]
}
`, reader)
	parsed, err := state.ParseHCL([]string{"schema.pg.hcl"}, [][]byte{[]byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	if err := secLoad(t, b, parsed.Objects); err != nil {
		t.Fatal(err)
	}
	if want, got := secDescribe(t, a, "public"), secDescribe(t, b, "public"); got != want {
		t.Errorf("the database loaded from the HCL differs:\n%s\nwant:\n%s", got, want)
	}
}

// A role keel does not find on the server makes the throwaway database
// fail with a message that names it and says keel does not create roles.
func TestSecurityMissingRole(t *testing.T) {
	t.Parallel()
	b, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, b, `CREATE TABLE public.docs (id int)`)
	var n [4]byte
	if _, err := rand.Read(n[:]); err != nil {
		t.Fatal(err)
	}
	missing := "keel_sec_missing_" + hex.EncodeToString(n[:])
	for _, src := range []string{
		fmt.Sprintf("role %q {\n  external = true\n}\n", missing),
		fmt.Sprintf(`role %[1]q {
  external = true
}
permission {
  to         = role.%[1]s
  for        = table.docs
  privileges = [SELECT]
}
`, missing),
		fmt.Sprintf(`policy "p" {
  on = table.docs
  to = [%q]
}
`, missing),
	} {
		src = "schema \"public\" {}\ntable \"docs\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n}\n" + src
		parsed, err := state.ParseHCL([]string{"schema.hcl"}, [][]byte{[]byte(src)})
		if err != nil {
			t.Fatal(err)
		}
		err = secLoad(t, b, parsed.Objects)
		if err == nil || !strings.Contains(err.Error(), `role "`+missing+`" does not exist on this server: keel does not create roles`) {
			t.Errorf("loading\n%s\nfails with %v, want the missing role named", src, err)
		}
	}
}

// A policy on a table whose name Atlas HCL cannot refer to is refused, not
// printed to read back as another table.
func TestSecurityPrintRefusesUnreferableNames(t *testing.T) {
	t.Parallel()
	a, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, a, `CREATE TABLE public."we""ird" (id int)`, `CREATE POLICY p ON public."we""ird" USING (true)`)
	_, err := printSecurity(context.Background(), secConnect(t, a), []string{"public"})
	if err == nil || !strings.Contains(err.Error(), `printing policy "p" of table "public"."we\"ird": Atlas HCL cannot refer to table "we\"ird"`) {
		t.Fatalf("printing fails with %v, want the table's name refused", err)
	}
}
