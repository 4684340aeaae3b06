package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/atlascli"
)

// atlasOnPath is the Atlas binary the CLI's engine tests use; they are
// skipped, saying so, without one.
func atlasOnPath(t *testing.T) atlascli.Binary {
	t.Helper()
	b, err := atlascli.Find("", "")
	if err != nil {
		t.Skipf("SKIPPED, the Atlas engine is not tested: %v", err)
	}
	return b
}

func TestAtlasEngineThroughTheCLI(t *testing.T) {
	t.Parallel()
	bin := atlasOnPath(t)
	u, _ := pgtest.NewDatabase(t)
	example := "../../schema.hcl"
	code, out, errs := keel(t, "plan", "--env", "dev", "--url", u, "--schema", example, "--engine", "atlas", "--atlas-bin", bin.Path)
	if code != 0 || !strings.Contains(out, `CREATE TABLE "public"."users"`) {
		t.Fatalf("plan --engine atlas: exit %d:\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "atlas") {
		t.Errorf("the plan does not say the Atlas engine made it:\n%s", out)
	}
	code, out, errs = keel(t, "apply", "--env", "dev", "--url", u, "--schema", example, "--engine", "atlas", "--atlas-bin", bin.Path)
	if code != 0 {
		t.Fatalf("apply --engine atlas: exit %d:\n%s%s", code, out, errs)
	}
	if !tableExists(t, u, "orders") {
		t.Fatal("apply --engine atlas did not create orders")
	}
	// Both engines now see nothing to do.
	for _, engine := range []string{"atlas", "embedded"} {
		code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", example, "--engine", engine, "--atlas-bin", bin.Path, "--detailed-exitcode")
		if code != 0 || !strings.Contains(out, "No changes") {
			t.Fatalf("plan --engine %s after the apply: exit %d:\n%s%s", engine, code, out, errs)
		}
	}
	code, out, errs = keel(t, "plan", "--env", "dev", "--url", u, "--schema", example, "--cross-check", "--atlas-bin", bin.Path)
	if code != 0 || !strings.Contains(out, "The engines agree") {
		t.Fatalf("plan --cross-check: exit %d:\n%s%s", code, out, errs)
	}
	code, out, errs = keel(t, "doctor", "--env", "dev", "--url", u, "--schema", example, "--engine", "atlas", "--atlas-bin", bin.Path)
	if code != 0 || !strings.Contains(out, "ok    atlas engine: atlas") {
		t.Fatalf("doctor --engine atlas: exit %d:\n%s%s", code, out, errs)
	}
}

func TestAtlasEngineWithoutBinary(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.NewDatabase(t)
	missing := filepath.Join(t.TempDir(), "no-atlas-here")
	before := pgtest.DumpSchema(t, u)
	code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--engine", "atlas", "--atlas-bin", missing)
	if code != 1 || !strings.Contains(errs, missing) || !strings.Contains(errs, "--atlas-bin") {
		t.Fatalf("apply --engine atlas without the binary: exit %d, want 1 naming it:\n%s%s", code, out, errs)
	}
	if after := pgtest.DumpSchema(t, u); after != before {
		t.Fatal("the refused apply changed the database")
	}
	code, out, _ = keel(t, "doctor", "--env", "dev", "--url", u, "--schema", "../../schema.hcl", "--engine", "atlas", "--atlas-bin", missing)
	if code != 1 || !strings.Contains(out, "fail  atlas engine:") {
		t.Fatalf("doctor without the binary: exit %d, want 1 with a failed atlas engine check:\n%s", code, out)
	}
	code, _, errs = keel(t, "plan", "--env", "dev", "--url", u, "--engine", "atlass")
	if code != 1 || !strings.Contains(errs, `"atlass"`) || !strings.Contains(errs, "embedded") {
		t.Fatalf("an unknown engine: exit %d:\n%s", code, errs)
	}
	// A profile's engine is checked when it is read.
	dir := filepath.Join(t.TempDir(), "envs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x.hcl"), []byte("url_env = \"X\"\napply = \"auto\"\nengine = \"atlass\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = keelIn(t, dir, "plan", "--env", "x", "--url", u)
	if code != 1 || !strings.Contains(errs, "x.hcl") || !strings.Contains(errs, `engine = "atlass"`) {
		t.Fatalf("a profile's unknown engine: exit %d:\n%s", code, errs)
	}
}

func TestAtlasEngineRefusalSaysWhatToDo(t *testing.T) {
	t.Parallel()
	bin := atlasOnPath(t)
	u, _ := pgtest.NewDatabase(t)
	// A name with a double quote: the community build of Atlas cannot
	// create it in its dev database; keel says so and changes nothing.
	schema := writeFile(t, "schema.hcl", "schema \"public\" {}\ntable \"we\\\"ird\" {\n  schema = schema.public\n  column \"id\" {\n    type = int\n  }\n}\n")
	before := pgtest.DumpSchema(t, u)
	code, out, errs := keel(t, "apply", "--env", "dev", "--url", u, "--schema", schema, "--engine", "atlas", "--atlas-bin", bin.Path)
	if code != 1 || !strings.Contains(errs, "--engine embedded") {
		t.Fatalf("apply --engine atlas of a name Atlas cannot handle: exit %d, want 1 pointing at the embedded engine:\n%s%s", code, out, errs)
	}
	if after := pgtest.DumpSchema(t, u); after != before {
		t.Fatal("the refused apply changed the database")
	}
	code, out, errs = keel(t, "apply", "--env", "dev", "--url", u, "--schema", schema)
	if code != 0 || !tableExists(t, u, `"we""ird"`) {
		t.Fatalf("the embedded engine does not apply it: exit %d:\n%s%s", code, out, errs)
	}
}
