package state

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const securityTables = `schema "public" {}
schema "s" {}
table "orders" {
  schema = schema.public
  column "id" {
    type = int
  }
}
table "s" "dup" {
  schema = schema.s
  column "id" {
    type = int
  }
}
table "public" "dup" {
  schema = schema.public
  column "id" {
    type = int
  }
}
role "app" {
  external = true
}
`

// Every mistake in a row_security, policy, role, user, permission or
// revoke block is an error at its file:line:column that says what to
// write instead.
func TestSecurityGrammar(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"row_security", `schema "public" {}
table "t" {
  schema = schema.public
  column "id" {
    type = int
  }
  row_security {
    enabled = "yes"
    enfroced = true
  }
  row_security {
    enabled = true
  }
}
table "nos" {
  column "id" {
    type = int
  }
  row_security {
    enabled = true
  }
}
`, []string{
			`s.hcl:8:15: row_security of table "t": enabled takes true or false`,
			`s.hcl:9:5: unknown attribute "enfroced" in table "t", row_security; did you mean "enforced"?`,
			`s.hcl:11:3: row_security of table "t": the table has a row_security block already (s.hcl:7:3): keep one`,
			`s.hcl:19:3: row_security of table "nos": the table block needs its schema: schema = schema.NAME`,
		}},
		{"policy", securityTables + `policy "p1" {
  as  = SIDEWAYS
  for = MERGE
  to  = PUBLIC
}
policy "p2" {
  on    = view.orders
  to    = [PUBLIC, role.app, 42, NOBODY]
  using = "a = 1; DROP TABLE orders"
  check = "b = 2)"
}
policy "p3" {
  on      = table.orders
  for     = INSERT
  using   = "a = 1"
  comment = 5
}
policy "p4" {
  on    = table.orders
  for   = DELETE
  check = "a = 1"
  for_each = [table.orders]
}
policy "p5" {
  on    = table.orders
  using = "(a = 1 -- )"
}
policy {
  on = table.orders
}
`, []string{
			`s.hcl:24:1: policy "p1": the policy needs its table: on = table.NAME (or table.SCHEMA.NAME)`,
			`s.hcl:25:9: policy "p1": as takes PERMISSIVE or RESTRICTIVE`,
			`s.hcl:26:9: policy "p1": for takes ALL, SELECT, INSERT, UPDATE or DELETE`,
			`s.hcl:27:9: policy "p1": to takes a list of roles: to = [PUBLIC], to = [role.NAME, "NAME", CURRENT_USER]`,
			`s.hcl:30:11: policy "p2": on takes a reference to a table block: on = table.NAME or table.SCHEMA.NAME`,
			`s.hcl:31:30: policy "p2": to lists PUBLIC, CURRENT_USER, CURRENT_ROLE, SESSION_USER, role.NAME, user.NAME or a role's name as a string ("NAME")`,
			`s.hcl:31:34: policy "p2": to lists PUBLIC`,
			`s.hcl:32:11: policy "p2": using holds a semicolon: write one SQL expression, no statement`,
			`s.hcl:33:11: policy "p2": check closes a parenthesis it does not open: write one SQL expression`,
			`s.hcl:38:3: policy "p3": a policy for INSERT takes no using (PostgreSQL checks new rows with check)`,
			`s.hcl:39:13: policy "p3": comment takes a string`,
			`s.hcl:44:3: policy "p4": a policy for DELETE takes no check (PostgreSQL applies check to new rows only): use using`,
			`s.hcl:45:3: unknown attribute "for_each" in policy "p4"`,
			`s.hcl:49:11: policy "p5": using leaves a parenthesis open: write one SQL expression`,
			`s.hcl:51:1: a policy block takes one label, not 0: policy "tenant_isolation" { on = table.orders, using = "..." }`,
		}},
		{"roles", `schema "public" {}
role "r1" {}
role "r2" {
  external = false
}
role "r3" {
  external  = true
  login     = true
  member_of = [role.r1]
}
user "u1" {
  password = "secret"
}
role "r4" {
  external = "yes"
}
role "r5" {
  externl = true
}
role "app" {
  external = true
}
user "app" {
  external = true
}
`, []string{
			`s.hcl:2:1: role "r1": keel does not create roles: write external = true for a role that exists on the server (create it outside keel)`,
			`s.hcl:4:14: role "r2": keel does not create roles: write external = true`,
			`s.hcl:8:3: role "r3": keel does not create or alter roles (they belong to the whole server, not to a schema): remove login, manage the role outside keel, and declare it with external = true`,
			`s.hcl:9:3: role "r3": keel does not create or alter roles (they belong to the whole server, not to a schema): remove member_of`,
			`s.hcl:11:1: user "u1": keel does not create roles: write external = true`,
			`s.hcl:12:3: user "u1": keel does not create or alter roles (they belong to the whole server, not to a schema): remove password`,
			`s.hcl:15:14: role "r4": external takes true or false`,
			`s.hcl:17:1: role "r5": keel does not create roles: write external = true`,
			`s.hcl:18:3: unknown attribute "externl" in role "r5"; did you mean "external"?`,
			`s.hcl:23:1: role "app" is declared already at s.hcl:20:1: keep one`,
		}},
		{"permission", securityTables + `permission {
  to = [role.app]
}
permission "named" {
  to         = role.app
  for        = table.orders
  privileges = [SELECT]
}
permission {
  to         = role.nobody
  for        = table.nothing
  privileges = [SELECT]
}
permission {
  to         = PUBLIC
  for        = table.dup
  privileges = [SELECT, SELECT]
  grantable  = true
}
permission {
  to         = role.app
  for        = function.orders
  privileges = [SELECT, ALL]
}
permission {
  to         = user.app
  for        = schema.nope
  privileges = [USAGE]
}
permission {
  to         = role.app
  for        = orders
  privileges = USAGE
  grantable  = "yes"
}
permission {
  to         = role.app
  for        = table.nope.orders
  privileges = [select]
}
permission {
  to         = role.app
  for        = view.v
  privileges = [SELECT]
}
revoke {
  to         = PUBLIC
  for        = function.f
  privileges = [EXECUTE]
}
`, []string{
			`s.hcl:24:1: permission: permission needs its object: for = schema.NAME, table.NAME, view.NAME, materialized.NAME, sequence.NAME, function.NAME or procedure.NAME (or KIND.SCHEMA.NAME)`,
			`s.hcl:24:1: permission: permission needs its privileges: privileges = [SELECT, INSERT, ...] or [ALL]`,
			`s.hcl:25:8: permission: to takes one role: write one permission block for each`,
			`s.hcl:27:1: a permission block takes no label, not 1`,
			`s.hcl:33:16: role.nobody names a role no role block declares: add role "nobody" { external = true } (a role that exists on the server)`,
			`s.hcl:34:16: table.nothing names a table no table block declares (a partition is referred to with its schema: table.SCHEMA.NAME)`,
			`s.hcl:40:25: permission: privileges lists SELECT twice`,
			`s.hcl:41:3: permission: PostgreSQL grants no grant option to PUBLIC: leave grantable out`,
			`s.hcl:46:17: permission: SELECT is no privilege of a function: it has EXECUTE (or ALL)`,
			`s.hcl:46:25: permission: ALL stands alone: privileges = [ALL]`,
			`s.hcl:50:16: schema.nope names a schema no schema block declares`,
			`s.hcl:55:16: permission: for takes schema.NAME, table.NAME, view.NAME, materialized.NAME, sequence.NAME, function.NAME or procedure.NAME (or KIND.SCHEMA.NAME)`,
			`s.hcl:56:16: permission: privileges takes a list: privileges = [SELECT, INSERT, ...] or [ALL]`,
			`s.hcl:57:16: permission: grantable takes true or false`,
			`s.hcl:61:16: table.nope.orders names schema "nope", which no schema block declares`,
			`s.hcl:66:16: view.v names a view no view block declares (for one keel does not declare, write view.SCHEMA.NAME)`,
			`s.hcl:69:1: revoke: revoke needs its grantee: from = role.NAME, user.NAME or PUBLIC`,
			`s.hcl:70:3: unknown attribute "to" in revoke`,
		}},
		{"ambiguous", securityTables + `permission {
  to         = role.app
  for        = table.dup
  privileges = [SELECT]
}
policy "p" {
  on = table.dup
}
policy "p" {
  on = table.public.dup
}
`, []string{
			`s.hcl:26:16: table.dup names tables in several schemas (public, s): write table.SCHEMA.NAME`,
			`s.hcl:30:8: table.dup names tables in several schemas (public, s): write table.SCHEMA.NAME`,
		}},
		{"twice", securityTables + `policy "p" {
  on = table.orders
}
policy "p" {
  on = table.public.orders
}
`, []string{
			`s.hcl:27:1: policy "p" on table "public"."orders" is declared already at s.hcl:24:1: keep one`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(tc.src)})
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a SchemaError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error lacks %q:\n%v", w, err)
				}
			}
			if len(se.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%v", len(se.Problems), len(tc.want), err)
			}
		})
	}
}

