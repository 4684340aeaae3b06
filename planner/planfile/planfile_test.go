package planfile

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"keel/planner/plan"
)

func testFile(t *testing.T) *File {
	t.Helper()
	p := &plan.Plan{Target: plan.Target{Host: "127.0.0.1", Port: 5432, Database: "app", User: "u"}, Schemas: []string{"public"},
		Steps: []plan.Step{{SQL: "CREATE TABLE t (id int)", Action: plan.ActionCreate, Object: "table public.t"}}}
	return NewFile(p, "prod", "schema.hcl", "test")
}

func TestVerify(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	pubB64 := base64.StdEncoding.EncodeToString(pub)
	expect := Expect{Env: "prod", Target: plan.Target{Host: "127.0.0.1", Port: 5432, Database: "app"}}
	for _, tc := range []struct {
		name   string
		edit   func(f *File)
		expect func(e *Expect)
		want   string // "" means accepted
	}{
		{"named approval", func(f *File) { _ = f.Approve("alice", nil) }, nil, ""},
		{"no approval", func(*File) {}, nil, "not approved"},
		{"edited after approval", func(f *File) {
			_ = f.Approve("alice", nil)
			f.Plan.Steps[0].SQL = "DROP TABLE users"
		}, nil, "changed after it was written"},
		{"digest recomputed after edit", func(f *File) {
			_ = f.Approve("alice", nil)
			f.Plan.Steps[0].SQL = "DROP TABLE users"
			f.Digest = f.ComputeDigest()
		}, nil, "approves digest"},
		{"other env", func(f *File) { _ = f.Approve("alice", nil) }, func(e *Expect) { e.Env = "staging" }, `for env "prod"`},
		{"other database", func(f *File) { _ = f.Approve("alice", nil) }, func(e *Expect) { e.Target.Database = "other" }, "not database"},
		{"signed by listed key", func(f *File) { _ = f.Approve("alice", priv) }, func(e *Expect) { e.Approvers = []string{pubB64} }, ""},
		{"unsigned where keys are listed", func(f *File) { _ = f.Approve("alice", nil) }, func(e *Expect) { e.Approvers = []string{pubB64} }, "not signed"},
		{"signed by another key", func(f *File) { _ = f.Approve("mallory", otherPriv) }, func(e *Expect) { e.Approvers = []string{pubB64} }, "not one of the profile's approvers"},
		{"forged signature", func(f *File) {
			_ = f.Approve("alice", priv)
			f.Approvals[0].By = "bob"
		}, func(e *Expect) { e.Approvers = []string{pubB64} }, "signature does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testFile(t)
			tc.edit(f)
			e := expect
			if tc.expect != nil {
				tc.expect(&e)
			}
			_, err := f.Verify(e)
			var re *plan.RefusedError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (!errors.As(err, &re) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want a refusal containing %q", err, tc.want)
			}
		})
	}
}

func TestFileRoundTrip(t *testing.T) {
	f := testFile(t)
	if err := f.Approve("alice", nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	g, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.ComputeDigest() != f.Digest || g.Digest != f.Digest {
		t.Fatalf("digest changed across write and read: %s vs %s", g.ComputeDigest(), f.Digest)
	}
}
