package diff_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"keel/planner/diff"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/schema"
)

// weird is a table name that holds a dot, a double quote and a keyword.
const weird = `we.ird "DROP" name`

// statementFacts answers the hazard analysis with fixed row counts, a
// volatile random() and the conversions listed: StatementSteps only reads
// text, so no database is needed.
type statementFacts struct {
	diff.NoFacts
	rows     map[string]int64
	converts map[[2]string]bool
}

func (f statementFacts) Size(t *schema.Table) (rows, bytes *int64) {
	if n, ok := f.rows[state.TableName(t)]; ok {
		return &n, nil
	}
	return nil, nil
}

func (statementFacts) Volatile(expr string) bool { return strings.Contains(expr, "random()") }

func (f statementFacts) Converts(from, to string) *bool {
	if ok, known := f.converts[[2]string{from, to}]; known {
		return &ok
	}
	return nil
}

var testFacts = statementFacts{
	rows: map[string]int64{"public.users": 1200, "public.orders": 50, "app.events": 7},
	converts: map[[2]string]bool{
		{"character varying(20)", "text"}: true,
		{"bigint", "uuid"}:                false,
	},
}

// statementState is the target: public.users (a primary key, a unique
// constraint, an index), public.orders (a foreign key to users),
// public.status (an enum), a table with a weird name, and a schema app
// that has a table users too.
func statementState() *state.State {
	public, app := schema.New("public"), schema.New("app")
	public.AddObjects(&schema.EnumType{T: "status", Values: []string{"active", "gone"}, Schema: public},
		&schema.EnumType{T: "empty", Schema: public})
	id := schema.NewIntColumn("id", "bigint")
	email := schema.NewNullStringColumn("email", "text")
	name := schema.NewStringColumn("name", "character varying", schema.StringSize(20))
	users := schema.NewTable("users").AddColumns(id, email, name)
	users.SetPrimaryKey(schema.NewPrimaryKey(id).SetName("users_pkey"))
	users.AddIndexes(schema.NewUniqueIndex("users_email_key").AddColumns(email), schema.NewIndex("users_name_idx").AddColumns(name))
	oid, userID := schema.NewIntColumn("id", "bigint"), schema.NewIntColumn("user_id", "bigint")
	orders := schema.NewTable("orders").AddColumns(oid, userID)
	orders.AddForeignKeys(schema.NewForeignKey("orders_user_fk").AddColumns(userID).SetRefTable(users).AddRefColumns(id))
	odd := schema.NewTable(weird).AddColumns(schema.NewNullStringColumn("x", "text"))
	public.AddTables(users, orders, odd)
	app.AddTables(schema.NewTable("events").AddColumns(schema.NewIntColumn("id", "bigint")),
		schema.NewTable("users").AddColumns(schema.NewIntColumn("id", "bigint")))
	return &state.State{Realm: schema.NewRealm(public, app)}
}