// The blocks read as the statements that create what they declare, each
// one statement with every name quoted, whichever file declares what they
// refer to.
func TestSecurityDecls(t *testing.T) {
	files := []string{"a.hcl", "b.hcl"}
	srcs := [][]byte{[]byte(`schema "public" {}
schema "Odd 's" {}
table "orders" {
  schema = schema.public
  column "id" {
    type = int
  }
  row_security {
    enabled  = true
    enforced = true
  }
}
table "events" {
  schema = schema.public
  column "id" {
    type = int
  }
  row_security {
    enabled = false
  }
}
`), []byte(`role "app" {
  external = true
}
user "it's" {
  external = true
}
policy "tenant \"x\"" {
  on      = table.orders
  as      = RESTRICTIVE
  for     = SELECT
  to      = [PUBLIC, role.app, user["it's"], "other", CURRENT_USER]
  using   = <<-SQL
    tenant = current_setting('app.tenant')::int -- the tenant
  SQL
  comment = "it's the tenant's"
}
policy "ins" {
  on    = table.public.orders
  for   = INSERT
  check = "id > 0"
}
permission {
  to         = role.app
  for        = table.orders
  privileges = [SELECT, insert]
  grantable  = true
}
permission {
  to         = PUBLIC
  for        = schema["Odd 's"]
  privileges = [ALL]
}
permission {
  to         = "other"
  for        = sequence.public.ids
  privileges = [USAGE]
}
revoke {
  from       = PUBLIC
  for        = function.public.transfer
  privileges = [EXECUTE]
}
`)}
	st, err := ParseHCL(files, srcs)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string) string { return secRoleCheck(name) }
	want := []ObjectDecl{
		{Kind: "row security", Schema: "public", Table: "orders", Pos: "a.hcl:8:3", SQL: []string{
			`ALTER TABLE "public"."orders" ENABLE ROW LEVEL SECURITY`,
			`ALTER TABLE "public"."orders" FORCE ROW LEVEL SECURITY`,
		}},
		{Kind: "role", Name: "app", Pos: "b.hcl:1:1", SQL: []string{check("app")}},
		{Kind: "role", Name: "it's", Pos: "b.hcl:4:1", SQL: []string{check("it's")}},
		{Kind: "policy", Schema: "public", Table: "orders", Name: `tenant "x"`, Pos: "b.hcl:7:1", SQL: []string{
			check("app"), check("it's"), check("other"),
			`CREATE POLICY "tenant ""x""" ON "public"."orders" AS RESTRICTIVE FOR SELECT TO PUBLIC, "app", "it's", "other", CURRENT_USER USING (tenant = current_setting('app.tenant')::int -- the tenant` + "\n\n)",
			`COMMENT ON POLICY "tenant ""x""" ON "public"."orders" IS 'it''s the tenant''s'`,
		}},
		{Kind: "policy", Schema: "public", Table: "orders", Name: "ins", Pos: "b.hcl:17:1", SQL: []string{
			`CREATE POLICY "ins" ON "public"."orders" FOR INSERT WITH CHECK (id > 0)`,
		}},
		{Kind: "privilege", Schema: "public", Table: "table orders", Name: "app", Pos: "b.hcl:22:1", SQL: []string{
			check("app"),
			`GRANT SELECT, INSERT ON TABLE "public"."orders" TO "app" WITH GRANT OPTION`,
		}},
		{Kind: "privilege", Schema: "Odd 's", Table: "schema", Name: "PUBLIC", Pos: "b.hcl:28:1", SQL: []string{
			`GRANT ALL PRIVILEGES ON SCHEMA "Odd 's" TO PUBLIC`,
		}},
		{Kind: "privilege", Schema: "public", Table: "sequence ids", Name: "other", Pos: "b.hcl:33:1", SQL: []string{
			check("other"),
			`GRANT USAGE ON SEQUENCE "public"."ids" TO "other"`,
		}},
		{Kind: "privilege", Schema: "public", Table: "function transfer", Name: "PUBLIC", Pos: "b.hcl:38:1", SQL: []string{
			`REVOKE EXECUTE ON FUNCTION "public"."transfer" FROM PUBLIC`,
		}},
	}
	if !reflect.DeepEqual(st.Objects, want) {
		t.Errorf("declarations:\n%#v\nwant:\n%#v", st.Objects, want)
	}
	if !strings.Contains(check("x"), `RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = 'role "x" does not exist on this server: keel does not create roles`) {
		t.Errorf("the role check %s does not say keel does not create roles", check("x"))
	}
	if c := check("$keel$"); !strings.HasPrefix(c, "DO $keel1$ ") || !strings.HasSuffix(c, " $keel1$") {
		t.Errorf("the check of a role named $keel$ is quoted with its name's dollar tag: %s", c)
	}
}

