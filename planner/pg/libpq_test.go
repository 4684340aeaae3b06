package pg_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keel/planner/pg"
	"keel/planner/plan"
)

// clearLibpq unsets the libpq variables for the test, so that the machine's
// own do not count, and points the password and service files at none.
func clearLibpq(t *testing.T) {
	for _, v := range []string{"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSSLMODE",
		"PGSERVICE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGCONNECT_TIMEOUT", "PGOPTIONS", "PGTARGETSESSIONATTRS", "PGSSLNEGOTIATION"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	dir := t.TempDir()
	t.Setenv("PGPASSFILE", filepath.Join(dir, "no-pgpass"))
	t.Setenv("PGSERVICEFILE", filepath.Join(dir, "no-service.conf"))
}

func writeSecret(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The libpq environment fills in what a connection string leaves out, and
// never overrides what it says, as psql reads them.
func TestParseURLFillsFromTheEnvironment(t *testing.T) {
	clearLibpq(t)
	t.Setenv("PGHOST", "env.internal")
	t.Setenv("PGPORT", "6000")
	t.Setenv("PGDATABASE", "envdb")
	t.Setenv("PGUSER", "envuser")
	t.Setenv("PGSSLMODE", "disable")
	wantTargets(t, map[string]plan.Target{
		"postgres:///app":                   {Host: "env.internal", Port: 6000, Database: "app", User: "envuser"},
		"postgres://u@db.internal:5433/app": {Host: "db.internal", Port: 5433, Database: "app", User: "u"},
		"postgres://db.internal":            {Host: "db.internal", Port: 6000, Database: "envdb", User: "envuser"},
		"host=db.internal dbname=app":       {Host: "db.internal", Port: 6000, Database: "app", User: "envuser"},
		"":                                  {Host: "env.internal", Port: 6000, Database: "envdb", User: "envuser"},
		"postgres://db.internal/app?user=q&port=7": {Host: "db.internal", Port: 7, Database: "app", User: "q"},
	})
	db, err := pg.ParseURL("postgres://db.internal/app")
	if err != nil {
		t.Fatal(err)
	}
	if db.SSLMode() != "disable" || db.SSLModeFrom() != "PGSSLMODE" {
		t.Errorf("sslmode %q from %q, want disable from PGSSLMODE", db.SSLMode(), db.SSLModeFrom())
	}
	if got := strings.Join(db.FilledFrom(), " "); got != "PGPORT PGUSER PGSSLMODE" {
		t.Errorf("FilledFrom = %q, want PGPORT PGUSER PGSSLMODE", got)
	}
	if db, _ := pg.ParseURL("postgres://db.internal/app?sslmode=require"); db.SSLMode() != "require" || db.SSLModeFrom() != "" {
		t.Errorf("the URL's sslmode does not win over PGSSLMODE: %q from %q", db.SSLMode(), db.SSLModeFrom())
	}
	// A bad PGPORT is named in the error, as the URL is not at fault.
	t.Setenv("PGPORT", "notaport")
	if _, err := pg.ParseURL("postgres://db.internal/app"); err == nil || !strings.Contains(err.Error(), "PGPORT") {
		t.Errorf("a bad PGPORT: %v, want an error naming it", err)
	}
	// Nothing at all names a database.
	clearLibpq(t)
	if _, err := pg.ParseURL(""); err == nil || !strings.Contains(err.Error(), "PGHOST") {
		t.Errorf("no URL and no environment: %v, want an error that says what to set", err)
	}
}

// A service in pg_service.conf (service=, PGSERVICE; PGSERVICEFILE) fills in
// what the string leaves out, its sslmode included; a missing one is an
// error saying where keel looked. The password comes from the password file
// when nothing else gives one, and is said to.
func TestParseURLServiceAndPassfile(t *testing.T) {
	clearLibpq(t)
	services := writeSecret(t, "pg_service.conf", "[keel]\nhost=svc.internal\nport=6543\ndbname=svcdb\nuser=svcuser\nsslmode=require\n")
	t.Setenv("PGSERVICEFILE", services)
	t.Setenv("PGSSLMODE", "disable") // the service's wins
	db, err := pg.ParseURL("service=keel")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := db.Target(), (plan.Target{Host: "svc.internal", Port: 6543, Database: "svcdb", User: "svcuser"}); got != want {
		t.Errorf("service=keel: %+v, want %+v", got, want)
	}
	if db.SSLMode() != "require" || !strings.Contains(db.SSLModeFrom(), `service "keel"`) {
		t.Errorf("service=keel: sslmode %q from %q, want require from the service", db.SSLMode(), db.SSLModeFrom())
	}
	t.Setenv("PGSERVICE", "keel")
	if db, err := pg.ParseURL("postgres://db.internal/app"); err != nil || db.Target().Host != "db.internal" || db.Target().User != "svcuser" {
		t.Errorf("PGSERVICE with a URL naming the host: %v %+v, want the URL's host and the service's user", err, db)
	}
	t.Setenv("PGSERVICE", "nope")
	_, err = pg.ParseURL("postgres://db.internal/app")
	if err == nil || !strings.Contains(err.Error(), `service "nope" (PGSERVICE)`) || !strings.Contains(err.Error(), services) {
		t.Errorf("a service the file lacks: %v, want the service and the file named", err)
	}
	t.Setenv("PGSERVICE", "")

	// The password file: used when the URL has no password, never shown.
	const secret = "Zx9-pgpass-secret"
	passfile := writeSecret(t, "pgpass", "db.internal:5432:app:u:"+secret+"\n")
	t.Setenv("PGPASSFILE", passfile)
	t.Setenv("PGSSLMODE", "")
	for raw, from := range map[string]string{
		"postgres://u@db.internal/app":           passfile,
		"postgres://u:other@db.internal/app":     "the URL",
		"postgres://u@db.internal/elsewhere":     "",
		"postgres://u@db.internal/app?port=5432": passfile,
	} {
		db, err := pg.ParseURL(raw)
		if err != nil {
			t.Fatalf("ParseURL(%q): %v", raw, err)
		}
		if db.PasswordFrom() != from {
			t.Errorf("ParseURL(%q).PasswordFrom() = %q, want %q", raw, db.PasswordFrom(), from)
		}
		if strings.Contains(db.String(), secret) {
			t.Errorf("the target shows the password: %s", db)
		}
	}
	t.Setenv("PGPASSWORD", "from-env")
	if db, _ := pg.ParseURL("postgres://u@db.internal/app"); db.PasswordFrom() != "PGPASSWORD" {
		t.Errorf("PGPASSWORD does not win over the password file: %q", db.PasswordFrom())
	}
}
