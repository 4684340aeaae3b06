// Package trace says where a keel run spends its time: with KEEL_TRACE set,
// each phase a plan or an apply passes (the files parsed, the desired state
// loaded and read back, the target read, the plan computed, ...) is written
// to stderr with the seconds since the run started. Phases name what keel
// does, never a connection string or a value from the database.
package trace

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

type key struct{}

// tracer writes marks to w, timed from start; marks from several
// goroutines are written whole, one line each.
type tracer struct {
	start time.Time
	mu    sync.Mutex
	w     io.Writer
}

// With returns ctx carrying a trace written to w, timed from now.
func With(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, key{}, &tracer{start: time.Now(), w: w})
}

// Mark writes the phase (a format and its arguments) with the time since
// the trace started, when ctx carries one; else it does nothing.
func Mark(ctx context.Context, format string, args ...any) {
	t, ok := ctx.Value(key{}).(*tracer)
	if !ok {
		return
	}
	at := time.Since(t.start).Seconds()
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "keel trace: %7.3f s  %s\n", at, fmt.Sprintf(format, args...))
}