// What a reviewer reads of each statement form: the object, the action,
// whether it runs in the plan's transaction, and the kinds of its hazards.
func TestStatementStepsReadEachForm(t *testing.T) {
	t.Parallel()
	type hz = plan.HazardCode
	const (
		loss    = plan.HazardDataLoss
		rewrite = plan.HazardTableRewrite
		lock    = plan.HazardBlockingLock
		fail    = plan.HazardMayFail
		compat  = plan.HazardBackwardIncompatible
		nontx   = plan.HazardNonTransactional
	)
	var (
		create, alter, drop = plan.ActionCreate, plan.ActionAlter, plan.ActionDrop
		weirdTable          = "table " + plan.DisplayName("public", weird)
	)
	for _, c := range []struct {
		sql     string
		object  string
		action  plan.Action
		tx      bool
		hazards []hz
		comment string
	}{
		// Schemas.
		{`CREATE SCHEMA "billing"`, "schema billing", create, true, nil, `create schema "billing"`},
		{`CREATE SCHEMA IF NOT EXISTS "public"`, "schema public", create, true, nil, ""},
		{`DROP SCHEMA "app" CASCADE`, "schema app", drop, true, []hz{loss, compat}, ""},
		// Tables.
		{"CREATE TABLE \"public\".\"invoices\" (\n  \"id\" bigint NOT NULL,\n  PRIMARY KEY (\"id\")\n)", "table public.invoices", create, true, nil, "create table public.invoices"},
		{`CREATE TABLE "public"."events" ("at" date NOT NULL) PARTITION BY RANGE ("at")`, "table public.events", create, true, nil, ""},
		{`DROP TABLE "public"."orders"`, "table public.orders", drop, true, []hz{loss, compat}, "drop table public.orders"},
		{`ALTER TABLE "public"."users" RENAME TO "people"`, "table public.users", alter, true, []hz{compat}, `rename table public.users to "people"`},
		// Columns.
		{`ALTER TABLE "public"."users" ADD COLUMN "nickname" text NOT NULL`, "table public.users", alter, true, []hz{fail}, `add column "nickname" to table public.users`},
		{`ALTER TABLE "public"."users" ADD COLUMN "nickname" text NOT NULL DEFAULT 'x'`, "table public.users", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" ADD COLUMN "nickname" text NULL`, "table public.users", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" ADD COLUMN "token" double precision NOT NULL DEFAULT random()`, "table public.users", alter, true, []hz{rewrite}, ""},
		{`ALTER TABLE "public"."users" ADD COLUMN "seq" bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY (START WITH 5)`, "table public.users", alter, true, []hz{rewrite}, ""},
		{`ALTER TABLE "public"."users" ADD COLUMN "n" bigserial NOT NULL`, "table public.users", alter, true, []hz{rewrite}, ""},
		{`ALTER TABLE "public"."invoices" ADD COLUMN "due" date NOT NULL`, "table public.invoices", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" DROP COLUMN "email"`, "table public.users", alter, true, []hz{loss, compat}, `drop column "email" from table public.users`},
		{`ALTER TABLE ONLY "public"."users" DROP COLUMN "email"`, "table public.users", alter, true, []hz{loss, compat}, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "name" TYPE text`, "table public.users", alter, true, []hz{compat}, `change the type of column "name" to text in table public.users`},
		{`ALTER TABLE "public"."users" ALTER COLUMN "name" TYPE character varying(10)`, "table public.users", alter, true, []hz{rewrite, loss, fail, compat}, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "id" TYPE uuid`, "table public.users", alter, true, []hz{rewrite, fail, compat}, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "id" TYPE uuid USING md5("id"::text)::uuid`, "table public.users", alter, true, []hz{rewrite, fail, compat}, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "email" SET NOT NULL`, "table public.users", alter, true, []hz{lock, fail}, `set column "email" NOT NULL in table public.users`},
		{`ALTER TABLE "public"."users" ALTER COLUMN "name" SET NOT NULL`, "table public.users", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "email" DROP NOT NULL`, "table public.users", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "email" SET DEFAULT 'a@b'`, "table public.users", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "email" DROP DEFAULT`, "table public.users", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "id" ADD GENERATED ALWAYS AS IDENTITY (START WITH 1 INCREMENT BY 1)`, "table public.users", alter, true, []hz{fail}, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "id" DROP IDENTITY`, "table public.users", alter, true, []hz{compat}, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "id" SET GENERATED ALWAYS SET START WITH 10 SET INCREMENT BY 2 RESTART`, "table public.users", alter, true, []hz{fail}, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "name" DROP EXPRESSION`, "table public.users", alter, true, []hz{compat}, ""},
		{`ALTER TABLE "public"."users" RENAME COLUMN "name" TO "full_name"`, "table public.users", alter, true, []hz{compat}, `rename column "name" to "full_name" in table public.users`},
		// Several sub-commands: the table, and every hazard.
		{`ALTER TABLE "public"."users" ADD COLUMN "a" text NULL, DROP COLUMN "email", ALTER COLUMN "name" SET DEFAULT 'n'`, "table public.users", alter, true, []hz{loss, compat},
			`alter table public.users: add column "a", drop column "email", set the default of column "name"`},
		// Constraints.
		{`ALTER TABLE "public"."users" ADD CONSTRAINT "name_len" CHECK (length("name") > 0)`, "table public.users", alter, true, []hz{lock, fail}, `add check "name_len" to table public.users`},
		{`ALTER TABLE "public"."users" ADD CONSTRAINT "name_len" CHECK (length("name") > 0) NOT VALID`, "table public.users", alter, true, nil, ""},
		{`ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_user" FOREIGN KEY ("user_id") REFERENCES "public"."users" ("id") ON DELETE CASCADE`, "table public.orders", alter, true, []hz{lock, fail}, ""},
		{`ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_user" FOREIGN KEY ("user_id") REFERENCES "public"."users" ("id") NOT VALID`, "table public.orders", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" ADD CONSTRAINT "users_name_key" UNIQUE ("name")`, "table public.users", alter, true, []hz{lock, fail}, ""},
		{`ALTER TABLE "public"."orders" ADD PRIMARY KEY ("id")`, "table public.orders", alter, true, []hz{lock, fail}, ""},
		{`ALTER TABLE "public"."users" ADD CONSTRAINT "users_name_key" UNIQUE USING INDEX "users_name_idx"`, "table public.users", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" DROP CONSTRAINT "users_email_key"`, "table public.users", alter, true, []hz{compat}, ""},
		{`ALTER TABLE "public"."users" DROP CONSTRAINT "users_pkey"`, "table public.users", alter, true, []hz{compat}, ""},
		{`ALTER TABLE "public"."orders" DROP CONSTRAINT "orders_user_fk"`, "table public.orders", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" RENAME CONSTRAINT "users_email_key" TO "users_mail_key"`, "table public.users", alter, true, []hz{compat}, ""},
		{`ALTER TABLE "public"."orders" DROP CONSTRAINT "orders_user_fk", ADD CONSTRAINT "orders_user_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users" ("id")`, "table public.orders", alter, true, []hz{lock, fail}, ""},
		// Indexes.
		{`CREATE INDEX "users_email_idx" ON "public"."users" ("email")`, "table public.users", alter, true, []hz{lock}, `create index "users_email_idx" on table public.users`},
		{`CREATE UNIQUE INDEX "users_lower_email" ON "public"."users" (lower("email")) WHERE ("email" IS NOT NULL)`, "table public.users", alter, true, []hz{lock, fail}, ""},
		{`CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_email_idx" ON "public"."users" USING btree ("email" DESC)`, "table public.users", alter, false, []hz{nontx}, ""},
		{`CREATE UNIQUE INDEX "invoices_no" ON "public"."invoices" ("no")`, "table public.invoices", create, true, nil, ""},
		{`DROP INDEX "public"."users_name_idx"`, "table public.users", alter, true, nil, `drop index "users_name_idx" from table public.users`},
		{`DROP INDEX CONCURRENTLY "public"."users_name_idx"`, "table public.users", alter, false, []hz{nontx}, ""},
		{`ALTER INDEX "public"."users_name_idx" RENAME TO "users_full_name_idx"`, "table public.users", alter, true, nil, ""},
		// Enums.
		{`CREATE TYPE "public"."mood" AS ENUM ('sad', 'ok')`, "enum public.mood", create, true, nil, "create enum public.mood"},
		{`ALTER TYPE "public"."status" ADD VALUE 'paused' AFTER 'active'`, "enum public.status", alter, true, nil, `add value "paused" to enum public.status`},
		{`ALTER TYPE "public"."status" RENAME VALUE 'gone' TO 'left'`, "enum public.status", alter, true, []hz{compat}, ""},
		{`ALTER TYPE "status" RENAME TO "state"`, "enum public.status", alter, true, []hz{compat}, ""},
		{`DROP TYPE "public"."status"`, "enum public.status", drop, true, []hz{loss}, "drop enum public.status"},
		{`DROP TYPE "public"."empty"`, "enum public.empty", drop, true, []hz{compat}, ""},
		// Comments.
		{`COMMENT ON TABLE "public"."users" IS 'people'`, "table public.users", alter, true, nil, "set the comment of table public.users"},
		{`COMMENT ON COLUMN "public"."users"."email" IS NULL`, "column public.users.email", alter, true, nil, ""},
		{`COMMENT ON INDEX "public"."users_name_idx" IS 'by name'`, "table public.users", alter, true, nil, ""},
		{`COMMENT ON SCHEMA "public" IS E'the\nschema'`, "schema public", alter, true, nil, ""},
		// The sequence of a serial column.
		{`CREATE SEQUENCE IF NOT EXISTS "public"."orders_id_seq" OWNED BY "public"."orders"."id"`, "sequence public.orders_id_seq", create, true, nil, ""},
		{`DROP SEQUENCE IF EXISTS "public"."orders_id_seq"`, "sequence public.orders_id_seq", drop, true, []hz{loss}, ""},
		// More of the forms the engine writes.
		{`ALTER TABLE "public"."users" RENAME TO "public"."people"`, "table public.users", alter, true, []hz{compat}, ""},
		{`ALTER TABLE "public"."users" ADD COLUMN "full" text NULL GENERATED ALWAYS AS (("name" || "email")) STORED`, "table public.users", alter, true, []hz{rewrite}, ""},
		{`ALTER TABLE "public"."users" ADD COLUMN "code" text NOT NULL DEFAULT 'x' COLLATE "C"`, "table public.users", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" ADD COLUMN "s" "public"."status" NOT NULL DEFAULT 'active'::"public"."status"`, "table public.users", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" ADD COLUMN "tags" text[] NOT NULL DEFAULT ARRAY['a', 'b']`, "table public.users", alter, true, nil, ""},
		{`ALTER TABLE "public"."users" ADD CONSTRAINT "no_overlap" EXCLUDE USING gist ("id" WITH =)`, "table public.users", alter, true, []hz{lock, fail}, ""},
		{`ALTER TABLE "public"."users" ALTER COLUMN "id" DROP DEFAULT, ALTER COLUMN "id" TYPE integer`, "table public.users", alter, true, []hz{rewrite, loss, fail, compat}, ""},
		{`ALTER TABLE "public"."orders" VALIDATE CONSTRAINT "orders_user_fk"`, "table public.orders", alter, true, []hz{fail}, ""},
		// Names: quoted with a dot, a quote and a keyword, unqualified,
		// unquoted (folded), and with comments and a final semicolon.
		{`ALTER TABLE "public"."we.ird ""DROP"" name" DROP COLUMN "x"`, "table " + plan.DisplayName("public", weird) + "", alter, true, []hz{loss, compat}, ""},
		{`DROP TABLE "we.ird ""DROP"" name"`, weirdTable, drop, true, []hz{loss, compat}, ""},
		{`ALTER TABLE "public"."users" ADD COLUMN "x; DROP TABLE users" text`, "table public.users", alter, true, nil, `add column "x; DROP TABLE users" to table public.users`},
		{`ALTER TABLE orders ADD COLUMN note text`, "table public.orders", alter, true, nil, ""},
		{"ALTER TABLE \"public\".\"users\" ADD COLUMN \"line\nbreak\" text", "table public.users", alter, true, nil, `add column "line\nbreak" to table public.users`},
		{"-- the engine's comment\nalter table PUBLIC.Orders drop column NOTE; -- done", "table public.orders", alter, true, []hz{loss, compat}, `drop column "note" from table public.orders`},
	} {
		steps, _, err := diff.StatementSteps([]string{c.sql}, statementState(), testFacts, plan.DefaultTimeouts)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		if len(steps) != 1 {
			t.Errorf("%s: %d steps, want 1", c.sql, len(steps))
			continue
		}
		st := steps[0]
		if st.Object != c.object || st.Action != c.action || st.Transactional != c.tx {
			t.Errorf("%s:\n got %s %q transactional %v\nwant %s %q transactional %v", c.sql, st.Action, st.Object, st.Transactional, c.action, c.object, c.tx)
		}
		if got, want := codes(st.Hazards), codes2(c.hazards); !slices.Equal(got, want) {
			t.Errorf("%s: hazards %v, want %v (%+v)", c.sql, got, want, st.Hazards)
		}
		for _, h := range st.Hazards {
			if h.Code == plan.HazardDataLoss && h.Severity != plan.SeverityDanger && !strings.HasPrefix(st.Object, "sequence ") {
				t.Errorf("%s: data loss of %s is %s, want danger", c.sql, h.Object, h.Severity)
			}
		}
		if c.comment != "" && st.Comment != c.comment {
			t.Errorf("%s: comment %q, want %q", c.sql, st.Comment, c.comment)
		}
		if strings.HasSuffix(st.SQL, ";") || st.LockTimeout != plan.Duration(2*time.Second) || st.StatementTimeout != plan.Duration(time.Minute) {
			t.Errorf("%s: SQL %q lock timeout %s statement timeout %s", c.sql, st.SQL, st.LockTimeout, st.StatementTimeout)
		}
	}
}

// codes is the set of the hazards' codes, sorted.
func codes(hs []plan.Hazard) []plan.HazardCode {
	out := make([]plan.HazardCode, 0, len(hs))
	for _, h := range hs {
		out = append(out, h.Code)
	}
	return codes2(out)
}

func codes2(cs []plan.HazardCode) []plan.HazardCode {
	out := slices.Clone(cs)
	slices.Sort(out)
	return slices.Compact(out)
}

// A dropped table's data loss carries its row count; a dropped schema's
// names its tables and carries theirs.
func TestStatementStepsCountRowsLost(t *testing.T) {
	t.Parallel()
	steps, _, err := diff.StatementSteps([]string{`DROP TABLE "public"."users"`, `DROP SCHEMA "app" CASCADE`, `ALTER TABLE "public"."orders" DROP COLUMN "user_id"`},
		statementState(), testFacts, plan.DefaultTimeouts)
	if err != nil {
		t.Fatal(err)
	}
	rows := func(st plan.Step, obj string) int64 {
		for _, h := range st.Hazards {
			if h.Code == plan.HazardDataLoss && h.Object == obj && h.Rows != nil {
				return *h.Rows
			}
		}
		t.Errorf("%s: no data loss of %s with rows in %+v", st.SQL, obj, st.Hazards)
		return -1
	}
	if n := rows(steps[0], "table public.users"); n != 1200 {
		t.Errorf("dropping public.users loses %d rows, want 1200", n)
	}
	if n := rows(steps[1], "table app.events"); n != 7 {
		t.Errorf("dropping schema app loses %d rows of app.events, want 7", n)
	}
	if n := rows(steps[2], "column public.orders.user_id"); n != 50 {
		t.Errorf("dropping a column of public.orders loses %d rows, want 50", n)
	}
	if msg := steps[1].Hazards[0].Message; !strings.Contains(msg, "app.events") || !strings.Contains(msg, "app.users") {
		t.Errorf("dropping schema app: %q does not name its tables", msg)
	}
}

// What keel cannot read is refused, naming the statement: more than one
// statement, statements that change rows or run code, sub-commands and
// clauses it does not know, and names it cannot place.
func TestStatementStepsRefuseWhatTheyCannotRead(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ sql, why string }{
		{`DROP TABLE "public"."orders"; DROP TABLE "public"."users"`, "more than one statement"},
		{`UPDATE "public"."users" SET "email" = lower("email")`, "UPDATE is not a statement keel reads"},
		{`DO $$ BEGIN EXECUTE 'DROP TABLE public.users'; END $$`, "DO is not a statement keel reads"},
		{`DELETE FROM "public"."users"`, "DELETE is not"},
		{`GRANT SELECT ON "public"."users" TO "app"`, "GRANT is not"},
		{`CREATE OR REPLACE FUNCTION "public"."f"() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$`, "CREATE OR REPLACE FUNCTION"},
		{`ALTER TABLE "public"."users" SET LOGGED`, "SET LOGGED"},
		{`ALTER TABLE "public"."users" ADD COLUMN "a" text, OWNER TO "bob"`, "OWNER TO"},
		{`ALTER TABLE "public"."users" ALTER COLUMN "email" SET STATISTICS 100`, "SET STATISTICS"},
		{`ALTER TABLE "public"."users" ADD COLUMN "team" bigint REFERENCES "public"."teams" ("id")`, "REFERENCES"},
		{`ALTER TABLE "public"."users" ADD COLUMN "a" text,`, "empty change"},
		{`CREATE TABLE "public"."copy" AS SELECT * FROM "public"."users"`, "AS"},
		{`CREATE TYPE "public"."pair" AS ("a" int, "b" int)`, "enums"},
		{`DROP TABLE "public"."orders", "public"."users"`, "several tables"},
		{`DROP TABLE users`, "schemas public, app each have one"},
		{`CREATE TABLE "nowhere" ("a" int)`, "cannot tell which schema"},
		{`ALTER TABLE "a"."b"."c" ADD COLUMN "d" int`, "3 parts"},
		{`ALTER TABLE "public"."users" RENAME TO "app"."people"`, "into schema app"},
		{``, "empty"},
	} {
		_, _, err := diff.StatementSteps([]string{`CREATE SCHEMA "x"`, c.sql}, statementState(), testFacts, plan.DefaultTimeouts)
		if err == nil {
			t.Errorf("%s: read, want refused", c.sql)
			continue
		}
		msg := err.Error()
		shown := strings.Join(strings.Fields(c.sql), " ")
		if len(shown) > 60 {
			shown = shown[:60]
		}
		if !strings.Contains(msg, "statement 2 of 2") || !strings.Contains(msg, shown) || !strings.Contains(msg, "keel cannot read what it does") || !strings.Contains(msg, c.why) {
			t.Errorf("%s: error %q does not name the statement and say %q", c.sql, msg, c.why)
		}
	}
}

// The coverage says which catalog differences the statements account
// for: the objects they change, and no other.
func TestStatementStepsCoverWhatTheyChange(t *testing.T) {
	t.Parallel()
	_, cov, err := diff.StatementSteps([]string{
		`ALTER TABLE "public"."users" ALTER COLUMN "email" SET NOT NULL`,
		`ALTER TABLE "public"."orders" DROP COLUMN "user_id", ADD PRIMARY KEY ("id")`,
		`CREATE INDEX "users_name_lower" ON "public"."users" (lower("name"))`,
		`DROP TABLE "app"."events"`,
		`ALTER TYPE "public"."status" ADD VALUE 'paused'`,
		`CREATE SEQUENCE IF NOT EXISTS "public"."users_n_seq" OWNED BY "public"."users"."n"`,
	}, statementState(), testFacts, plan.DefaultTimeouts)
	if err != nil {
		t.Fatal(err)
	}
	key := func(kind, table, name string) state.CatalogKey {
		return state.CatalogKey{Kind: kind, Schema: "public", Table: table, Name: name}
	}
	for _, c := range []struct {
		d    state.CatalogDifference
		want bool
	}{
		{state.CatalogDifference{Key: key(state.CatalogColumn, "users", "email"), Desired: "text not null", Live: "text"}, true},
		{state.CatalogDifference{Key: key(state.CatalogColumn, "users", "name"), Desired: "text", Live: "character varying(20) not null"}, false},
		{state.CatalogDifference{Key: key(state.CatalogColumn, "orders", "id"), Desired: "bigint", Live: "integer"}, false},
		{state.CatalogDifference{Key: key(state.CatalogTable, "", "orders"), Desired: "table comment 'x'", Live: "table"}, false},
		{state.CatalogDifference{Key: key(state.CatalogColumn, "orders", "user_id"), Live: "bigint not null"}, true},
		// Gone with the column dropped.
		{state.CatalogDifference{Key: key(state.CatalogConstraint, "orders", "orders_user_fk"), Live: "FOREIGN KEY (user_id) REFERENCES users(id)"}, true},
		{state.CatalogDifference{Key: key(state.CatalogConstraint, "orders", "orders_pkey"), Desired: "PRIMARY KEY (id)"}, true},
		{state.CatalogDifference{Key: key(state.CatalogIndex, "orders", "orders_pkey"), Desired: "primary key: CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)"}, true},
		{state.CatalogDifference{Key: key(state.CatalogIndex, "users", "users_name_lower"), Desired: "CREATE INDEX users_name_lower ON public.users USING btree (lower(name))"}, true},
		{state.CatalogDifference{Key: key(state.CatalogIndex, "users", "users_email_key"), Desired: "CREATE UNIQUE INDEX users_email_key ON public.users USING btree (lower(email))", Live: "CREATE UNIQUE INDEX users_email_key ON public.users USING btree (email)"}, false},
		{state.CatalogDifference{Key: state.CatalogKey{Kind: state.CatalogColumn, Schema: "app", Table: "events", Name: "id"}, Live: "bigint not null"}, true},
		{state.CatalogDifference{Key: state.CatalogKey{Kind: state.CatalogColumn, Schema: "app", Table: "users", Name: "id"}, Live: "bigint not null"}, false},
		{state.CatalogDifference{Key: key(state.CatalogEnum, "", "status"), Desired: "('active', 'gone', 'paused')", Live: "('active', 'gone')"}, true},
		{state.CatalogDifference{Key: key(state.CatalogEnum, "", "empty"), Desired: "('a')", Live: "()"}, false},
		{state.CatalogDifference{Key: key(state.CatalogSequence, "", "users_n_seq"), Desired: "CREATE SEQUENCE public.users_n_seq AS bigint"}, true},
	} {
		if got := cov.Covers(c.d); got != c.want {
			t.Errorf("covers %s (desired %q, live %q): %v, want %v", c.d.Key, c.d.Desired, c.d.Live, got, c.want)
		}
	}
}
