// Package pgtest gives each test its own database on a real PostgreSQL
// server, found from KEEL_TEST_DATABASE_URL, else 127.0.0.1:5432.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ServerURL is the URL of a database on the test server that tests connect
// to for CREATE DATABASE.
func ServerURL() string {
	if u := os.Getenv("KEEL_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://127.0.0.1:5432/postgres"
}

// WithDatabase returns base with its database replaced by name.
func WithDatabase(t testing.TB, base, name string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		t.Fatalf("KEEL_TEST_DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String()
}

// connect opens a connection that the test closes when the caller returns.
func connect(t testing.TB, ctx context.Context, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	return conn
}

// Exec runs statements on the database at dbURL and fails the test on error.
func Exec(t testing.TB, dbURL string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn := connect(t, ctx, dbURL)
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// QueryValue returns the single value of query on the database at dbURL.
func QueryValue[T any](t testing.TB, dbURL, query string, args ...any) T {
	t.Helper()
	ctx := context.Background()
	conn := connect(t, ctx, dbURL)
	defer conn.Close(ctx)
	var v T
	if err := conn.QueryRow(ctx, query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// NewDatabase creates an empty database for the test and drops it when the
// test ends. It returns the database's URL and name.
func NewDatabase(t testing.TB) (dbURL, name string) {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name = "keel_test_" + hex.EncodeToString(b[:])
	server := ServerURL()
	Exec(t, server, "CREATE DATABASE "+name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		// A plan that normalized on this database's server left the drop
		// of its throwaway database to a session of this database (see
		// source.DevDatabase.Apart): FORCE would end that session, and the
		// drop with it, half-way. It is waited for first.
		for {
			var dropping int
			err := conn.QueryRow(ctx, `SELECT count(*)::int FROM pg_catalog.pg_stat_activity
WHERE datname = $1 AND state = 'active' AND query ILIKE 'DROP DATABASE%'`, name).Scan(&dropping)
			if err != nil || dropping == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	return WithDatabase(t, server, name), name
}

// DumpSchema returns `pg_dump --schema-only --no-owner --no-privileges` of
// the database, without keel's own schema, comment lines, SET lines and
// pg_dump's \restrict tokens: two databases with the same schema dump the same.
func DumpSchema(t testing.TB, dbURL string) string {
	t.Helper()
	out, err := exec.Command("pg_dump", "-s", "-O", "-x", "-N", "keel", "-d", dbURL).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump (from postgresql-client, at least the server's version): %v: %s", err, out)
	}
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if l == "" || strings.HasPrefix(l, "--") || strings.HasPrefix(l, "SET ") || strings.HasPrefix(l, `\restrict`) ||
			strings.HasPrefix(l, `\unrestrict`) || strings.HasPrefix(l, "SELECT pg_catalog.set_config") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}
