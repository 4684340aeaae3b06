package main

import (
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// objectsSQL makes one of every kind of object keel manages beside tables.
var objectsSQL = []string{
	`DO $$BEGIN CREATE ROLE keel_objects_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$`,
	`CREATE TABLE t (id serial PRIMARY KEY, a int, b text, updated_at timestamptz)`,
	`CREATE SEQUENCE tickets START 5`,
	`CREATE TABLE u (id int DEFAULT nextval('tickets'), c text)`,
	`CREATE VIEW v AS SELECT id, a FROM t WHERE a > 0`,
	`COMMENT ON VIEW v IS 'positive rows'`,
	`CREATE VIEW v2 AS SELECT * FROM v`,
	`CREATE MATERIALIZED VIEW mv AS SELECT a, count(*) AS n FROM t GROUP BY a`,
	`CREATE UNIQUE INDEX mv_a ON mv (a)`,
	`CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$`,
	`CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()`,
	`CREATE FUNCTION add(x int, y int DEFAULT 1) RETURNS int LANGUAGE sql IMMUTABLE RETURN x + y`,
	`CREATE DOMAIN posint AS int CHECK (VALUE > 0) DEFAULT 1 NOT NULL`,
	`CREATE TYPE pair AS (x int, y text)`,
	`CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
	`CREATE STATISTICS st (dependencies) ON a, b FROM t`,
	`ALTER TABLE t ENABLE ROW LEVEL SECURITY`,
	`CREATE POLICY readers ON t FOR SELECT TO keel_objects_reader USING (a > 0)`,
	`GRANT SELECT ON t, v TO keel_objects_reader`,
	`REVOKE EXECUTE ON FUNCTION add(int, int) FROM PUBLIC`,
}

// A database with views, functions, triggers, sequences, domains, types,
// collations, statistics, policies and privileges: keel inspect prints
// them all, the file validates and plans nothing against the database,
// and applied to an empty database it makes the same schema.
func TestInspectEveryObjectKindRoundTrips(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, objectsSQL...)
	code, out, errs := keel(t, "inspect", "--env", "dev", "--url", u)
	if code != 0 {
		t.Fatalf("inspect: exit %d:\n%s%s", code, out, errs)
	}
	for _, want := range []string{`view "v"`, `materialized "mv"`, `function "touch"`, `trigger "t_touch"`, `sequence "tickets"`,
		`domain "posint"`, `composite "pair"`, `collation "ci"`, `statistics "st"`, `policy "readers"`, "row_security", "permission", "revoke"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %s", want)
		}
	}
	if strings.Contains(out, "keel cannot") {
		t.Errorf("inspect could not print something:\n%s", out)
	}
	path := writeFile(t, "schema.hcl", out)
	if code, vout, errs := keel(t, "validate", "--schema", path); code != 0 {
		t.Fatalf("validate of the inspected file: exit %d:\n%s%s\n%s", code, vout, errs, out)
	}
	if code, pout, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", path, "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan of the inspected file against its database: exit %d:\n%s%s\n%s", code, pout, errs, out)
	}
	empty, _ := pgtest.NewDatabase(t)
	if code, aout, errs := keel(t, "apply", "--env", "dev", "--url", empty, "--schema", path); code != 0 {
		t.Fatalf("apply of the inspected file to an empty database: exit %d:\n%s%s", code, aout, errs)
	}
	if code, pout, errs := keel(t, "plan", "--env", "dev", "--url", empty, "--schema", path, "--detailed-exitcode"); code != 0 {
		t.Fatalf("re-plan after the apply: exit %d:\n%s%s", code, pout, errs)
	}
	if a, b := pgtest.DumpSchema(t, u), pgtest.DumpSchema(t, empty); withoutKeel(a) != withoutKeel(b) {
		t.Fatalf("the database made from the inspected file differs:\n--- original\n%s\n--- made\n%s", a, b)
	}
}

// The objects of an extension with hundreds of them (PostGIS: functions,
// types, spatial_ref_sys) are never shown, planned or dropped.
func TestExtensionObjectsAreNotKeels(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	if !pgtest.QueryValue[bool](t, u, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')") {
		t.Skip("PostGIS is not installed on the test server (scripts/test.sh installs postgresql-NN-postgis-3 as root on Debian): skipped")
	}
	pgtest.Exec(t, u, "CREATE EXTENSION postgis", "CREATE TABLE places (id int PRIMARY KEY, at geometry(Point, 4326))")
	code, out, errs := keel(t, "inspect", "--env", "dev", "--url", u)
	if code != 0 {
		t.Fatalf("inspect: exit %d:\n%s%s", code, out, errs)
	}
	for _, bad := range []string{"st_", "spatial_ref_sys", "geometry_columns", "keel cannot"} {
		if strings.Contains(strings.ToLower(out), bad) {
			t.Fatalf("inspect shows PostGIS's %s:\n%s", bad, out)
		}
	}
	path := writeFile(t, "schema.hcl", out)
	code, pout, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", path, "--detailed-exitcode")
	if code != 0 || strings.Contains(pout, "Not managed") {
		t.Fatalf("plan of the inspected file: exit %d, want no changes and nothing listed:\n%s%s", code, pout, errs)
	}
}

// withoutKeel leaves keel's own schema out of a pg_dump.
func withoutKeel(dump string) string {
	var out []string
	skip := false
	for _, l := range strings.Split(dump, "\n") {
		if strings.HasPrefix(l, "-- Name: ") {
			skip = strings.Contains(l, "Schema: keel;") || strings.HasPrefix(l, "-- Name: keel;")
		}
		if !skip && !strings.HasPrefix(l, `\restrict`) && !strings.HasPrefix(l, `\unrestrict`) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
