package pg_test

import (
	"strings"
	"testing"

	"keel/planner/pg"
	"keel/planner/plan"
)

// TestParseURLReadsAsPgxAndShowsNoPassword: ParseURL reads a connection
// string as pgx connects with it, refuses one pgx would read otherwise than
// its author meant, and no error shows the password or where it landed.
func TestParseURLReadsAsPgxAndShowsNoPassword(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		hidden    []string // never in the error
		want      string   // in the error
	}{
		{"unencoded @ in the password", "postgres://u:Sec@ret@127.0.0.1:55432/db", []string{"Sec", "ret@"}, "%40"},
		{"unencoded / in the password", "postgres://u:1234/abcd@127.0.0.1/db", []string{"1234", "abcd"}, "%2F"},
		{"password parameter with an @", "postgres://127.0.0.1/db?password=Sec@ret", []string{"Sec", "ret"}, "%40"},
		{"host with an @", "host=ret@127.0.0.1 user=u password=Sec", []string{"Sec", "ret"}, "not shown"},
		{"upper-case scheme", "POSTGRES://u:Secret@127.0.0.1/db", []string{"Secret"}, "not a PostgreSQL URL"},
		{"bad port", "postgres://u:Secret@127.0.0.1:notaport/db", []string{"Secret"}, "postgres://u:xxxxx@127.0.0.1:notaport/db"},
		{"password with an unquoted space", "host=127.0.0.1 password=Sec ret dbname=db", []string{"Sec", "ret"}, "password=xxxxx xxxxx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pg.ParseURL(tc.raw)
			if err == nil {
				t.Fatalf("ParseURL(%q) accepted it", tc.raw)
			}
			for _, h := range tc.hidden {
				if strings.Contains(err.Error(), h) {
					t.Errorf("the error shows %q: %v", h, err)
				}
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("the error does not say %q: %v", tc.want, err)
			}
		})
	}
	wantTargets(t, map[string]plan.Target{
		"postgres://u:p%40ss%2Fw%3Fd%23@db.internal:6543/app":           {Host: "db.internal", Port: 6543, Database: "app", User: "u"},
		"postgres://u@db.internal:5432/app?password=Sec%40ret":          {Host: "db.internal", Port: 5432, Database: "app", User: "u"},
		"host=db.internal port=6543 dbname=app user=u password='S@c r'": {Host: "db.internal", Port: 6543, Database: "app", User: "u"},
	})
	// The sslmode is the query's, not one inside the (encoded) password.
	db, err := pg.ParseURL("postgres://u:x%3Fsslmode%3Ddisable@db.internal/app?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	if got := db.SSLMode(); got != "require" {
		t.Errorf("SSLMode() = %q, want require", got)
	}
}

// wantTargets parses each connection string and checks the target it names.
func wantTargets(t *testing.T, cases map[string]plan.Target) {
	t.Helper()
	for raw, want := range cases {
		db, err := pg.ParseURL(raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", raw, err)
			continue
		}
		if got := db.Target(); got != want {
			t.Errorf("ParseURL(%q).Target() = %+v, want %+v", raw, got, want)
		}
	}
}
