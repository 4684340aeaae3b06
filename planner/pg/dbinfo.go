package pg

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ServerVerification says how much of the server's TLS certificate the
// client checks, as the URL's sslmode sets it.
type ServerVerification string

// The server verifications.
const (
	// VerifyNone checks nothing (sslmode disable, allow, prefer, require).
	VerifyNone ServerVerification = "none"
	// VerifyCA checks that a trusted authority signed the certificate (verify-ca).
	VerifyCA ServerVerification = "verify-ca"
	// VerifyFull also checks that the certificate names the host (verify-full).
	VerifyFull ServerVerification = "verify-full"
)

// ConnectTimeout is how long one attempt to connect may take: the URL's
// connect_timeout, else 10 seconds.
func (d *DB) ConnectTimeout() time.Duration { return d.cfg.ConnectTimeout }

// ServerVerification reports how the connection checks the server's certificate.
func (d *DB) ServerVerification() ServerVerification {
	t := d.cfg.TLSConfig
	switch {
	case t == nil:
		return VerifyNone
	case !t.InsecureSkipVerify:
		return VerifyFull
	case t.VerifyPeerCertificate != nil:
		return VerifyCA
	}
	return VerifyNone
}

// serverConnectError is the server's answer to a connection attempt, shown
// without pgx's echo of the connection string; errors.As still finds the
// *pgconn.PgError and its SQLSTATE.
type serverConnectError struct{ pe *pgconn.PgError }

func (e *serverConnectError) Error() string {
	return fmt.Sprintf("%s (SQLSTATE %s)", e.pe.Message, e.pe.Code)
}

func (e *serverConnectError) Unwrap() error { return e.pe }

// distinctErrors drops repeated errors from a joined error: pgx reports each
// attempt (with TLS, then without) and they often fail alike.
func distinctErrors(err error) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	var (
		kept []error
		seen = make(map[string]bool)
	)
	for _, e := range j.Unwrap() {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			kept = append(kept, e)
		}
	}
	if len(kept) == 1 {
		return kept[0]
	}
	return errors.Join(kept...)
}
