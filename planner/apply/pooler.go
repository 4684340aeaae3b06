package apply

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"keel/planner/pg"
	"keel/planner/plan"

	"github.com/jackc/pgx/v5"
)

// PoolerError says the connection reaches PostgreSQL through a pooler in
// transaction or statement mode (PgBouncer's pool_mode = transaction or
// statement), which hands the server session to other clients between
// transactions. keel's apply lock is a session advisory lock: through such a
// pooler it would stay behind on a pooled server connection, and it would no
// longer keep two applies apart.
type PoolerError struct {
	// Target is the database as keel was told to reach it.
	Target plan.Target
	// Evidence says what gave the pooler away.
	Evidence string
}

func (e *PoolerError) Error() string {
	return fmt.Sprintf("%s is reached through a connection pooler in transaction or statement mode (%s); "+
		"keel holds a session advisory lock while it applies, which such a pooler does not keep on one server connection. "+
		"Connect keel to the PostgreSQL server directly (its own host and port), or through a session-mode pool "+
		"(PgBouncer: pool_mode = session for that database), and run again; nothing was locked or executed",
		e.Target, e.Evidence)
}

// probeSetting is the custom setting the probe sets in keel's session and
// looks for in the next statement (and, from a second connection, in its).
const probeSetting = "keel.session_probe"

// probeRounds is how often the second connection and keel's connection each
// run a statement, in turns, when the server does not see keel's own TCP
// connection. On a quiet pool the first round is enough (see DetectPooler);
// the others are for a pool that other clients are using at the same moment.
const probeRounds = 3

// probeWait bounds how long the second connection may take to connect and
// run its statements. Behind a session-mode pool whose every server
// connection is taken (one of them by keel's connection), it would otherwise
// wait for the pooler's own timeout (PgBouncer's query_wait_timeout: 2 min).
const probeWait = 5 * time.Second

// sessionFacts are what one probe statement returns.
type sessionFacts struct {
	pid int32
	// token reports whether the probe setting held this probe's token.
	token bool
	// The TCP endpoints the server sees, empty over a unix socket.
	clientAddr, serverAddr *string
	clientPort, serverPort *int32
}

