package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"keel/planner/pg"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxAttempts bounds the connection attempts on transient errors; all of them
// together stay within the connect timeout.
const maxAttempts = 3

// connect opens a connection, retrying briefly on errors that may pass (the
// server starting up, too many connections, a refused or reset connection),
// all within the URL's connect timeout.
func connect(ctx context.Context, db *pg.DB) (*pgx.Conn, int, error) {
	cctx, cancel := context.WithTimeout(ctx, db.ConnectTimeout())
	defer cancel()
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		conn, err := db.Connect(cctx)
		if err == nil {
			return conn, attempt, nil
		}
		if attempt == maxAttempts || !transient(err) {
			return nil, attempt, err
		}
		select {
		case <-time.After(delay):
		case <-cctx.Done():
			return nil, attempt, err
		}
		delay *= 2
	}
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

func attemptsText(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// connectionFailed explains a failed connection and what to do about it.
// The message never holds the password: planner.DB's errors do not.
func connectionFailed(db *pg.DB, attempts int, err error) Check {
	t := db.Target()
	c := Check{Name: "connection", Status: Fail, Message: fmt.Sprintf("%s (%s)", oneLine(err.Error()), attemptsText(attempts))}
	var pe *pgconn.PgError
	var ne net.Error
	switch {
	case errors.As(err, &pe) && pe.Code == "3D000":
		c.Fix = fmt.Sprintf("database %q does not exist on %s:%d: create it (CREATE DATABASE %s) or correct the database name in the URL",
			t.Database, t.Host, t.Port, pgx.Identifier{t.Database}.Sanitize())
	case errors.As(err, &pe) && pe.Code == "28P01":
		c.Fix = fmt.Sprintf("the server rejected the password for user %q: correct it in the URL (the profile's url_env variable or --url); it is not shown here", t.User)
	case errors.As(err, &pe) && pe.Code == "28000":
		c.Fix = fmt.Sprintf("the server does not let user %q in from here: check pg_hba.conf for this host, user and database, and that the role has LOGIN", t.User)
	case errors.As(err, &pe) && (pe.Code == "53300" || pe.Code == "53400"):
		c.Fix = "the server has no free connection slot: close idle sessions or raise max_connections, then try again"
	case errors.As(err, &pe) && pe.Code == "57P03":
		c.Fix = "the server is starting up or shutting down: try again in a moment"
	case errors.As(err, &pe):
		c.Fix = "the server refused the connection: see its message"
	case errors.Is(err, syscall.ECONNREFUSED):
		c.Fix = fmt.Sprintf("nothing accepts connections on %s:%d: start PostgreSQL there, or correct the host and port in the URL", t.Host, t.Port)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		c.Fix = fmt.Sprintf("no answer from %s:%d within the connect timeout (%s): check the host, port and firewalls; on a slow network raise connect_timeout in the URL",
			t.Host, t.Port, db.ConnectTimeout())
	default:
		c.Fix = fmt.Sprintf("check the host (%s), port (%d), database and user in the URL, and that the server runs", t.Host, t.Port)
	}
	return c
}

// isLocal reports whether host is this machine: a socket directory, localhost
// or a loopback address, where an unencrypted session is the norm.
func isLocal(host string) bool {
	if strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tlsCheck decides whether the session meets the TLS requirement: s is what
// pg_stat_ssl says of it, verify how the client checks the certificate.
func tlsCheck(req TLSRequirement, s tlsState, local bool, verify pg.ServerVerification) Check {
	c := Check{Name: "tls", Status: OK}
	if !s.encrypted {
		c.Message = "the session is not encrypted"
		switch {
		case req == TLSRequire || req == TLSVerifyFull:
			c.Status = Fail
			c.Message += fmt.Sprintf(", but TLS is required (%s)", req)
			c.Fix = "turn on ssl on the server and add sslmode=" + string(req) + " to the URL"
		case local:
			c.Message += " (a local connection)"
		default:
			c.Status = Warn
			c.Fix = "turn on ssl on the server and add sslmode=require (better: verify-full) to the URL"
		}
		return c
	}
	c.Message = fmt.Sprintf("the session is encrypted (%s, %s); ", s.protocol, s.cipher)
	switch verify {
	case pg.VerifyFull:
		c.Message += "the server's certificate and host name are verified (sslmode=verify-full)"
	case pg.VerifyCA:
		c.Message += "the server's certificate is verified, its host name is not (sslmode=verify-ca)"
	default:
		c.Message += "the server's certificate is not verified"
	}
	if req == TLSVerifyFull && verify != pg.VerifyFull {
		c.Status = Fail
		c.Message += ", but verify-full is required"
		c.Fix = "add sslmode=verify-full and sslrootcert=PATH (the server's CA) to the URL"
	}
	return c
}

// serverError formats a server error with its SQLSTATE.
func serverError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	return err
}

// oneLine joins the lines of a message, dropping repeats: pgx reports each
// attempt (with TLS, then without) on a line of its own.
func oneLine(msg string) string {
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}
