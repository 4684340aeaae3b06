package future

import (
	"sync/atomic"
	"testing"
)

// The work runs once, in the background, and every call gets its result,
// the first waiting for it.
func TestGoRunsOnceAndWaits(t *testing.T) {
	var runs atomic.Int32
	release := make(chan struct{})
	get := Go(func() int {
		<-release
		return int(runs.Add(1)) * 7
	})
	go close(release) // the first call waits for it
	for range 3 {
		if got := get(); got != 7 {
			t.Fatalf("got %d, want 7", got)
		}
	}
	if runs.Load() != 1 {
		t.Fatalf("the work ran %d times, want once", runs.Load())
	}
}
