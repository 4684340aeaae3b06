package apply

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"keel/internal/pgtest"
	"keel/planner/pg"
)

// advisoryLocks counts the advisory locks held in the database at dbURL,
// read on the server itself.
func advisoryLocks(t *testing.T, dbURL string) int {
	t.Helper()
	return pgtest.QueryValue[int](t, dbURL, `SELECT count(*)::int FROM pg_locks
WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
}

// detect connects to dbURL and runs DetectPooler on that connection.
func detect(t *testing.T, dbURL string) (string, error) {
	t.Helper()
	ctx := context.Background()
	db, err := pg.ParseURL(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	return DetectPooler(ctx, db, conn)
}

// lockAndClose takes the apply lock on dbURL and releases it.
func lockAndClose(t *testing.T, dbURL string) error {
	t.Helper()
	db, err := pg.ParseURL(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Open(context.Background(), "keel test")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := Lock(context.Background(), conn, "dev", time.Second)
	if err != nil {
		return err
	}
	return sess.Close()
}

// A direct connection is never taken for a pooler: over TCP (the server sees
// keel's own connection), over TLS, and over a unix socket (where only the
// probes with a second connection can tell); an apply lock taken there is
// released.
func TestDetectPoolerDirect(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	withQuery := func(k, v string) string {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		q := p.Query()
		q.Set(k, v)
		p.RawQuery = q.Encode()
		return p.String()
	}
	tcp := withQuery("sslmode", "disable")
	cases := []struct{ name, url, says string }{
		{"tcp", tcp, "direct connection: the server sees keel's own TCP connection"},
		{"tls", withQuery("sslmode", "require"), "direct connection: the server sees keel's own TCP connection"},
		{"unix socket", "", "one server session throughout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			switch c.name {
			case "tls":
				if pgtest.QueryValue[string](t, tcp, "SHOW ssl") != "on" {
					t.Skip("the test server has ssl = off: no TLS connection to test")
				}
			case "unix socket":
				dirs := pgtest.QueryValue[string](t, tcp, "SHOW unix_socket_directories")
				port := pgtest.QueryValue[string](t, tcp, "SHOW port")
				dir := strings.TrimSpace(strings.Split(dirs, ",")[0])
				if _, err := os.Stat(filepath.Join(dir, ".s.PGSQL."+port)); dir == "" || err != nil {
					t.Skipf("the test server's unix socket (%q, port %s) is not on this machine", dirs, port)
				}
				p, err := url.Parse(u)
				if err != nil {
					t.Fatal(err)
				}
				p.Host, p.RawQuery = "", url.Values{"host": {dir}, "port": {port}}.Encode()
				c.url = p.String()
			}
			found, err := detect(t, c.url)
			if err != nil {
				t.Fatalf("a direct connection was taken for a pooler: %v", err)
			}
			if !strings.HasPrefix(found, c.says) {
				t.Errorf("DetectPooler says %q, want it to start with %q", found, c.says)
			}
			if c.name == "tls" && pgtest.QueryValue[bool](t, c.url, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") != true {
				t.Error("sslmode=require did not give a TLS session")
			}
			if err := lockAndClose(t, c.url); err != nil {
				t.Fatalf("lock and release: %v", err)
			}
			if n := advisoryLocks(t, tcp); n != 0 {
				t.Fatalf("%d advisory locks left behind", n)
			}
		})
	}
}

// Through PgBouncer in transaction mode, DetectPooler and Lock refuse before
// any lock is taken, naming host and port; through a session-mode pool of
// the same PgBouncer, the lock is taken and released.
func TestDetectPoolerBehindPgBouncer(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	b := pgtest.StartPgBouncer(t, u)

	_, err := detect(t, b.Transaction)
	var pe *PoolerError
	if !errors.As(err, &pe) {
		t.Fatalf("transaction pool: DetectPooler = %v, want a *PoolerError", err)
	}
	hostPort := "127.0.0.1:" + strconv.Itoa(b.Port)
	for _, want := range []string{hostPort, "transaction or statement mode", "directly", "session-mode pool"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if err := lockAndClose(t, b.Transaction); !errors.As(err, &pe) {
		t.Fatalf("transaction pool: Lock = %v, want a *PoolerError", err)
	}
	if n := advisoryLocks(t, u); n != 0 {
		t.Fatalf("%d advisory locks left on the server after refusing", n)
	}

	found, err := detect(t, b.Session)
	if err != nil {
		t.Fatalf("session pool taken for a transaction pooler: %v", err)
	}
	if !strings.Contains(found, "one server session throughout") {
		t.Errorf("session pool: DetectPooler says %q", found)
	}
	if err := lockAndClose(t, b.Session); err != nil {
		t.Fatalf("session pool: lock and release: %v", err)
	}
	if n := advisoryLocks(t, u); n != 0 {
		t.Fatalf("%d advisory locks left on the server after an apply lock through a session pool", n)
	}
}

// Releasing the apply lock checks pg_advisory_unlock's answer: when keel's
// session no longer holds the lock and another session does (what a
// transaction pooler does to it), Close says so and names the holder.
func TestCloseSaysWhenTheLockWasNotReleased(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Open(ctx, "keel test")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := Lock(ctx, conn, "dev", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Conn().Exec(ctx, "SELECT pg_advisory_unlock("+LockKey+")"); err != nil {
		t.Fatal(err)
	}
	other, err := db.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	var pid int
	if err := other.QueryRow(ctx, "SELECT pg_backend_pid() FROM (SELECT pg_advisory_lock("+LockKey+")) l").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	err = sess.Close()
	var ue *UnlockError
	if !errors.As(err, &ue) {
		t.Fatalf("Close = %v, want an *UnlockError", err)
	}
	for _, want := range []string{"NOT released", "pg_advisory_unlock returned false", "pid " + strconv.Itoa(pid), "pg_terminate_backend", "session-mode pool"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
}

// Through a session-mode pool with no server connection to spare for the
// probe's second connection, Lock refuses and says to give the pool one more,
// instead of waiting for the pooler's own timeout; no lock is left.
func TestLockBehindAFullSessionPool(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	b := pgtest.StartPgBouncer(t, u)
	err := lockAndClose(t, b.SessionOfOne)
	if err == nil {
		t.Fatal("Lock succeeded without telling whether a pooler is in the way")
	}
	var pe *PoolerError
	if errors.As(err, &pe) {
		t.Fatalf("a session pool was taken for a transaction pooler: %v", err)
	}
	for _, want := range []string{"127.0.0.1:" + strconv.Itoa(b.Port), "second connection got no server session", "pool_size", "directly"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if n := advisoryLocks(t, u); n != 0 {
		t.Fatalf("%d advisory locks left on the server", n)
	}
}
