// Package pg is keel's side of a PostgreSQL connection: connection strings
// read as libpq reads them and never shown with their password, the
// connection every command holds to its target, and the one way keel runs a
// statement of a plan (exactly one statement, over the extended protocol).
package pg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"keel/internal/connstr"
	"keel/planner/plan"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// DB is a parsed connection string. Its String never shows the password.
type DB struct {
	cfg     *pgx.ConnConfig
	sslmode string
	// engineQueries turns off keel's faster inspection queries (fastinspect.go).
	engineQueries bool
}

// ParseURL parses a PostgreSQL URL or keyword/value connection string, as
// pgx and libpq read it. It refuses a URL they would read otherwise than its
// author meant (an unencoded '@' in the password: see connstr.Check). The
// error never repeats the input unredacted, nor a host, port, database or
// user that a password may have landed in.
func ParseURL(raw string) (*DB, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("no database URL: set it in the profile's environment variable or pass --url")
	}
	if err := connstr.Check(raw); err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("cannot parse the database URL %s: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=... "+
			"with special characters in the password percent-encoded ('%%' as %%25, a space as %%20), "+
			"or keyword/value pairs (host=HOST dbname=DATABASE ...)", connstr.Redact(raw))
	}
	hosts := []string{cfg.Host}
	for _, f := range cfg.Fallbacks {
		hosts = append(hosts, f.Host)
	}
	for _, h := range hosts {
		if strings.Contains(h, "@") {
			// Not even redacted: the host may be part of a password.
			return nil, errors.New("the database connection string names a host holding an '@' (not shown: it may be part of a password): " +
				"percent-encode '@' in a URL's password as %40, or quote the password in a keyword/value string (password='...')")
		}
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	return &DB{cfg: cfg, sslmode: sslMode(raw)}, nil
}

// sslMode is the sslmode the connection string asks for, as libpq reads it:
// the string's, else $PGSSLMODE, else "prefer".
func sslMode(raw string) string {
	if m := connstr.Setting(raw, "sslmode"); m != "" {
		return m
	}
	if m := os.Getenv("PGSSLMODE"); m != "" {
		return m
	}
	return "prefer"
}

// SSLMode is the sslmode the connection uses.
func (d *DB) SSLMode() string { return d.sslmode }

// Target describes the database the string points at.
func (d *DB) Target() plan.Target {
	return plan.Target{Host: d.cfg.Host, Port: d.cfg.Port, Database: d.cfg.Database, User: d.cfg.User}
}

func (d *DB) String() string { return d.Target().String() }

// WithDatabase returns the same server and credentials, another database.
func (d *DB) WithDatabase(name string) *DB {
	cfg := d.cfg.Copy()
	cfg.Database = name
	return &DB{cfg: cfg, sslmode: d.sslmode, engineQueries: d.engineQueries}
}

// WithEngineQueries returns the same database, inspected with the Atlas
// engine's own queries only, without keel's faster equivalents of its slow
// ones (see fastinspect.go; KEEL_INSPECT_REWRITE=off does the same for all).
func (d *DB) WithEngineQueries() *DB {
	c := *d
	c.engineQueries = true
	return &c
}

// EngineQueries reports whether inspections of d run the engine's own
// queries only (WithEngineQueries).
func (d *DB) EngineQueries() bool { return d.engineQueries }

// Connect opens one connection.
func (d *DB) Connect(ctx context.Context) (*pgx.Conn, error) {
	return d.ConnectAs(ctx, "")
}

// ConnectAs opens one connection with the given application_name.
func (d *DB) ConnectAs(ctx context.Context, app string) (*pgx.Conn, error) {
	cfg := d.sessionConfig()
	if app != "" {
		cfg.RuntimeParams["application_name"] = app
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", d, scrubConnectError(err))
	}
	return conn, nil
}

// OpenSQL opens a database/sql handle limited to one connection, as the
// Atlas engine sets session settings (search_path) it expects to persist.
func (d *DB) OpenSQL(ctx context.Context) (*sql.DB, error) {
	db := stdlib.OpenDB(*d.sessionConfig())
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to %s: %w", d, scrubConnectError(err))
	}
	return db, nil
}

// scrubConnectError keeps the server's answer but drops pgx's connection
// string echo, which may hold a password.
func scrubConnectError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return &serverConnectError{pe}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return distinctErrors(errors.Unwrap(ce))
	}
	return err
}

// sessionConfig is the configuration of a new connection. Its session reads
// string literals the way keel writes them: with standard_conforming_strings
// on, a backslash in '...' is an ordinary character, whatever the database
// or role sets.
func (d *DB) sessionConfig() *pgx.ConnConfig {
	cfg := d.cfg.Copy()
	cfg.RuntimeParams["standard_conforming_strings"] = "on"
	return cfg
}
