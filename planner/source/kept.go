package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"keel/planner/pg"

	"github.com/jackc/pgx/v5"
)

// A fresh CI runner has an empty cache: its plan would normalize the whole
// desired state again, although the database it plans for was brought to
// the files' last applied form by keel, which had normalized them. So each
// apply keeps the cache entry of the files it applied in the target
// database itself (KeptTable, one row per cache format, keel build and
// server version), and a plan whose cache holds nothing for its files takes
// it from there into its cache: as the entry of its files when they are the
// ones applied, else as the base of their change (normalizeChanged), so
// that only the tables that changed are normalized. The row is read and
// checked as a cache file is (its format, key and checksum); it is trusted
// as the cache directory is: whoever may write schema keel (the role that
// applies) could make it say anything, as they could change the schema.

// KeptTable holds the normalized states applies keep in the target.
const KeptTable = "keel.normalized_states"

// keptTableDDL creates KeptTable. The entry is stored as it is in a cache
// file (encodeEntry).
const keptTableDDL = `CREATE TABLE IF NOT EXISTS keel.normalized_states (
  slot    text PRIMARY KEY,
  key     text NOT NULL,
  entry   bytea NOT NULL,
  kept_at timestamptz NOT NULL DEFAULT now()
)`

// maxKeptBytes bounds the entries a plan reads from KeptTable.
const maxKeptBytes = 256 << 20

// keptSlots is how many rows KeptTable keeps (the latest, by kept_at): one
// per keel build and server version that applied lately.
const keptSlots = 4

// keptSlot names the row of KeptTable for entries this build of keel makes
// on a server of this version; "" when it cannot be told.
func keptSlot(serverVersion string) string {
	build, ok := buildID()
	if !ok || serverVersion == "" {
		return ""
	}
	h := sha256.Sum256([]byte(cacheFormat + "\nbuild " + build + "\nserver " + serverVersion))
	return hex.EncodeToString(h[:])
}

// KeptAccess says whether KeptTable exists and whether the role on conn may
// read it (USAGE on schema keel, SELECT on the table), from the catalog
// alone: naming the table to a role without USAGE on its schema is an error.
func KeptAccess(ctx context.Context, conn *pgx.Conn) (exists, readable bool, err error) {
	err = conn.QueryRow(ctx, `SELECT count(*) > 0,
       COALESCE(bool_and(pg_catalog.has_schema_privilege(n.oid, 'USAGE') AND pg_catalog.has_table_privilege(c.oid, 'SELECT')), false)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'keel' AND c.relname = 'normalized_states'`).Scan(&exists, &readable)
	return exists, readable, err
}

// keptState says where a plan's normalized desired state came from when it
// came from the target's kept entry (set by RestoreKept, shared by the
// copies of a DevDatabase).
type keptState struct {
	key string
	at  time.Time
	// used is set once a plan takes the entry: whole ("whole"), or as the
	// base of the tables that changed ("base").
	used atomic.Value
}

// RestoreKept fills an empty cache from the target's kept entry (see
// above): when d's cache holds neither the entry of h's files nor a base
// for their change, it reads the target's row for this keel build and
// d's server version and, when it is whole and read back as a cache file
// would be, writes it to the cache. Nothing it meets is an error: a plan
// without it normalizes as before.
func (d *DevDatabase) RestoreKept(ctx context.Context, target *pg.Conn, h *HCL) {
	if d.Cache == nil || d.admin == nil || target == nil {
		return
	}
	key, ok := d.EntryKey(ctx, h)
	if !ok {
		return
	}
	if _, err := os.Stat(d.Cache.path(key)); err == nil {
		return
	}
	latest, ok := latestKey(h, d.version)
	if !ok {
		return
	}
	if _, err := os.Stat(filepath.Join(d.Cache.Dir, latest+".latest")); err == nil {
		return
	}
	slot := keptSlot(d.version)
	if slot == "" {
		return
	}
	c := target.Pgx()
	if _, readable, err := KeptAccess(ctx, c); err != nil || !readable {
		return
	}
	var (
		rowKey string
		b      []byte
		at     time.Time
	)
	// A row far larger than keel's entries (2.3 MB at 1,000 tables) is not
	// read: the plan would hold it whole in memory.
	if err := c.QueryRow(ctx, `SELECT key, entry, kept_at FROM `+KeptTable+` WHERE slot = $1 AND octet_length(entry) <= $2`, slot, maxKeptBytes).Scan(&rowKey, &b, &at); err != nil {
		return
	}
	e, ok := decodeEntry(b)
	if !ok || e.Format != cacheFormat || e.Key != rowKey || e.Checksum == "" || e.checksum() != e.Checksum {
		return
	}
	if rowKey != key && e.Blocks == nil {
		return // not a base for a change
	}
	d.Cache.writeFile(rowKey+".json", b)
	if rowKey != key {
		d.Cache.writeFile(latest+".latest", []byte(rowKey))
	}
	d.kept = &keptState{key: rowKey, at: at}
}

