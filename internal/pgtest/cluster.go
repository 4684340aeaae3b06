package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Cluster is a PostgreSQL server of the test's own, made with the server
// binaries found on this machine, that asks for scram-sha-256 passwords on
// TCP connections (password_encryption = scram-sha-256, scram-sha-256 in
// pg_hba.conf for every host). Its superuser "postgres" connects through the
// unix socket without one (AdminURL).
type Cluster struct {
	// Host and Port are where it listens for TCP: 127.0.0.1 and a free port.
	Host string
	Port int
	// SocketDir is the directory of its unix socket.
	SocketDir string

	bin, data string
	// owner runs the server: "" for this process's user, else the OS user
	// (postgres) that runuser switches to, as initdb and postgres refuse root.
	owner string
}

// StartCluster makes and starts a throwaway cluster in a temporary directory
// (initdb, then pg_ctl start on 127.0.0.1 and a free port), and stops and
// removes it when the test ends. The server binaries are taken from
// $KEEL_PG_BINDIR, else initdb in $PATH, else the newest
// /usr/lib/postgresql/*/bin; without them the test is skipped, saying so.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bin, why := serverBinaries()
	if bin == "" {
		t.Skip(why)
	}
	c := &Cluster{Host: "127.0.0.1", bin: bin}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			t.Skip("running as root, and there is no OS user postgres to run initdb and the server as (they refuse root)")
		}
		c.owner = "postgres"
	}
	dir := c.tempDir(t)
	c.SocketDir, c.data = dir, filepath.Join(dir, "data")
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing the test cluster: %v", err)
		}
	})
	if out, err := c.run("initdb", "-D", c.data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("initdb of the test cluster in %s: %v\n%s", c.data, err, out)
	}
	hba := "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n"
	conf := fmt.Sprintf("\npassword_encryption = 'scram-sha-256'\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n", dir)
	if err := writeExisting(filepath.Join(c.data, "pg_hba.conf"), hba, false); err != nil {
		t.Fatal(err)
	}
	if err := writeExisting(filepath.Join(c.data, "postgresql.conf"), conf, true); err != nil {
		t.Fatal(err)
	}
	// The port is free when asked for, and may be taken before the server
	// binds it: try a few.
	var startErr error
	for attempt := 0; attempt < 3; attempt++ {
		if c.Port, startErr = freePort(); startErr != nil {
			continue
		}
		out, err := c.run("pg_ctl", "-D", c.data, "-l", filepath.Join(dir, "server.log"), "-o", "-p "+strconv.Itoa(c.Port), "-w", "-t", "60", "start")
		if err == nil {
			startErr = nil
			break
		}
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		startErr = fmt.Errorf("%v\n%s\n%s", err, out, log)
	}
	if startErr != nil {
		t.Fatalf("starting the test cluster: %v", startErr)
	}
	t.Cleanup(func() {
		if out, err := c.run("pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop"); err != nil {
			t.Errorf("stopping the test cluster: %v\n%s", err, out)
		}
	})
	return c
}

// AdminURL is a connection string for database db as the superuser
// postgres, through the unix socket (no password).
func (c *Cluster) AdminURL(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s", c.SocketDir, c.Port, db)
}

// CreateRole creates a login superuser role with the password, which the
// server keeps as a scram-sha-256 verifier.
func (c *Cluster) CreateRole(t testing.TB, name, password string) {
	t.Helper()
	Exec(t, c.AdminURL("postgres"), fmt.Sprintf("CREATE ROLE %s LOGIN SUPERUSER PASSWORD %s", quoteIdent(name), quoteLiteral(password)))
	if v := QueryValue[string](t, c.AdminURL("postgres"), "SELECT left(rolpassword, 13) FROM pg_authid WHERE rolname = $1", name); v != "SCRAM-SHA-256" {
		t.Fatalf("role %s's password is kept as %q..., not as a scram-sha-256 verifier", name, v)
	}
}

// CreateDatabase creates a database owned by owner.
func (c *Cluster) CreateDatabase(t testing.TB, name, owner string) {
	t.Helper()
	Exec(t, c.AdminURL("postgres"), fmt.Sprintf("CREATE DATABASE %s OWNER %s", quoteIdent(name), quoteIdent(owner)))
}

// HasExtension reports whether the server can install the extension.
func (c *Cluster) HasExtension(t testing.TB, name string) bool {
	t.Helper()
	return QueryValue[bool](t, c.AdminURL("postgres"), "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = $1)", name)
}

// serverBinaries returns the directory of initdb and pg_ctl, or "" and why
// there is none.
func serverBinaries() (dir, why string) {
	if d := os.Getenv("KEEL_PG_BINDIR"); d != "" {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			return d, ""
		}
		return "", fmt.Sprintf("KEEL_PG_BINDIR=%s holds no initdb and pg_ctl", d)
	}
	if p, err := exec.LookPath("initdb"); err == nil && isExecutable(filepath.Join(filepath.Dir(p), "pg_ctl")) {
		return filepath.Dir(p), ""
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool { return versionOf(found[i]) < versionOf(found[j]) })
	for i := len(found) - 1; i >= 0; i-- {
		if d := filepath.Dir(found[i]); isExecutable(filepath.Join(d, "pg_ctl")) {
			return d, ""
		}
	}
	return "", "no PostgreSQL server binaries to start a test cluster with: no initdb and pg_ctl in $KEEL_PG_BINDIR, " +
		"$PATH or /usr/lib/postgresql/*/bin (install the postgresql package, or set KEEL_PG_BINDIR)"
}

// versionOf is the major version in /usr/lib/postgresql/VERSION/bin/initdb.
func versionOf(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// tempDir makes the cluster's directory, writable by the server's OS user.
func (c *Cluster) tempDir(t testing.TB) string {
	t.Helper()
	bases := []string{os.TempDir()}
	if bases[0] != "/tmp" {
		bases = append(bases, "/tmp")
	}
	var problems []string
	for _, base := range bases {
		dir, err := os.MkdirTemp(base, "keel-pg-")
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if c.owner == "" {
			return dir
		}
		u, err := user.Lookup(c.owner)
		if err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			err = os.Chown(dir, uid, gid)
		}
		if err == nil {
			if out, werr := c.run("test", "-w", dir); werr != nil {
				err = fmt.Errorf("%s cannot write it (%v %s)", c.owner, werr, out)
			}
		}
		if err == nil {
			return dir
		}
		problems = append(problems, fmt.Sprintf("%s: %v", dir, err))
		os.RemoveAll(dir)
	}
	t.Fatalf("no directory for the test cluster that %s can write: %s", c.owner, strings.Join(problems, "; "))
	return ""
}

// run runs a server binary (or another command) as the cluster's owner, from
// "/" so that the working directory's permissions do not matter.
func (c *Cluster) run(name string, args ...string) (string, error) {
	if p := filepath.Join(c.bin, name); isExecutable(p) {
		name = p
	}
	var cmd *exec.Cmd
	if c.owner == "" {
		cmd = exec.Command(name, args...)
	} else {
		cmd = exec.Command("runuser", append([]string{"-u", c.owner, "--", name}, args...)...)
	}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// writeExisting writes (or appends) to a file the server's owner made, which
// keeps its owner and mode.
func writeExisting(path, text string, appendTo bool) error {
	flag := os.O_WRONLY | os.O_TRUNC
	if appendTo {
		flag = os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return fmt.Errorf("configuring the test cluster: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("configuring the test cluster: %w", err)
	}
	return f.Close()
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLiteral quotes a string for SQL (standard_conforming_strings is on).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
