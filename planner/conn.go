package planner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Target names a database without its password: host, port, database, user.
type Target struct {
	Host     string `json:"host"`
	Port     uint16 `json:"port"`
	Database string `json:"database"`
	User     string `json:"user"`
}

func (t Target) String() string {
	return fmt.Sprintf("database %q on %s:%d as user %q", t.Database, t.Host, t.Port, t.User)
}

// DB is a parsed connection string. Its String never shows the password.
type DB struct {
	cfg     *pgx.ConnConfig
	sslmode string
	// engineQueries turns off keel's faster inspection queries (fastinspect.go).
	engineQueries bool
}

// ParseURL parses a PostgreSQL URL or keyword/value connection string. The
// error never repeats the input, which may hold a password.
func ParseURL(raw string) (*DB, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("no database URL: set it in the profile's environment variable or pass --url")
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("cannot parse the database URL %s: expected postgres://USER@HOST:PORT/DATABASE?sslmode=...", redactURL(raw))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	return &DB{cfg: cfg, sslmode: sslMode(raw)}, nil
}

var sslmodeKV = regexp.MustCompile(`(?:^|\s)sslmode\s*=\s*'?([a-z-]+)`)

// sslMode is the sslmode the connection string asks for, as libpq reads it:
// the string's, else $PGSSLMODE, else "prefer".
func sslMode(raw string) string {
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if m := u.Query().Get("sslmode"); m != "" {
			return m
		}
	} else if m := sslmodeKV.FindStringSubmatch(raw); m != nil {
		return m[1]
	}
	if m := os.Getenv("PGSSLMODE"); m != "" {
		return m
	}
	return "prefer"
}

// SSLMode is the sslmode the connection uses.
func (d *DB) SSLMode() string { return d.sslmode }

// redactURL returns the URL with any password replaced, or a placeholder
// when the string cannot be read as a URL at all.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "(not shown: it did not parse)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Target describes the database the string points at.
func (d *DB) Target() Target {
	return Target{Host: d.cfg.Host, Port: d.cfg.Port, Database: d.cfg.Database, User: d.cfg.User}
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

// Connect opens one connection.
func (d *DB) Connect(ctx context.Context) (*pgx.Conn, error) {
	return d.connectAs(ctx, "")
}

// connectAs opens one connection with the given application_name.
func (d *DB) connectAs(ctx context.Context, app string) (*pgx.Conn, error) {
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
