package source

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// A build of a clean checkout, or of a released version, is named the same
// wherever its executable is (a CI runner finds what an apply elsewhere
// kept); a build with uncommitted changes, or unstamped, by its executable.
func TestBuildIDsAcrossMachines(t *testing.T) {
	dir := t.TempDir()
	exe := func(name string) func() (string, error) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(name), 0o755); err != nil {
			t.Fatal(err)
		}
		return func() (string, error) { return p, nil }
	}
	here, there := exe("here"), exe("there")
	stamped := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "keel", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	id := func(bi *debug.BuildInfo, exe func() (string, error)) string {
		t.Helper()
		s, ok := buildIDOf(bi, exe)
		if !ok {
			t.Fatal("no build id")
		}
		return s
	}
	clean := stamped("4965c76", "false")
	if id(clean, here) != id(clean, there) {
		t.Error("a clean checkout's build is named by where its executable is")
	}
	if id(clean, here) == id(stamped("da9334b", "false"), here) {
		t.Error("two commits' builds have one name")
	}
	other := stamped("4965c76", "false")
	other.GoVersion = "go1.26.9"
	if id(clean, here) == id(other, here) {
		t.Error("two toolchains' builds have one name")
	}
	dirty := stamped("4965c76", "true")
	if id(dirty, here) == id(dirty, there) || id(dirty, here) == id(clean, here) {
		t.Error("a build with uncommitted changes is named by its commit alone")
	}
	released := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "keel", Version: "v1.2.3", Sum: "h1:abc="}}
	if id(released, here) != id(released, there) {
		t.Error("a released version's build is named by where its executable is")
	}
	if id(nil, here) == id(nil, there) {
		t.Error("an unstamped build is not named by its executable")
	}
}
