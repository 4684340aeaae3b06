package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestClusterAsksForPasswords: the cluster lets a role in over TCP with its
// password only.
func TestClusterAsksForPasswords(t *testing.T) {
	t.Parallel()
	c := StartCluster(t)
	const password = `P@ss:w/rd?#%' x"`
	c.CreateRole(t, "keel_pw", password)
	ctx := context.Background()
	for _, tc := range []struct {
		password string
		code     string // SQLSTATE expected, "" for success
	}{{password, ""}, {"wrong", "28P01"}} {
		u := fmt.Sprintf("postgres://%s@%s:%d/postgres?sslmode=disable", url.UserPassword("keel_pw", tc.password), c.Host, c.Port)
		conn, err := pgx.Connect(ctx, u)
		var pe *pgconn.PgError
		switch {
		case tc.code == "" && err != nil:
			t.Fatalf("connecting with the password: %v", err)
		case tc.code == "":
			conn.Close(ctx)
		case err == nil:
			conn.Close(ctx)
			t.Fatal("a wrong password connects")
		case !errors.As(err, &pe) || pe.Code != tc.code:
			t.Fatalf("a wrong password: %v, want SQLSTATE %s", err, tc.code)
		}
	}
}
