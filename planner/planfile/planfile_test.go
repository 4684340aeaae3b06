package planfile

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
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
		{"named approval", func(f *File) { _, _ = f.Approve("alice", nil) }, nil, ""},
		{"no approval", func(*File) {}, nil, "not approved"},
		{"edited after approval", func(f *File) {
			_, _ = f.Approve("alice", nil)
			f.Plan.Steps[0].SQL = "DROP TABLE users"
		}, nil, "changed after it was written"},
		{"digest recomputed after edit", func(f *File) {
			_, _ = f.Approve("alice", nil)
			f.Plan.Steps[0].SQL = "DROP TABLE users"
			f.Digest = f.ComputeDigest()
		}, nil, "approves digest"},
		{"other env", func(f *File) { _, _ = f.Approve("alice", nil) }, func(e *Expect) { e.Env = "staging" }, `for env "prod"`},
		{"other database", func(f *File) { _, _ = f.Approve("alice", nil) }, func(e *Expect) { e.Target.Database = "other" }, "not database"},
		{"signed by listed key", func(f *File) { _, _ = f.Approve("alice", priv) }, func(e *Expect) { e.Approvers = []string{pubB64} }, ""},
		{"unsigned where keys are listed", func(f *File) { _, _ = f.Approve("alice", nil) }, func(e *Expect) { e.Approvers = []string{pubB64} }, "not signed"},
		{"signed by another key", func(f *File) { _, _ = f.Approve("mallory", otherPriv) }, func(e *Expect) { e.Approvers = []string{pubB64} }, "not one of the profile's approvers"},
		{"forged signature", func(f *File) {
			_, _ = f.Approve("alice", priv)
			f.Approvals[0].By = "bob"
		}, func(e *Expect) { e.Approvers = []string{pubB64} }, "signature does not verify"},
		{"forged signature where no approvers are listed", func(f *File) {
			_, _ = f.Approve("alice", priv)
			f.Approvals[0].By = "bob"
		}, nil, "signature does not verify"},
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
	if _, err := f.Approve("alice", nil); err != nil {
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

func TestApproveReplacesTheSameName(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	f := testFile(t)
	for _, by := range []string{"alice", "bob"} {
		if replaced, err := f.Approve(by, nil); err != nil || len(replaced) != 0 {
			t.Fatalf("first approval by %s: replaced %v, error %v", by, replaced, err)
		}
	}
	replaced, err := f.Approve(" Alice ", priv)
	if err != nil {
		t.Fatal(err)
	}
	if len(replaced) != 1 || replaced[0].By != "alice" || replaced[0].Signed() {
		t.Fatalf("replaced %+v, want alice's unsigned approval", replaced)
	}
	var got []string
	for _, a := range f.Approvals {
		got = append(got, fmt.Sprintf("%s signed=%v", a.By, a.Signed()))
	}
	if want := "bob signed=false, Alice signed=true"; strings.Join(got, ", ") != want {
		t.Fatalf("approvals %s, want %s", strings.Join(got, ", "), want)
	}
}

func TestApproveRefusesAChangedFile(t *testing.T) {
	f := testFile(t)
	f.Plan.Steps[0].SQL = "DROP TABLE users"
	if _, err := f.Approve("alice", nil); err == nil || !strings.Contains(err.Error(), "changed after it was written") {
		t.Fatalf("approving an edited file: %v", err)
	}
	if len(f.Approvals) != 0 {
		t.Fatal("the refused approval was recorded")
	}
}

func TestCheckApprovals(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	listed := []string{base64.StdEncoding.EncodeToString(pub)}
	approve := func(f *File) {
		_, _ = f.Approve("alice", priv)
		_, _ = f.Approve("bob", nil)
		_, _ = f.Approve("mallory", otherPriv)
	}
	for _, tc := range []struct {
		name      string
		edit      func(f *File)
		approvers []string
		known     bool
		want      []Status
		reason    string // in every invalid check
	}{
		{"no profile", nil, nil, false, []Status{StatusUnchecked, StatusUnchecked, StatusUnchecked}, ""},
		{"profile without approvers", nil, nil, true, []Status{StatusValid, StatusValid, StatusValid}, ""},
		{"profile with approvers", nil, listed, true, []Status{StatusValid, StatusInvalid, StatusInvalid}, ""},
		{"content changed", func(f *File) { f.Plan.Steps[0].SQL = "DROP TABLE users" }, nil, false,
			[]Status{StatusInvalid, StatusInvalid, StatusInvalid}, "changed after it was written"},
		{"signed approval edited", func(f *File) { f.Approvals[0].By = "eve" }, nil, false,
			[]Status{StatusInvalid, StatusUnchecked, StatusUnchecked}, "signature does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testFile(t)
			approve(f)
			if tc.edit != nil {
				tc.edit(f)
			}
			checks := f.CheckApprovals(tc.approvers, tc.known)
			if len(checks) != len(tc.want) {
				t.Fatalf("%d checks, want %d", len(checks), len(tc.want))
			}
			for i, c := range checks {
				if c.Status != tc.want[i] || c.Reason == "" {
					t.Errorf("approval by %s: %s (%s), want %s", c.Approval.By, c.Status, c.Reason, tc.want[i])
				}
				if c.Status == StatusInvalid && tc.reason != "" && !strings.Contains(c.Reason, tc.reason) {
					t.Errorf("approval by %s: reason %q lacks %q", c.Approval.By, c.Reason, tc.reason)
				}
			}
		})
	}
}

// A plan file of an earlier format (fingerprints of another form) is refused
// with what to do, not compared as if stale.
func TestEarlierFormatRefused(t *testing.T) {
	f := testFile(t)
	f.Format = 1
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), path+": plan file format 1") || !strings.Contains(err.Error(), "keel plan --out again") {
		t.Fatalf("a format 1 file: %v", err)
	}
}