// A table's row-level security switches print as a row_security block in
// its table block; a table without a block is noted as a comment.
func TestWriteRowSecurity(t *testing.T) {
	text := []byte(`table "a" {
  schema = schema.public
  column "id" {
    type = int
  }
}
table "s" "b" {
  schema = schema.s
}
table "c" {
  schema = schema.public
}
`)
	cat := Catalog{
		{Kind: CatalogTable, Schema: "public", Name: "a"}:    "table row level security force row level security comment 'row level security'",
		{Kind: CatalogTable, Schema: "s", Name: "b"}:         "partitioned table force row level security partition by RANGE (id)",
		{Kind: CatalogTable, Schema: "public", Name: "c"}:    "table comment 'row level security'",
		{Kind: CatalogTable, Schema: "public", Name: "gone"}: "table row level security",
	}
	out, err := WriteRowSecurity(text, cat)
	if err != nil {
		t.Fatal(err)
	}
	want := `table "a" {
  schema = schema.public
  column "id" {
    type = int
  }

  row_security {
    enabled  = true
    enforced = true
  }
}
table "s" "b" {
  schema = schema.s

  row_security {
    enabled  = false
    enforced = true
  }
}
table "c" {
  schema = schema.public
}
# keel cannot write this here: table public.gone row-level security is "table row level security"
`
	if string(out) != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out, want)
	}
	if same, err := WriteRowSecurity(text, Catalog{{Kind: CatalogTable, Schema: "public", Name: "a"}: "table"}); err != nil || string(same) != string(text) {
		t.Errorf("without row-level security the text changes: %v\n%s", err, same)
	}
}