// KeptAt says, after Load, whether the desired state came from the
// target's kept entry: when, and whether the tables that changed since were
// normalized again (partial).
func (d *DevDatabase) KeptAt() (at time.Time, partial, ok bool) {
	if d.kept == nil {
		return time.Time{}, false, false
	}
	used, _ := d.kept.used.Load().(string)
	return d.kept.at, used == "base", used != ""
}

// TookEntry records that the plan took the entry LookupAsync found as its
// desired state (KeptAt tells whether it was the target's kept one).
func (d *DevDatabase) TookEntry() {
	if d.entry != nil {
		d.tookKept(d.entry.Key, false)
	}
}

// tookKept records that the entry under key was taken, whole or as a base.
func (d *DevDatabase) tookKept(key string, base bool) {
	if d.kept == nil || d.kept.key != key {
		return
	}
	if base {
		d.kept.used.Store("base")
	} else {
		d.kept.used.Store("whole")
	}
}

// keptWrites counts the entries kept in a target (for tests).
var keptWrites atomic.Int64

// KeptWrites is how many entries this process kept in a target.
func KeptWrites() int64 { return keptWrites.Load() }

// Keep stores the cache entry of h's files in the target's KeptTable, after
// an apply brought the target to them: the next plan on a runner whose
// cache is empty starts from it (see above). It needs schema keel (an
// apply made it, or apply.Session.Adopt) and the entry in d's cache; a row
// for the same files is not written again. It runs in a transaction of its
// own, after the apply's: an error leaves the apply as it is, and says that
// the entry was not kept. kept is whether the target holds the entry now.
func (d *DevDatabase) Keep(ctx context.Context, target *pg.Conn, h *HCL) (kept bool, err error) {
	if d.Cache == nil || d.admin == nil {
		return false, nil
	}
	key, ok := d.EntryKey(ctx, h)
	if !ok {
		return false, nil
	}
	slot := keptSlot(d.version)
	if slot == "" {
		return false, nil
	}
	Flush() // the entry may still be being written
	b, err := os.ReadFile(d.Cache.path(key))
	if err != nil {
		return false, nil // no entry: nothing to keep
	}
	c := target.Pgx()
	var schema, exists bool
	// From the catalog alone, as KeptAccess: naming what a role may not use
	// is an error.
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'keel'),
       EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'keel' AND c.relname = 'normalized_states')`).Scan(&schema, &exists); err != nil {
		return false, fmt.Errorf("keeping the normalized state in %s: %w", KeptTable, pg.ServerError(err))
	}
	if !schema {
		return false, nil // no apply made keel's schema: nothing to keep it in
	}
	if exists {
		var have string
		if err := c.QueryRow(ctx, `SELECT COALESCE((SELECT key FROM `+KeptTable+` WHERE slot = $1), '')`, slot).Scan(&have); err != nil {
			return false, fmt.Errorf("keeping the normalized state in %s: %w", KeptTable, pg.ServerError(err))
		}
		if have == key {
			return true, nil
		}
	}
	err = pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if !exists {
			if _, err := tx.Exec(ctx, keptTableDDL); err != nil {
				return err
			}
			// lz4 compresses an entry in a third of pglz's time (15 ms
			// against 35 ms at 1,000 tables), where the server has it
			// (PostgreSQL 14 and later, built with lz4).
			if _, err := tx.Exec(ctx, "SAVEPOINT keel_lz4"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "ALTER TABLE "+KeptTable+" ALTER COLUMN entry SET COMPRESSION lz4"); err != nil {
				if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT keel_lz4"); err != nil {
					return err
				}
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+KeptTable+` (slot, key, entry, kept_at) VALUES ($1, $2, $3, now())
ON CONFLICT (slot) DO UPDATE SET key = excluded.key, entry = excluded.entry, kept_at = excluded.kept_at`, slot, key, b); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM `+KeptTable+` WHERE slot NOT IN (SELECT slot FROM `+KeptTable+` ORDER BY kept_at DESC, slot LIMIT $1)`, keptSlots)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("keeping the normalized state in %s: %w", KeptTable, pg.ServerError(err))
	}
	keptWrites.Add(1)
	return true, nil
}
