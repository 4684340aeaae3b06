package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Main runs a package's tests (from its TestMain) with scratch databases
// of their own: unless KEEL_SCRATCH is set, it names them for this test
// process (keel normalizes small desired states in a database it keeps on
// the server, see planner/source), and drops them when the tests end, so
// that the test server is left as it was.
func Main(m *testing.M) int {
	own := ""
	if os.Getenv("KEEL_SCRATCH") == "" {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic(err)
		}
		own = "keel_scratch_test_" + hex.EncodeToString(b[:])
		os.Setenv("KEEL_SCRATCH", own)
	}
	code := m.Run()
	if own != "" {
		if err := dropScratch(own); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// dropScratch drops the scratch databases named after name (name, name_2,
// ...) on the test server.
func dropScratch(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		return fmt.Errorf("dropping the scratch databases %s*: %w", name, err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_catalog.pg_database WHERE datname = $1 OR datname ~ ('^' || $1 || '_[0-9]+$')", name)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(n)+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("dropping the scratch database %s: %w", n, err)
		}
	}
	return nil
}
