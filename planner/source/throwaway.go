package source

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"keel/internal/pgsql"
	"keel/internal/trace"
	"keel/planner/pg"

	"github.com/jackc/pgx/v5"
)

// throwawayComment marks a database as a throwaway one of keel's: the sweep
// drops only databases that have both the name and this comment.
const throwawayComment = "keel throwaway database: the desired state is normalized here, and it is dropped afterwards"

// staleThrowaway is how old a throwaway database must be before another
// keel run drops it. Normalizing takes seconds to minutes; an hour leaves
// room for a slow one and for clocks that disagree a little.
const staleThrowaway = time.Hour

// throwawayName is prefix, the creation time in Unix seconds and a random
// part: keel_tmp_1764172398_3fa9c2e1b7d0.
func throwawayName(prefix string, now time.Time) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%d_%s", prefix, now.Unix(), hex.EncodeToString(b[:])), nil
}

// sweepThrowaways drops throwaway databases that a keel killed with -9 (or
// whose server connection was cut) could not drop: those named as
// throwawayName names them with this prefix, marked with throwawayComment,
// created more than staleThrowaway ago and with no session connected. It is
// best effort: a database it may not or cannot drop is left for later.
func sweepThrowaways(ctx context.Context, admin *pgx.Conn, prefix string, now time.Time) []string {
	pattern := regexp.MustCompile("^" + regexp.QuoteMeta(prefix) + `([0-9]{9,11})_[0-9a-f]{12}$`)
	rows, err := admin.Query(ctx, `
SELECT d.datname FROM pg_catalog.pg_database d
WHERE starts_with(d.datname, $1) AND pg_catalog.shobj_description(d.oid, 'pg_database') = $2
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.datid = d.oid)`, prefix, throwawayComment)
	if err != nil {
		return nil
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil
	}
	var dropped []string
	for _, name := range names {
		m := pattern.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		sec, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || now.Sub(time.Unix(sec, 0)) < staleThrowaway {
			continue
		}
		// Without FORCE: a session that connected since is left alone.
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgsql.QuoteIdent(name)); err == nil {
			dropped = append(dropped, name)
		}
	}
	return dropped
}

// A throwaway is one throwaway database of a DevDatabase. It is created in
// the background (start), so that PostgreSQL copying its template, half a
// second, overlaps with reading the desired state's files; use waits for
// it. Its owner drops it. Until use or drop returns, nothing else may use
// the DevDatabase's connection.
type throwaway struct {
	d     DevDatabase
	ready chan struct{}
	name  string // "" until created, and when creating it failed
	err   error
	used  bool
}

// start creates a throwaway database on d's server, in the background.
func (d DevDatabase) start(ctx context.Context) *throwaway {
	t := &throwaway{d: d, ready: make(chan struct{})}
	go func() {
		defer close(t.ready)
		t.name, t.err = d.create(ctx)
		if t.err == nil {
			trace.Mark(ctx, "throwaway database created")
		}
	}()
	return t
}

// wait waits until the database is created, or creating it failed (false);
// the DevDatabase's connection is free again then.
func (t *throwaway) wait() bool {
	<-t.ready
	return t.err == nil
}

// use calls fn with the throwaway database, once it is created.
func (t *throwaway) use(fn func(db *pg.DB) error) error {
	<-t.ready
	if t.err != nil {
		return t.err
	}
	t.used = true
	return fn(t.d.Server.WithDatabase(t.name))
}

// drop drops the throwaway database, once it is created (or creating it
// failed: then there is nothing to drop, and no error).
func (t *throwaway) drop(ctx context.Context) error {
	<-t.ready
	if t.name == "" {
		return nil
	}
	return t.d.dropThrowaway(ctx, t.name)
}

// dropDetached sends the throwaway database's DROP on the DevDatabase's
// connection, once it is created, and leaves it to the server: the caller
// closes the connection next, without reading the answer. PostgreSQL reads
// the statement before the connection's end and runs it to the end (at
// 1,000 tables, 0.6-0.9 s of unlinking files that keel no longer waits
// for); the drop commits before the server answers, so the closed
// connection cannot undo it. A drop that fails (it is not expected to: the
// role made the database, and FORCE ends its sessions), or whose session
// is ended (the connection is to the target's database: dropping that
// WITH (FORCE) right after the plan ends it), leaves the database to a
// later run's sweep (sweepThrowaways), an hour on.
func (t *throwaway) dropDetached() {
	<-t.ready
	if t.name == "" {
		return
	}
	// context.Background: the send is not cancelled with the plan (a
	// cancelled context would also cancel the statement on the server).
	t.d.admin.Pgx().PgConn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgsql.QuoteIdent(t.name)+" WITH (FORCE)")
	detachedDrops.Add(1)
}

// detachedDrops counts the drops left to the server (for tests).
var detachedDrops atomic.Int64

// DetachedDrops is how many throwaway databases' drops this process sent
// without waiting for them.
func DetachedDrops() int64 { return detachedDrops.Load() }

// throwawayPrefix starts the throwaway databases' names.
func (d DevDatabase) throwawayPrefix() string {
	if d.Prefix == "" {
		return "keel_tmp_"
	}
	return d.Prefix
}

// create makes a throwaway database and marks it as keel's; it drops what
// a killed keel left (sweepThrowaways) first.
func (d DevDatabase) create(ctx context.Context) (string, error) {
	admin := d.admin
	if admin == nil {
		return "", errors.New("normalizing the desired state: no connection to the server (DevDatabase not opened)")
	}
	prefix := d.throwawayPrefix()
	sweepThrowaways(ctx, admin.Pgx(), prefix, time.Now())
	name, err := throwawayName(prefix, time.Now())
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgsql.QuoteIdent(name)+" TEMPLATE template0"); err != nil {
		return "", fmt.Errorf("creating the throwaway database %s on %s:%d to normalize the desired state "+
			"(the role needs CREATEDB, or set dev_url in the profile to a server where it has it): %w",
			name, d.Server.Target().Host, d.Server.Target().Port, pg.ServerError(err))
	}
	if _, err := admin.Exec(ctx, "COMMENT ON DATABASE "+pgsql.QuoteIdent(name)+" IS "+pgsql.QuoteLiteral(throwawayComment)); err != nil {
		err = fmt.Errorf("marking the throwaway database %s as keel's: %w", name, pg.ServerError(err))
		return "", errors.Join(err, d.dropThrowaway(ctx, name))
	}
	return name, nil
}

// dropThrowaway drops a throwaway database, even when ctx was cancelled
// (Ctrl-C), within a bounded time: on PostgreSQL 15 a DROP DATABASE waits
// for a checkpoint, which on a busy server took more than 30 s (a later
// run's sweep drops what is left).
func (d DevDatabase) dropThrowaway(ctx context.Context, name string) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if _, err := d.admin.Exec(dctx, "DROP DATABASE IF EXISTS "+pgsql.QuoteIdent(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping the throwaway database %s: %w", name, err)
	}
	return nil
}