// A permission refers to the views, materialized views, sequences,
// functions and procedures their own blocks declare, in any file, by name;
// an overloaded function is refused: keel grants on a function by its
// name alone.
func TestSecurityObjectReferences(t *testing.T) {
	objects := `schema "public" {}
table "orders" {
  schema = schema.public
  column "id" {
    type = int
  }
}
view "v" {
  schema = schema.public
  as     = "SELECT id FROM orders"
}
materialized "mv" {
  schema = schema.public
  as     = "SELECT id FROM orders"
}
sequence "ids" {
  schema = schema.public
}
function "f" {
  schema = schema.public
  lang   = SQL
  return = int
  as     = "SELECT 1"
}
procedure "p" {
  schema = schema.public
  lang   = SQL
  as     = "SELECT 1"
}
`
	grants := `permission {
  to         = PUBLIC
  for        = view.v
  privileges = [SELECT]
}
permission {
  to         = PUBLIC
  for        = materialized.mv
  privileges = [SELECT]
}
permission {
  to         = PUBLIC
  for        = sequence.ids
  privileges = [USAGE]
}
permission {
  to         = PUBLIC
  for        = procedure.p
  privileges = [EXECUTE]
}
revoke {
  from       = PUBLIC
  for        = function.f
  privileges = [EXECUTE]
}
`
	st, err := ParseHCL([]string{"objects.hcl", "grants.hcl"}, [][]byte{[]byte(objects), []byte(grants)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range st.Objects {
		if d.Kind == "privilege" {
			got = append(got, d.Schema+" | "+d.Table+" | "+strings.Join(d.SQL, "; "))
		}
	}
	want := []string{
		`public | view v | GRANT SELECT ON TABLE "public"."v" TO PUBLIC`,
		`public | materialized view mv | GRANT SELECT ON TABLE "public"."mv" TO PUBLIC`,
		`public | sequence ids | GRANT USAGE ON SEQUENCE "public"."ids" TO PUBLIC`,
		`public | procedure p | GRANT EXECUTE ON PROCEDURE "public"."p" TO PUBLIC`,
		`public | function f | REVOKE EXECUTE ON FUNCTION "public"."f" FROM PUBLIC`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("privileges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	overloaded := objects + `function "f" {
  schema = schema.public
  lang   = SQL
  arg "a" {
    type = int
  }
  return = int
  as     = "SELECT a"
}
`
	_, err = ParseHCL([]string{"objects.hcl", "grants.hcl"}, [][]byte{[]byte(overloaded), []byte(grants)})
	if err == nil || !strings.Contains(err.Error(), "grants.hcl:23:16: function.f names 2 overloaded functions: keel grants on a function by its name alone; give the overloads different names") {
		t.Errorf("an overloaded function's privilege reads with error %v", err)
	}
}
