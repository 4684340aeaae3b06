package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"keel/internal/pgsql"
	"keel/planner/pg"
	"keel/planner/state"

	"github.com/jackc/pgx/v5/pgconn"
)

// A scratch database is one keel keeps on the dev server, empty, to
// normalize small desired states in: the state is created inside one
// transaction, read back in it, and the transaction is rolled back, so
// that the database is empty again. It saves creating and dropping a
// throwaway database (0.1-0.25 s each on PostgreSQL 15, and the drop waits
// for a checkpoint), which is most of a small plan's time. The desired
// state is normalized the same way there: the same statements, on a
// database made from template0 like a throwaway one and checked to be
// empty before each use. Large states (parallelFrom tables and more) still
// go to a throwaway database: they are created on several connections, and
// one transaction would hold a lock per relation.

// scratchName is the default name of the first scratch database; a second
// and third run at the same time use scratchName_2 and scratchName_3.
const scratchName = "keel_scratch"

// scratchSlots is how many scratch databases keel runs at the same time on
// one server may use; a run that finds them all in use takes a throwaway
// database.
const scratchSlots = 3

// scratchComment marks a database as a scratch one of keel's.
const scratchComment = "keel scratch database: small desired states are normalized here inside transactions that are rolled back, so it stays empty; it may be dropped at any time (keel creates it again)"

// scratchLock is the advisory lock a run holds on a scratch database while
// it uses it (its session's: a run that dies releases it).
const scratchLock = "keel scratch database"

// scratchLoads counts the desired states normalized in a scratch database
// (for tests).
var scratchLoads atomic.Int64

// scratchEnv is KEEL_SCRATCH: "off" (throwaway databases only), or the
// name of the first scratch database.
func scratchEnv() (name string, off bool) {
	v := os.Getenv("KEEL_SCRATCH")
	switch strings.ToLower(v) {
	case "off", "0", "false", "no":
		return "", true
	}
	return v, false
}

// scratchNames are the scratch databases' names on d's server: d.Scratch,
// else KEEL_SCRATCH, else scratchName, then a second and third.
func (d DevDatabase) scratchNames() []string {
	base := d.Scratch
	if env, _ := scratchEnv(); base == "" {
		base = env
	}
	if base == "" {
		base = scratchName
	}
	names := []string{base}
	for i := 2; i <= scratchSlots; i++ {
		names = append(names, fmt.Sprintf("%s_%d", base, i))
	}
	return names
}

// A scratch is a connection to a scratch database that holds its lock.
type scratch struct {
	conn *pg.Conn
	name string
}

// openScratch connects to a scratch database on d's server that no other
// keel run uses, creating it when it does not exist. It returns nil when
// scratch databases are off, or none can be used: all in use, not the
// connecting role's, not empty (something was committed there), or the
// role may not create one; the caller then takes a throwaway database.
func (d DevDatabase) openScratch(ctx context.Context) *scratch {
	if _, off := scratchEnv(); off || d.NoScratch || d.Server == nil {
		return nil
	}
	// A connection to the scratch database before, in use: the next one
	// is created through it, so that only the first scratch database on a
	// server costs a connection to the target's database.
	var prev *pg.Conn
	defer func() {
		if prev != nil {
			prev.Close()
		}
	}()
	for _, name := range d.scratchNames() {
		c, err := d.Server.WithDatabase(name).Open(ctx, "keel normalize")
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "3D000" { // invalid_catalog_name: not there yet
			if !d.createScratch(ctx, name, prev) {
				return nil
			}
			c, err = d.Server.WithDatabase(name).Open(ctx, "keel normalize")
		}
		if err != nil {
			return nil
		}
		if scratchUsable(ctx, c) {
			// What a killed keel left is swept here too, as before a
			// throwaway database is made.
			sweepThrowaways(ctx, c.Pgx(), d.throwawayPrefix(), time.Now())
			return &scratch{conn: c, name: name}
		}
		if prev != nil {
			prev.Close()
		}
		prev = c
	}
	return nil
}

