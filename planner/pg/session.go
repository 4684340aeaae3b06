package pg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Conn is the one connection a command holds to a database. Everything keel
// does there goes through it, in order, from one goroutine: the engine's
// inspection (through database/sql, which the engine speaks), keel's own
// catalog queries, the checks of keel doctor, the apply lock and the plan's
// statements (through pgx). Both APIs drive the same server session, so
// session settings, locks and an open transaction are shared.
type Conn struct {
	db   *DB
	pool *sql.DB
	conn *sql.Conn
	pgx  *pgx.Conn
	// Attempts is how many attempts connecting took.
	Attempts int
}

// MaxAttempts bounds the connection attempts on transient errors; all of
// them together stay within the connect timeout.
const MaxAttempts = 3

// Open connects to the database, retrying briefly on errors that may pass
// (the server starting up, too many connections, a refused or reset
// connection), all within the connection string's connect timeout. app is
// the session's application_name, which names keel's sessions in
// pg_stat_activity ("keel apply prod 2026-11-26T09:21:22Z"). A failed
// Open's error is a *ConnectError.
func (d *DB) Open(ctx context.Context, app string) (*Conn, error) {
	cfg := d.sessionConfig()
	if app != "" {
		cfg.RuntimeParams["application_name"] = app
	}
	cctx, cancel := context.WithTimeout(ctx, d.ConnectTimeout())
	defer cancel()
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		c, err := open(cctx, cfg)
		if err == nil {
			c.db, c.Attempts = d, attempt
			return c, nil
		}
		if attempt == MaxAttempts || !transient(err) {
			return nil, &ConnectError{DB: d, Attempts: attempt, Err: scrubConnectError(err)}
		}
		select {
		case <-time.After(delay):
		case <-cctx.Done():
			return nil, &ConnectError{DB: d, Attempts: attempt, Err: scrubConnectError(err)}
		}
		delay *= 2
	}
}

func open(ctx context.Context, cfg *pgx.ConnConfig) (*Conn, error) {
	pool := stdlib.OpenDB(*cfg)
	// One connection, kept: the session is the point.
	pool.SetMaxOpenConns(1)
	pool.SetMaxIdleConns(1)
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)
	conn, err := pool.Conn(ctx)
	if err != nil {
		pool.Close()
		return nil, err
	}
	c := &Conn{pool: pool, conn: conn}
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		c.pgx = sc.Conn()
		return nil
	})
	if err != nil {
		conn.Close()
		pool.Close()
		return nil, err
	}
	return c, nil
}

// transient reports whether a connection error may pass on its own.
func transient(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P03", // cannot_connect_now: starting up or shutting down
			"53300", // too_many_connections
			"53400": // configuration_limit_exceeded
			return true
		}
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// ConnectError is a failed Open: the database, how many attempts were made,
// and the last error (the server's answer keeps its SQLSTATE for errors.As;
// no connection string or password is in it).
type ConnectError struct {
	DB       *DB
	Attempts int
	Err      error
}

func (e *ConnectError) Error() string { return fmt.Sprintf("connecting to %s: %v", e.DB, e.Err) }

func (e *ConnectError) Unwrap() error { return e.Err }

// DB is the database the connection is to.
func (c *Conn) DB() *DB { return c.db }

// Pgx is the session as a pgx connection, for keel's own statements. It
// stays valid until Close; it must not be used while a database/sql call on
// c runs (keel uses c from one goroutine).
func (c *Conn) Pgx() *pgx.Conn { return c.pgx }

// QueryContext runs a query through database/sql: with ExecContext, c is
// the schema engine's schema.ExecQuerier.
func (c *Conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.conn.QueryContext(ctx, query, args...)
}

// ExecContext runs a statement through database/sql.
func (c *Conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.conn.ExecContext(ctx, query, args...)
}

// QueryRowContext runs a query that returns one row through database/sql.
func (c *Conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.conn.QueryRowContext(ctx, query, args...)
}

// Close ends the session.
func (c *Conn) Close() error {
	return errors.Join(c.conn.Close(), c.pool.Close())
}

// Exec runs one of keel's own statements (not a plan's: see ExecStatement).
func (c *Conn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return c.pgx.Exec(ctx, sql, args...)
}

// QueryRow runs one of keel's own queries that returns one row.
func (c *Conn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return c.pgx.QueryRow(ctx, sql, args...)
}

// Query runs one of keel's own queries.
func (c *Conn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return c.pgx.Query(ctx, sql, args...)
}

// BeginTx starts a transaction through database/sql (keel's read-only
// probes use one).
func (c *Conn) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	return c.conn.BeginTx(ctx, opts)
}
