package source

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"

	"keel/planner/pg"
)

// OpenAhead starts opening, in the background while the target's
// signature and records are read, what Load of h's files is likely to
// need: a scratch database, when the cache holds no entry for the files as
// they are but one of their earlier form (an edit: only the tables that
// changed are normalized, in a scratch database); and, when d shares
// the target's connection, the connection of its own that Apart gives the
// normalization. Each took 20-50 ms of a 100-table plan after an edit
// (connecting, and checking that the scratch database is empty), waited
// for after the target's signature and records. Load and Apart take them;
// a guess that was wrong costs a connection, in the background.
// CloseAhead ends what nothing took.
func (d *DevDatabase) OpenAhead(ctx context.Context, h *HCL, target *pg.Conn) {
	if d.Cache == nil || d.aheadScratch != nil || d.Server == nil {
		return
	}
	if _, off := scratchEnv(); off || d.NoScratch {
		return
	}
	key, ok := d.EntryKey(ctx, h)
	if !ok {
		return
	}
	Flush() // a reader in this process finds the entries being written
	if _, err := os.Stat(d.Cache.path(key)); err == nil {
		return // read from the cache: nothing is loaded
	}
	// No earlier entry: the files are new to this cache (a fresh runner
	// takes the state the last apply kept, else normalizes them whole).
	latest, ok := latestKey(h, d.version)
	if !ok {
		return
	}
	if _, err := os.Stat(filepath.Join(d.Cache.Dir, latest+".latest")); err != nil {
		return
	}
	d.aheadScratch = d.startScratch(ctx)
	if d.admin == target {
		d.aheadConn = openConnAhead(ctx, d.Server)
	}
}

// CloseAhead closes what OpenAhead opened and nothing took.
func (d *DevDatabase) CloseAhead() {
	if p := d.aheadScratch.take(); p != nil {
		p.close()
	}
	if p := d.aheadConn.take(); p != nil {
		if c, _ := p.get(); c != nil {
			c.Close()
		}
	}
}

// pendingConn is a connection to a server being opened in the background.
type pendingConn struct {
	done  chan struct{}
	c     *pg.Conn
	err   error
	taken atomic.Bool
}

func openConnAhead(ctx context.Context, server *pg.DB) *pendingConn {
	p := &pendingConn{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.c, p.err = server.Open(ctx, "keel normalize")
	}()
	return p
}

// take hands p to its one user: nil after the first call.
func (p *pendingConn) take() *pendingConn {
	if p == nil || !p.taken.CompareAndSwap(false, true) {
		return nil
	}
	return p
}

// get waits for the connection.
func (p *pendingConn) get() (*pg.Conn, error) {
	<-p.done
	return p.c, p.err
}