// DetectPooler finds out whether conn, a connection to target, keeps one
// server session for its whole life (a direct connection, or a session-mode
// pool), as keel's apply lock needs. It returns a description of what it
// found, or a *PoolerError when a transaction or statement pooler is in the
// way, or another error when the probe itself failed. It takes no lock and
// changes nothing but a custom setting (keel.session_probe) of the sessions
// it runs in; all its statements use the simple protocol, so that they run
// through any pooler without prepared statements.
//
// The checks, in order:
//
//  1. Same TCP connection (one round trip; decides a direct TCP connection,
//     with or without TLS): the addresses and ports at both ends that the
//     server sees (inet_client_addr/port, inet_server_addr/port) are those of
//     keel's own socket. A pooler's server connection is another TCP
//     connection, which cannot have the same four endpoints at the same
//     time. It says nothing over a unix socket (the server sees no
//     addresses), through NAT or a TCP proxy (the addresses differ although
//     the session is kept): those go on to the checks below. Only a
//     transparent proxy that forges the client's address and port could
//     fool it, and no pooler does that.
//  2. Same backend from two client connections: a second connection runs a
//     statement right after keel's connection ran one. With PgBouncer's
//     default LIFO reuse of server connections (server_round_robin = 0),
//     a transaction pooler hands it the server connection keel's connection
//     just released: the same pg_backend_pid, or the probe setting keel's
//     session just made, seen from another client connection. Two client
//     connections of a direct connection or a session pool are two live
//     backends at once, so this never happens there.
//  3. Backend and setting kept across statements: keel's connection runs
//     another statement after the second connection's. A transaction pooler
//     usually gives it another server connection now (the one the second
//     connection just released is on top): another pid. A pooler that resets
//     the server session between transactions (server_reset_query_always)
//     keeps the pid but loses the probe setting, and with it any advisory
//     lock: the setting is gone.
//
// Checks 2 and 3 run in turns up to probeRounds times; every statement must
// find keel's connection on one backend with its setting, and the second
// connection on another one without it. Each of them, when it fires, is
// proof: it cannot happen on a direct connection or through a session pool.
// Through PgBouncer 1.18 on a quiet pool, check 2 fired every time, also in
// statement mode, with server_round_robin = 1 and with
// server_reset_query_always = 1. When other clients of the pool take and
// release server connections in between (a busy pool, or several keel
// applies at once), one of keel's statements lands elsewhere (check 3), or
// another client has overwritten the setting. What they cannot catch: a transaction
// pooler that, by chance, hands keel's connection the same server connection
// every time and the second connection another one, in every round. That
// takes other clients of the same pool releasing and taking server
// connections in exactly the wrong order between keel's statements, in
// every round (with one round, 1 to 5% of probes run ten or thirty at a
// time through PgBouncer 1.18 were missed; with two or three, none of 7,800).
// Releasing the apply lock checks that pg_advisory_unlock succeeded, so even
// then a lock left behind does not go unnoticed.
//
// Cost: over TCP to the server itself, check 1 alone, one round trip. Over a
// unix socket, NAT or a proxy, a second connection and seven statements.
// Behind a session pool with no server connection to spare for the second
// connection, the probe gives up after probeWait with an error saying so.
func DetectPooler(ctx context.Context, target *pg.DB, conn *pgx.Conn) (string, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("probing for a connection pooler: %w", err)
	}
	token := hex.EncodeToString(raw[:])
	pooled := func(format string, args ...any) error {
		return &PoolerError{Target: target.Target(), Evidence: fmt.Sprintf(format, args...)}
	}

	// Check 1, and the probe setting for checks 2 and 3.
	var first sessionFacts
	err := conn.QueryRow(ctx, `
SELECT pg_backend_pid(), set_config('`+probeSetting+`', $1, false) = $1,
       host(inet_client_addr()), inet_client_port(), host(inet_server_addr()), inet_server_port()`,
		pgx.QueryExecModeSimpleProtocol, token).Scan(&first.pid, &first.token,
		&first.clientAddr, &first.clientPort, &first.serverAddr, &first.serverPort)
	if err != nil {
		return "", fmt.Errorf("probing %s for a connection pooler: %w", target, pg.ServerError(err))
	}
	if local, remote, ok := sameTCP(conn.PgConn().Conn(), first); ok {
		return fmt.Sprintf("direct connection: the server sees keel's own TCP connection (%s to %s)", local, remote), nil
	}

	// Checks 2 and 3, in turns with a second connection.
	octx, cancel := context.WithTimeout(ctx, probeWait)
	defer cancel()
	otherFailed := func(err error) error {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("probing %s for a connection pooler: a second connection got no server session within %s while keel's connection held one. "+
				"Through a session-mode pool, that pool has no server connection to spare: give it one more for keel (PgBouncer: pool_size for that database), "+
				"or connect keel to the PostgreSQL server directly", target, probeWait)
		}
		return fmt.Errorf("probing %s for a connection pooler, from a second connection: %w", target, err)
	}
	other, err := target.ConnectAs(octx, "keel pooler probe")
	if err != nil {
		return "", otherFailed(err)
	}
	defer other.Close(context.WithoutCancel(ctx))
	var otherPid int32
	for round := 1; round <= probeRounds; round++ {
		b, err := probeSession(octx, other, token)
		if err != nil {
			return "", otherFailed(err)
		}
		switch {
		case b.pid == first.pid:
			return "", pooled("a second client connection got the server process keel's connection had just used, pid %d", b.pid)
		case b.token:
			return "", pooled("a second client connection saw a setting keel's connection had just made in its own session")
		case round > 1 && b.pid != otherPid:
			return "", pooled("the server process behind one client connection changed between two statements, pid %d then %d", otherPid, b.pid)
		}
		otherPid = b.pid
		a, err := probeSession(ctx, conn, token)
		if err != nil {
			return "", fmt.Errorf("probing %s for a connection pooler: %w", target, err)
		}
		switch {
		case a.pid != first.pid:
			return "", pooled("the server process behind keel's connection changed between two statements, pid %d then %d", first.pid, a.pid)
		case !a.token:
			return "", pooled("a setting keel's connection made in one statement was gone in the next (pid %d): the server session was reset between them", a.pid)
		}
	}
	return fmt.Sprintf("one server session throughout (pid %d kept its setting over %d statements, while a second connection got pid %d): "+
		"a direct connection or a session-mode pool", first.pid, probeRounds+1, otherPid), nil
}

// probeSession returns conn's backend pid and whether the probe setting
// holds token in its session.
func probeSession(ctx context.Context, conn *pgx.Conn, token string) (sessionFacts, error) {
	var f sessionFacts
	err := conn.QueryRow(ctx, `SELECT pg_backend_pid(), current_setting('`+probeSetting+`', true) IS NOT DISTINCT FROM $1`,
		pgx.QueryExecModeSimpleProtocol, token).Scan(&f.pid, &f.token)
	if err != nil {
		return f, pg.ServerError(err)
	}
	return f, nil
}

// sameTCP reports whether the server's ends of its connection (as it told
// in f) are those of c, keel's socket: local is keel's end, remote the
// server's.
func sameTCP(c net.Conn, f sessionFacts) (local, remote netip.AddrPort, ok bool) {
	if c == nil || f.clientAddr == nil || f.serverAddr == nil || f.clientPort == nil || f.serverPort == nil {
		return local, remote, false
	}
	l, lok := c.LocalAddr().(*net.TCPAddr)
	r, rok := c.RemoteAddr().(*net.TCPAddr)
	if !lok || !rok {
		return local, remote, false
	}
	local, remote = tcpAddrPort(l), tcpAddrPort(r)
	client, err1 := netip.ParseAddr(*f.clientAddr)
	server, err2 := netip.ParseAddr(*f.serverAddr)
	if err1 != nil || err2 != nil {
		return local, remote, false
	}
	ok = netip.AddrPortFrom(client.Unmap().WithZone(""), uint16(*f.clientPort)) == local &&
		netip.AddrPortFrom(server.Unmap().WithZone(""), uint16(*f.serverPort)) == remote
	return local, remote, ok
}

// tcpAddrPort is a TCP address without IPv4-in-IPv6 mapping or zone.
func tcpAddrPort(a *net.TCPAddr) netip.AddrPort {
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}
