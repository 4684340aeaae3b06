package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// NewRole creates a login role with no other attribute (no superuser, no
// CREATEDB) and drops it when the test ends. Call it before NewDatabase, so
// that the database, and the privileges granted in it, go first.
func NewRole(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "keel_role_" + hex.EncodeToString(b[:])
	server := ServerURL()
	Exec(t, server, "CREATE ROLE "+name+" LOGIN PASSWORD '"+rolePassword(name)+"'")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("dropping role %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP ROLE IF EXISTS "+name); err != nil {
			t.Errorf("dropping role %s: %v", name, err)
		}
	})
	return name
}

// rolePassword is the password of a role NewRole made, so that AsRole URLs
// work whether the server trusts local connections or asks for a password.
func rolePassword(role string) string { return "pw_" + role }

// AsRole returns dbURL with its user and password replaced by the role's.
func AsRole(t testing.TB, dbURL, role string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil || u.Scheme == "" {
		t.Fatalf("KEEL_TEST_DATABASE_URL must be a postgres:// URL")
	}
	u.User = url.UserPassword(role, rolePassword(role))
	return u.String()
}
