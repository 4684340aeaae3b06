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
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"keel/internal/connstr"
	"keel/planner/plan"

	"github.com/jackc/pgservicefile"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// DB is a parsed connection string. Its String never shows the password.
type DB struct {
	cfg     *pgx.ConnConfig
	sslmode string
	origin  origin
	// tlsFiles are the sslrootcert, sslcert and sslkey the connection
	// string, its service or the environment names, for ChildURL.
	tlsFiles map[string]string
	// engineQueries turns off keel's faster inspection queries (fastinspect.go).
	engineQueries bool
	// tableBatch, when not 0, is how many tables an inspection reads at a
	// time, whatever the schema's size (see WithTableBatches).
	tableBatch int
}

// origin says where the settings a connection string leaves out came from,
// as libpq fills them in: a service file's section (service=, PGSERVICE),
// then the environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD,
// PGSSLMODE, ...), then defaults; a password last from the password file.
type origin struct {
	sslmode  string   // "" when the connection string gives it
	password string   // "" when there is none
	filled   []string // what filled in settings the string left out
}

// ParseURL parses a PostgreSQL URL or keyword/value connection string, as
// pgx and libpq read it: what it leaves out comes from pg_service.conf
// (service=, PGSERVICE), the environment (PGHOST, PGPORT, PGDATABASE,
// PGUSER, PGPASSWORD, PGSSLMODE, ...) and the password file (PGPASSFILE,
// ~/.pgpass). An empty string is the environment alone, when it names a
// database (PGHOST, PGDATABASE or PGSERVICE). It refuses a URL they would
// read otherwise than its author meant (an unencoded '@' in the password:
// see connstr.Check). The error never repeats the input unredacted, nor a
// host, port, database or user that a password may have landed in.
func ParseURL(raw string) (*DB, error) {
	if strings.TrimSpace(raw) == "" && !EnvironmentNamesDatabase() {
		return nil, errors.New("no database URL: set it in the profile's url_env variable or pass --url " +
			"(or set the libpq variables PGHOST, PGDATABASE, ... or PGSERVICE)")
	}
	if err := connstr.Check(raw); err != nil {
		return nil, err
	}
	svc, err := readService(raw)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		shown := "(empty)"
		if raw != "" {
			shown = connstr.Redact(raw)
		}
		msg := fmt.Sprintf("cannot parse the database URL %s: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=... "+
			"with special characters in the password percent-encoded ('%%' as %%25, a space as %%20), "+
			"or keyword/value pairs (host=HOST dbname=DATABASE ...)", shown)
		if env := setEnvironment(connstr.Keys(raw)); len(env) > 0 {
			msg += "; " + strings.Join(env, ", ") + " fill in what it leaves out: check them too"
		}
		return nil, errors.New(msg)
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
	o := originOf(raw, cfg, svc)
	return &DB{cfg: cfg, sslmode: sslMode(raw, cfg, svc), origin: o, tlsFiles: tlsFiles(raw, svc)}, nil
}

// tlsFiles reads the certificate files a connection names, as libpq
// finds them: the string's setting, else the service's, else PGSSL*.
func tlsFiles(raw string, svc *service) map[string]string {
	files := make(map[string]string)
	for key, env := range map[string]string{"sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY"} {
		v := connstr.Setting(raw, key)
		if v == "" && svc != nil {
			v = svc.settings[key]
		}
		if v == "" {
			v = os.Getenv(env)
		}
		if v != "" {
			files[key] = v
		}
	}
	return files
}