// createScratch creates the scratch database name through via, a
// connection to another scratch database, or else on a connection of its
// own to the server (the DevDatabase's may be busy). Another run creating
// it at the same time is fine.
func (d DevDatabase) createScratch(ctx context.Context, name string, via *pg.Conn) bool {
	c := via
	if c == nil {
		own, err := d.Server.Open(ctx, "keel normalize")
		if err != nil {
			return false
		}
		defer own.Close()
		c = own
	}
	_, err := c.Exec(ctx, "CREATE DATABASE "+pgsql.QuoteIdent(name)+" TEMPLATE template0")
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P04" { // duplicate_database
		return true
	}
	if err != nil {
		return false
	}
	_, err = c.Exec(ctx, "COMMENT ON DATABASE "+pgsql.QuoteIdent(name)+" IS "+pgsql.QuoteLiteral(scratchComment))
	return err == nil
}

// scratchUsable takes the scratch database's lock on c and checks that it
// is keel's, the connecting role's, and as empty as template0 left it: no
// object of its own in any catalog (every object made after initdb has an
// OID from 16384 on), no settings for it, public as it came.
func scratchUsable(ctx context.Context, c *pg.Conn) bool {
	var locked bool
	if err := c.Pgx().QueryRow(ctx, "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext($1))", scratchLock).Scan(&locked); err != nil || !locked {
		return false
	}
	var ok bool
	err := c.Pgx().QueryRow(ctx, scratchCheck, scratchComment).Scan(&ok)
	return err == nil && ok
}

// scratchCheck is true for an empty scratch database of the current role.
const scratchCheck = `
SELECT d.datdba = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
  AND pg_catalog.shobj_description(d.oid, 'pg_database') = $1
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting s WHERE s.setdatabase = d.oid)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE oid >= 16384 AND nspname !~ '^pg_(toast_)?temp_')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE oid >= 16384 AND relpersistence <> 't')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE oid >= 16384
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.oid = t.typnamespace AND n.nspname ~ '^pg_(toast_)?temp_'))
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE oid >= 16384)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE oid >= 16384)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_default_acl)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_operator WHERE oid >= 16384)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_collation WHERE oid >= 16384)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_cast WHERE oid >= 16384)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_opclass WHERE oid >= 16384)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_opfamily WHERE oid >= 16384)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_language WHERE oid >= 16384)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_conversion WHERE oid >= 16384)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_ts_config WHERE oid >= 16384)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_ts_dict WHERE oid >= 16384)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_data_wrapper)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication)
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = 'public'
    AND n.nspowner = 'pg_database_owner'::regrole
    AND n.nspacl::text = '{pg_database_owner=UC/pg_database_owner,=U/pg_database_owner}')
FROM pg_catalog.pg_database d WHERE d.datname = current_database()`

// load creates desired in the scratch database inside a transaction, reads
// it back and rolls the transaction back.
func (s *scratch) load(ctx context.Context, desired *state.State) (*state.State, error) {
	if _, err := s.conn.Exec(ctx, "BEGIN"); err != nil {
		return nil, err
	}
	st, err := loadOn(ctx, nil, s.conn, desired, false)
	if _, rerr := s.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
		return nil, errors.Join(err, rerr)
	}
	if err != nil {
		return nil, err
	}
	scratchLoads.Add(1)
	return st, nil
}

// close ends the connection, which releases the lock.
func (s *scratch) close() {
	if s != nil {
		s.conn.Close()
	}
}

// pendingScratch is a scratch database being opened in the background.
type pendingScratch struct {
	once  sync.Once
	done  chan struct{}
	s     *scratch
	taken atomic.Bool
}

// take hands p to the one Load that uses it: nil after the first call.
func (p *pendingScratch) take() *pendingScratch {
	if p == nil || !p.taken.CompareAndSwap(false, true) {
		return nil
	}
	return p
}

// startScratch opens a scratch database in the background.
func (d DevDatabase) startScratch(ctx context.Context) *pendingScratch {
	p := &pendingScratch{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.s = d.openScratch(ctx)
	}()
	return p
}

// get waits for the scratch database; nil when there is none.
func (p *pendingScratch) get() *scratch {
	if p == nil {
		return nil
	}
	<-p.done
	return p.s
}

// close closes the scratch's connection once it is opened.
func (p *pendingScratch) close() {
	if p == nil {
		return
	}
	p.once.Do(func() { p.get().close() })
}
