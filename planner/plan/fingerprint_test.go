package plan_test

import (
	"reflect"
	"testing"

	"keel/planner/plan"
)

func TestFingerprintChanges(t *testing.T) {
	from := plan.Fingerprint{Objects: map[string]string{"table public.a": "1", "table public.b": "2", "enum public.e": "3"}}
	to := plan.Fingerprint{Objects: map[string]string{"table public.a": "1", "table public.b": "9", "table public.c": "4"}}
	want := []string{"~ table public.b (changed)", "+ table public.c (added)", "- enum public.e (removed)"}
	got := from.Changes(to)
	// Sorted by object name.
	wantSorted := []string{want[2], want[0], want[1]}
	if !reflect.DeepEqual(got, wantSorted) {
		t.Fatalf("Changes = %q, want %q", got, wantSorted)
	}
	if len(from.Changes(from)) != 0 {
		t.Fatal("a fingerprint differs from itself")
	}
}