// ChildURL returns a postgres:// URL that another program's libpq-style
// client (the Atlas CLI's) reads as this connection: host, port, user,
// password, database, the sslmode it uses and its certificate files. It
// holds the password: hand it to a child process through its environment
// only, never on a command line, in a file or in output.
func (d *DB) ChildURL() string {
	u := url.URL{Scheme: "postgres", Path: "/" + d.cfg.Database}
	q := url.Values{}
	if strings.HasPrefix(d.cfg.Host, "/") {
		q.Set("host", d.cfg.Host)
		q.Set("port", strconv.Itoa(int(d.cfg.Port)))
	} else {
		u.Host = net.JoinHostPort(d.cfg.Host, strconv.Itoa(int(d.cfg.Port)))
	}
	if d.cfg.Password != "" {
		u.User = url.UserPassword(d.cfg.User, d.cfg.Password)
	} else {
		u.User = url.User(d.cfg.User)
	}
	q.Set("sslmode", d.sslmode)
	for k, v := range d.tlsFiles {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// ChildEnv returns the environment for a libpq program (pg_dump) to
// connect as this connection: this process's environment without its PG*
// variables, then PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,
// PGSSLMODE and the certificate files. The password stays off the
// program's command line, where other users of the machine could read it.
func (d *DB) ChildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	env = append(env, "PGHOST="+d.cfg.Host, "PGPORT="+strconv.Itoa(int(d.cfg.Port)), "PGUSER="+d.cfg.User,
		"PGDATABASE="+d.cfg.Database, "PGSSLMODE="+d.sslmode)
	if d.cfg.Password != "" {
		env = append(env, "PGPASSWORD="+d.cfg.Password)
	}
	for k, v := range d.tlsFiles {
		env = append(env, "PG"+strings.ToUpper(k)+"="+v)
	}
	return env
}

// Password returns the connection's password ("" when it has none), so
// that text another program prints can be scrubbed of it.
func (d *DB) Password() string { return d.cfg.Password }

// libpqEnvironment are the environment variables that fill in a connection
// string as libpq's do, with the keyword each stands for.
var libpqEnvironment = []struct{ env, key string }{
	{"PGSERVICE", "service"}, {"PGHOST", "host"}, {"PGPORT", "port"}, {"PGDATABASE", "dbname"},
	{"PGUSER", "user"}, {"PGPASSWORD", "password"}, {"PGSSLMODE", "sslmode"}, {"PGSSLROOTCERT", "sslrootcert"},
	{"PGSSLCERT", "sslcert"}, {"PGSSLKEY", "sslkey"}, {"PGCONNECT_TIMEOUT", "connect_timeout"}, {"PGPASSFILE", "passfile"},
	{"PGSERVICEFILE", "servicefile"}, {"PGOPTIONS", "options"}, {"PGTARGETSESSIONATTRS", "target_session_attrs"},
}

// EnvironmentNamesDatabase reports whether the libpq environment says which
// database to connect to without a connection string: PGHOST, PGDATABASE
// or PGSERVICE is set.
func EnvironmentNamesDatabase() bool {
	return os.Getenv("PGHOST") != "" || os.Getenv("PGDATABASE") != "" || os.Getenv("PGSERVICE") != ""
}

// setEnvironment names the libpq variables that are set and fill in a
// keyword the connection string (whose keywords are keys) leaves out.
func setEnvironment(keys map[string]bool) []string {
	var names []string
	for _, v := range libpqEnvironment {
		if os.Getenv(v.env) != "" && !keys[v.key] {
			names = append(names, v.env)
		}
	}
	return names
}

// service is the pg_service.conf section a connection string uses.
type service struct {
	name, file string
	settings   map[string]string
}

func (s *service) String() string { return fmt.Sprintf("service %q in %s", s.name, s.file) }

// readService reads the service raw names (its service=, else $PGSERVICE)
// from raw's servicefile=, else $PGSERVICEFILE, else ~/.pg_service.conf, as
// pgx does (pgx does not read the system-wide file in PGSYSCONFDIR). It
// returns nil when there is none, and an error saying what to do when the
// file or its section is missing.
func readService(raw string) (*service, error) {
	name, from := connstr.Setting(raw, "service"), "service="
	if name == "" && !connstr.Keys(raw)["service"] {
		name, from = os.Getenv("PGSERVICE"), "PGSERVICE"
	}
	if name == "" {
		return nil, nil
	}
	file := connstr.Setting(raw, "servicefile")
	if file == "" {
		file = os.Getenv("PGSERVICEFILE")
	}
	if file == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("service %q (%s): no PGSERVICEFILE and no home directory for ~/.pg_service.conf: %w", name, from, err)
		}
		file = filepath.Join(home, ".pg_service.conf")
	}
	sf, err := pgservicefile.ReadServicefile(file)
	if err != nil {
		return nil, fmt.Errorf("service %q (%s): cannot read the service file %s: %v: create it with a [%s] section, "+
			"or set PGSERVICEFILE to the file that has one", name, from, file, errText(err, file), name)
	}
	s, err := sf.GetService(name)
	if err != nil {
		return nil, fmt.Errorf("service %q (%s): %s has no [%s] section: add one, or set PGSERVICEFILE to the file that has it", name, from, file, name)
	}
	settings := make(map[string]string, len(s.Settings))
	for k, v := range s.Settings {
		if k == "database" {
			k = "dbname"
		}
		settings[k] = v
	}
	return &service{name: name, file: file, settings: settings}, nil
}

// errText is err's message without the path it repeats.
func errText(err error, path string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return strings.ReplaceAll(err.Error(), path, "the file")
}

