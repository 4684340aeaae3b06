package pgtest

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bouncer is a PgBouncer that a test started in front of the test server.
type Bouncer struct {
	// Transaction is the URL of the test's database through a pool in
	// transaction mode (PgBouncer's pool_mode = transaction).
	Transaction string
	// Session is the URL of the same database through a pool in session mode.
	Session string
	// SessionOfOne is the URL of the same database through a pool in session
	// mode with a single server connection (pool_size = 1).
	SessionOfOne string
	// Port is the port PgBouncer listens on, on 127.0.0.1.
	Port int
}

// StartPgBouncer starts a PgBouncer on a spare port of 127.0.0.1 in front of
// the database at dbURL (on the test server), with three pools for it: one
// in transaction mode (the database's own name), one in session mode (the
// name with "_session" appended) and one in session mode with one server
// connection ("_one"); any other database name is passed through in session
// mode. It stops PgBouncer when the test ends. The test is
// skipped, saying why, when pgbouncer is not installed; as root, PgBouncer
// (which refuses to run as root) runs as the postgres OS user.
func StartPgBouncer(t testing.TB, dbURL string) *Bouncer {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/pgbouncer"); serr != nil {
			t.Skip("pgbouncer is not installed, so keel cannot be tested behind a connection pooler: " +
				"install it (Debian: apt-get install pgbouncer; scripts/test.sh does when run as root)")
		}
		bin = "/usr/sbin/pgbouncer"
	}
	u, err := url.Parse(dbURL)
	if err != nil || u.Scheme == "" {
		t.Fatalf("the test database URL is not a postgres:// URL")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = u.Query().Get("host")
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "5432"
	}
	dbname := strings.TrimPrefix(u.Path, "/")
	// auth_type = trust still wants the user listed in auth_file.
	role := u.User.Username()
	if role == "" {
		if me, err := user.Current(); err == nil {
			role = me.Username
		}
	}
	server := fmt.Sprintf("host=%s port=%s", host, port)
	if pw, ok := u.User.Password(); ok {
		server += " password=" + pw
	}

	var runAs *user.User
	if os.Geteuid() == 0 {
		if runAs, err = user.Lookup("postgres"); err != nil {
			t.Skip("pgbouncer refuses to run as root and there is no postgres OS user to run it as: " + err.Error())
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			t.Skip("pgbouncer refuses to run as root and runuser, to run it as postgres, is missing")
		}
	}
	dir, err := os.MkdirTemp("", "keel-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if runAs != nil {
		uid, _ := strconv.Atoi(runAs.Uid)
		gid, _ := strconv.Atoi(runAs.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}

	for attempt := 1; ; attempt++ {
		b, err := startBouncer(t, bin, dir, runAs, server, dbname, role)
		if err == nil {
			b.Transaction = bouncerURL(u, b.Port, dbname)
			b.Session = bouncerURL(u, b.Port, dbname+"_session")
			b.SessionOfOne = bouncerURL(u, b.Port, dbname+"_one")
			return b
		}
		if attempt == 3 {
			t.Fatalf("starting pgbouncer: %v", err)
		}
	}
}

// startBouncer writes the configuration for a spare port and starts
// pgbouncer, waiting until it accepts connections.
func startBouncer(t testing.TB, bin, dir string, runAs *user.User, server, dbname, role string) (*Bouncer, error) {
	port, err := sparePort()
	if err != nil {
		return nil, err
	}
	userlist := filepath.Join(dir, "userlist.txt")
	ini := filepath.Join(dir, "pgbouncer.ini")
	pidfile := filepath.Join(dir, fmt.Sprintf("pgbouncer-%d.pid", port))
	conf := fmt.Sprintf(`[databases]
%[1]s = %[2]s dbname=%[1]s
%[1]s_session = %[2]s dbname=%[1]s pool_mode=session
%[1]s_one = %[2]s dbname=%[1]s pool_mode=session pool_size=1
* = %[2]s pool_mode=session

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %[3]d
unix_socket_dir =
auth_type = trust
auth_file = %[4]s
pool_mode = transaction
logfile =
pidfile = %[5]s
`, dbname, server, port, userlist, pidfile)
	for name, body := range map[string]string{ini: conf, userlist: `"` + strings.ReplaceAll(role, `"`, `""`) + `" ""` + "\n"} {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	var cmd *exec.Cmd
	if runAs != nil {
		cmd = exec.Command("runuser", "-u", runAs.Username, "--", bin, ini)
	} else {
		cmd = exec.Command(bin, ini)
	}
	cmd.Dir = dir
	// Its own process group: stopping it stops pgbouncer under runuser too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		// pgbouncer itself, by the pid it wrote: runuser, sent the signal,
		// would wait 2 s before it ends its child.
		if b, err := os.ReadFile(pidfile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		} else {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	// Not a measurement: how long to wait for it to listen before giving up.
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			return nil, fmt.Errorf("pgbouncer exited: %s", out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("pgbouncer did not listen on 127.0.0.1:%d: %s", port, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("pgbouncer's log:\n%s", out.String())
		}
	})
	return &Bouncer{Port: port}, nil
}

// bouncerURL is base with PgBouncer's address and the given database.
func bouncerURL(base *url.URL, port int, dbname string) string {
	u := *base
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	q := u.Query()
	q.Del("host")
	q.Del("port")
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	u.Path = "/" + dbname
	return u.String()
}

// sparePort returns a TCP port of 127.0.0.1 that nothing listened on a
// moment ago.
func sparePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer is a bytes.Buffer that a process's output and a test can use
// at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
