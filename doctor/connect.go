package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"

	"keel/planner/pg"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func attemptsText(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// ConnectionFailedTo is ConnectionFailed for a database other than the
// target, in the same words: name is its check's name ("connection to the
// dev_url server"), url where its connection string is set ("dev_url").
func ConnectionFailedTo(name, url string, db *pg.DB, err error) *Report {
	r := &Report{Target: db.Target()}
	c := connectionCheck(db, err, url)
	c.Name = name
	r.add(c)
	return r
}

// connectionFailed explains a failed connection to the target and what to
// do about it.
func connectionFailed(db *pg.DB, err error) Check { return connectionCheck(db, err, "") }

// connectionCheck explains a failed connection and what to do about it;
// url names where its connection string is set ("" for the target's URL).
// The message never holds the password: pg's errors do not.
func connectionCheck(db *pg.DB, err error, url string) Check {
	t := db.Target()
	attempts := 1
	var ce *pg.ConnectError
	if errors.As(err, &ce) {
		attempts, err = ce.Attempts, ce.Err
	}
	c := Check{Name: "connection", Status: Fail, Message: fmt.Sprintf("connecting to %s: %s (%s)", db, oneLine(err.Error()), attemptsText(attempts))}
	// Where to correct it: the URL, and what filled in what it leaves out.
	where := url
	if where == "" {
		where = "the URL"
	}
	if filled := db.FilledFrom(); len(filled) > 0 {
		where += " (or " + strings.Join(filled, ", ") + ", which fill in what it leaves out)"
	}
	var pe *pgconn.PgError
	var ne net.Error
	var de *net.DNSError
	switch {
	case errors.As(err, &pe) && pe.Code == "3D000":
		c.Fix = fmt.Sprintf("database %q does not exist on %s:%d: create it (CREATE DATABASE %s) or correct the database name in %s",
			t.Database, t.Host, t.Port, pgx.Identifier{t.Database}.Sanitize(), where)
	case errors.As(err, &pe) && pe.Code == "28P01":
		c.Fix = passwordFix(db, url)
	case errors.As(err, &pe) && pe.Code == "28000":
		c.Fix = fmt.Sprintf("the server does not let user %q in from here: check pg_hba.conf for this host, user and database, and that the role has LOGIN", t.User)
	case errors.As(err, &pe) && (pe.Code == "53300" || pe.Code == "53400"):
		c.Fix = "the server has no free connection slot: close idle sessions or raise max_connections, then try again"
	case errors.As(err, &pe) && pe.Code == "57P03":
		c.Fix = "the server is starting up or shutting down: try again in a moment"
	case errors.As(err, &pe):
		c.Fix = "the server refused the connection: see its message"
	case errors.As(err, &de) && de.IsNotFound:
		c.Fix = fmt.Sprintf("no host is named %s: correct the host in %s", t.Host, where)
	case errors.Is(err, syscall.ECONNREFUSED):
		c.Fix = fmt.Sprintf("nothing accepts connections on %s:%d: start PostgreSQL there, or correct the host and port in %s", t.Host, t.Port, where)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		c.Fix = fmt.Sprintf("no answer from %s:%d within the connect timeout (%s): check the host, port and firewalls; on a slow network raise connect_timeout in the URL",
			t.Host, t.Port, db.ConnectTimeout())
	default:
		c.Fix = fmt.Sprintf("check the host (%s), port (%d), database and user in %s, and that the server runs", t.Host, t.Port, where)
	}
	return c
}

// passwordFix says what to do about a password the server rejected, naming
// where it came from (never the password).
func passwordFix(db *pg.DB, url string) string {
	user := db.Target().User
	if url == "" {
		url = "the URL (the profile's url_env variable or --url)"
	}
	switch from := db.PasswordFrom(); from {
	case "":
		return fmt.Sprintf("the server wants a password for user %q and none was given: put it in %s (percent-encoded), in PGPASSWORD, "+
			"or in the password file (~/.pgpass, or the file PGPASSFILE names) as HOST:PORT:DATABASE:USER:PASSWORD", user, url)
	case "the URL":
		return fmt.Sprintf("the server rejected the password for user %q: correct it in %s; it is not shown here", user, url)
	default:
		return fmt.Sprintf("the server rejected the password for user %q, taken from %s as the URL has none: correct it there; it is not shown here", user, from)
	}
}

// tlsCheck decides whether the session meets the TLS requirement: s is what
// pg_stat_ssl says of it, verify how the client checks the certificate.
func tlsCheck(req string, s tlsState, local bool, verify pg.ServerVerification) Check {
	c := Check{Name: "tls", Status: OK}
	rank, _ := pg.SSLModeRank(req)
	required, _ := pg.SSLModeRank("require")
	if !s.encrypted {
		c.Message = "the session is not encrypted"
		switch {
		case rank >= required:
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
	if req == "verify-full" && verify != pg.VerifyFull {
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