// originOf says where the settings raw leaves out come from.
func originOf(raw string, cfg *pgx.ConnConfig, svc *service) origin {
	keys := connstr.Keys(raw)
	var o origin
	if svc != nil {
		for k := range svc.settings {
			if !keys[k] {
				o.filled = append(o.filled, svc.String())
				break
			}
		}
	}
	fromService := func(k string) bool { return svc != nil && svc.settings[k] != "" }
	for _, v := range libpqEnvironment {
		switch v.key {
		case "host", "port", "dbname", "user", "password", "sslmode":
			if os.Getenv(v.env) != "" && !keys[v.key] && !fromService(v.key) {
				o.filled = append(o.filled, v.env)
			}
		}
	}
	switch {
	case keys["sslmode"]:
	case fromService("sslmode"):
		o.sslmode = svc.String()
	case os.Getenv("PGSSLMODE") != "":
		o.sslmode = "PGSSLMODE"
	default:
		o.sslmode = "libpq's default"
	}
	switch {
	case cfg.Password == "":
	case keys["password"]:
		o.password = "the URL"
	case fromService("password"):
		o.password = svc.String()
	case os.Getenv("PGPASSWORD") != "":
		o.password = "PGPASSWORD"
	default:
		o.password = passFile(raw)
	}
	return o
}

// passFile is the password file pgx reads: raw's passfile=, else
// $PGPASSFILE, else ~/.pgpass.
func passFile(raw string) string {
	if f := connstr.Setting(raw, "passfile"); f != "" {
		return f
	}
	if f := os.Getenv("PGPASSFILE"); f != "" {
		return f
	}
	return "~/.pgpass"
}

// sslMode is the sslmode the connection uses. Over TCP it is read from what
// pgx will do (the TLS configurations it tries, in order), so that a mode
// from the service file or PGSSLMODE, sslrootcert=system (verify-full) and
// require with an sslrootcert (verify-ca, as libpq) count as they act. On a
// Unix socket, where libpq ignores it, it is the mode asked for: the
// string's, else the service's, else $PGSSLMODE, else "prefer".
func sslMode(raw string, cfg *pgx.ConnConfig, svc *service) string {
	if !strings.HasPrefix(cfg.Host, "/") {
		var plain, encrypted bool
		for _, f := range cfg.Fallbacks {
			if f.Host == cfg.Host && f.Port == cfg.Port {
				plain, encrypted = plain || f.TLSConfig == nil, encrypted || f.TLSConfig != nil
			}
		}
		t := cfg.TLSConfig
		switch {
		case t == nil && encrypted:
			return "allow"
		case t == nil:
			return "disable"
		case plain:
			return "prefer"
		case !t.InsecureSkipVerify:
			return "verify-full"
		case t.VerifyPeerCertificate != nil:
			return "verify-ca"
		}
		return "require"
	}
	if m := connstr.Setting(raw, "sslmode"); m != "" {
		return m
	}
	if svc != nil && svc.settings["sslmode"] != "" {
		return svc.settings["sslmode"]
	}
	if m := os.Getenv("PGSSLMODE"); m != "" {
		return m
	}
	return "prefer"
}

// SSLModeFrom says where the sslmode came from when the connection string
// does not give it: a service ("service \"x\" in FILE"), "PGSSLMODE" or
// "libpq's default"; "" when the string gives it.
func (d *DB) SSLModeFrom() string { return d.origin.sslmode }

// PasswordFrom says where the password came from: "the URL", a service,
// "PGPASSWORD" or the password file's path; "" when there is none.
func (d *DB) PasswordFrom() string { return d.origin.password }

// FilledFrom names what filled in the host, port, database, user, password
// or sslmode where the connection string leaves them out: a service, and
// libpq environment variables ("PGHOST", "PGUSER").
func (d *DB) FilledFrom() []string { return d.origin.filled }

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
	return &DB{cfg: cfg, sslmode: d.sslmode, origin: d.origin, tlsFiles: d.tlsFiles, engineQueries: d.engineQueries, tableBatch: d.tableBatch}
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

// WithTableBatches returns the same database, its schemas inspected n
// tables at a time whatever their size (keel does so from 1,500 tables on;
// tests compare small batches with the engine's own inspection).
func (d *DB) WithTableBatches(n int) *DB {
	c := *d
	c.tableBatch = n
	return &c
}

// TableBatches is the batch size WithTableBatches set, or 0.
func (d *DB) TableBatches() int { return d.tableBatch }

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
		inner := errors.Unwrap(ce)
		// A host that does not resolve is looked up once per attempt pgx
		// plans (with TLS, then without): "hostname resolving error: " and
		// the lookups joined. Each lookup error is shown once.
		if joined := errors.Unwrap(inner); joined != nil && strings.HasPrefix(inner.Error(), resolvingPrefix) {
			return fmt.Errorf("%s%w", resolvingPrefix, distinctErrors(joined))
		}
		return distinctErrors(inner)
	}
	return err
}

// resolvingPrefix starts pgx's error for hosts that could not be resolved.
const resolvingPrefix = "hostname resolving error: "

// sessionConfig is the configuration of a new connection. Its session reads
// string literals the way keel writes them: with standard_conforming_strings
// on, a backslash in '...' is an ordinary character, whatever the database
// or role sets.
func (d *DB) sessionConfig() *pgx.ConnConfig {
	cfg := d.cfg.Copy()
	cfg.RuntimeParams["standard_conforming_strings"] = "on"
	return cfg
}
