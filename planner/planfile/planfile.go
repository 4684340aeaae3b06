// Package planfile reads and writes plan files: a plan saved for review,
// with its digest, and the approvals (named, or signed with ed25519 keys)
// that keel apply --plan checks before it runs anything.
package planfile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"keel/internal/connstr"
	"keel/planner/plan"
)

// FileFormat is the version of the plan file format. 2: fingerprints
// from keel's own encoding of the states (format 1 hashed the engine's HCL:
// its fingerprints cannot be compared with this keel's).
const FileFormat = 2

// File is a saved plan: what `keel plan --out` writes, a reviewer approves
// and `keel apply --plan` executes.
type File struct {
	Format      int       `json:"format"`
	KeelVersion string    `json:"keel_version"`
	Env         string    `json:"env"`
	CreatedAt   time.Time `json:"created_at"`
	// Desired names the desired-state source the plan was computed from; a
	// connection string is kept without its password (connstr.Redact).
	Desired string     `json:"desired"`
	Plan    *plan.Plan `json:"plan"`
	// Digest is "sha256:" and the hex digest of the file without Digest and
	// Approvals.
	Digest    string     `json:"digest"`
	Approvals []Approval `json:"approvals,omitempty"`
}

// Approval is a reviewer's approval of a plan file's digest. With a key, it
// is signed: Signature is the ed25519 signature of SignedText().
type Approval struct {
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	Digest    string    `json:"digest"`
	PublicKey string    `json:"public_key,omitempty"`
	Signature string    `json:"signature,omitempty"`
}

// SignedText is the message an approval's signature covers.
func (a Approval) SignedText() []byte {
	return []byte(fmt.Sprintf("keel plan approval v1\ndigest %s\nby %s\nat %s\n", a.Digest, a.By, a.At.UTC().Format(time.RFC3339Nano)))
}

// NewFile wraps a plan for saving and computes its digest. desired names the
// desired state; a password in it is masked.
func NewFile(p *plan.Plan, env, desired, version string) *File {
	f := &File{Format: FileFormat, KeelVersion: version, Env: env, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Desired: connstr.Redact(desired), Plan: p}
	f.Digest = f.ComputeDigest()
	return f
}

// ComputeDigest hashes the file's content, leaving out Digest and Approvals.
func (f *File) ComputeDigest() string {
	c := *f
	c.Digest, c.Approvals = "", nil
	b, err := json.Marshal(&c)
	if err != nil {
		panic(err) // a File always marshals
	}
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// Write saves the file as indented JSON.
func (f *File) Write(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the plan file: %w", err)
	}
	return nil
}

// ReadFile reads a plan file. It checks the format, not the digest: see Verify.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the plan file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s is not a keel plan file: %w", path, err)
	}
	if f.Format != FileFormat {
		return nil, fmt.Errorf("%s: plan file format %d, this keel reads format %d: run keel plan --out again with this keel and get the new plan reviewed", path, f.Format, FileFormat)
	}
	if f.Plan == nil {
		return nil, fmt.Errorf("%s: the plan file holds no plan", path)
	}
	return &f, nil
}

// Changed returns an error naming the change when the file's content no
// longer hashes to its digest (it was edited after keel plan wrote it), or nil.
func (f *File) Changed() error {
	if got := f.ComputeDigest(); got != f.Digest {
		return fmt.Errorf("the plan file was changed after it was written: its digest is %s but its content hashes to %s", f.Digest, got)
	}
	return nil
}

// Approve records an approval by name; with a private key it is signed. An
// earlier approval by the same name (ignoring case) is replaced, not kept
// beside it: Approve returns the approvals it replaced.
func (f *File) Approve(by string, key ed25519.PrivateKey) (replaced []Approval, err error) {
	by = strings.TrimSpace(by)
	if by == "" {
		return nil, errors.New("an approval needs a name: --by NAME")
	}
	if err := f.Changed(); err != nil {
		return nil, fmt.Errorf("%w: refusing to approve it", err)
	}
	a := Approval{By: by, At: time.Now().UTC(), Digest: f.Digest}
	if key != nil {
		a.PublicKey = base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
		a.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, a.SignedText()))
	}
	kept := f.Approvals[:0:0]
	for _, old := range f.Approvals {
		if strings.EqualFold(strings.TrimSpace(old.By), by) {
			replaced = append(replaced, old)
			continue
		}
		kept = append(kept, old)
	}
	f.Approvals = append(kept, a)
	return replaced, nil
}

// Expect is what a plan file must match to be applied.
type Expect struct {
	Env    string
	Target plan.Target
	// Approvers are base64 ed25519 public keys. When not empty, a valid
	// signature by one of them is required; when empty, a named approval is.
	Approvers []string
}

// Verify checks a plan file before it is applied: the digest matches the
// content, it is for this env and database, and it carries a valid approval.
// It returns the approval that counts, or a *RefusedError.
func (f *File) Verify(e Expect) (*Approval, error) {
	if err := f.Changed(); err != nil {
		return nil, &plan.RefusedError{Reason: err.Error()}
	}
	if f.Env != e.Env {
		return nil, &plan.RefusedError{Reason: fmt.Sprintf("the plan is for env %q, not %q", f.Env, e.Env)}
	}
	if t := f.Plan.Target; t.Host != e.Target.Host || t.Port != e.Target.Port || t.Database != e.Target.Database {
		return nil, &plan.RefusedError{Reason: fmt.Sprintf("the plan is for %s, not %s", t, e.Target)}
	}
	if len(f.Approvals) == 0 {
		return nil, &plan.RefusedError{Reason: "the plan is not approved: have a reviewer run `keel approve FILE --by NAME` (or --key KEYFILE)"}
	}
	var problems []string
	for i := range f.Approvals {
		a := &f.Approvals[i]
		if err := a.check(f.Digest, e.Approvers); err != nil {
			problems = append(problems, fmt.Sprintf("approval by %q: %v", a.By, err))
			continue
		}
		return a, nil
	}
	return nil, &plan.RefusedError{Reason: "the plan has no valid approval: " + strings.Join(problems, "; ")}
}

// check says why the approval does not count for a plan with this digest
// in an env with these approvers, or nil when it does. A signature, where
// there is one, must verify even where no approvers are listed: a failing
// one means the approval was edited after it was signed.
func (a *Approval) check(digest string, approvers []string) error {
	if err := a.checkIntegrity(digest); err != nil {
		return err
	}
	if len(approvers) == 0 {
		return nil
	}
	if a.Signature == "" {
		return errors.New("it is not signed, and the profile lists approvers' keys: approve with --key KEYFILE")
	}
	if !slices.Contains(approvers, a.PublicKey) {
		return errors.New("its key is not one of the profile's approvers")
	}
	return nil
}

// checkIntegrity checks what needs no profile: the digest approved and the
// signature, if any.
func (a *Approval) checkIntegrity(digest string) error {
	if a.Digest != digest {
		return fmt.Errorf("it approves digest %s, not this plan's %s", a.Digest, digest)
	}
	if a.Signature == "" && a.PublicKey == "" {
		return nil
	}
	pub, err := base64.StdEncoding.DecodeString(a.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return errors.New("its public key is malformed")
	}
	sig, err := base64.StdEncoding.DecodeString(a.Signature)
	if err != nil || !ed25519.Verify(ed25519.PublicKey(pub), a.SignedText(), sig) {
		return errors.New("its signature does not verify: the approval was changed after it was signed")
	}
	return nil
}

// Signed reports whether the approval carries a signature.
func (a *Approval) Signed() bool { return a.Signature != "" || a.PublicKey != "" }

// Status is what an approval is worth to keel apply.
type Status string

// The statuses of an approval.
const (
	// StatusValid: it counts for keel apply in the env it was checked against.
	StatusValid Status = "valid"
	// StatusInvalid: it counts nowhere (see the check's Reason).
	StatusInvalid Status = "invalid"
	// StatusUnchecked: its digest and signature are good, but no profile was
	// given, so whether its key (or a named approval) is accepted is unknown.
	StatusUnchecked Status = "unchecked"
)

// Check is the verdict on one approval.
type Check struct {
	Approval Approval
	Status   Status
	// Reason says why an approval is invalid, what was not checked, or
	// what made it valid.
	Reason string
}

// CheckApprovals checks every approval, in order, as keel apply would: the
// file's content against its digest, the digest approved, the signature, and,
// when known is true, the profile's approvers (none listed: a named approval
// counts). With known false, a good approval is StatusUnchecked.
func (f *File) CheckApprovals(approvers []string, known bool) []Check {
	changed := f.Changed()
	out := make([]Check, 0, len(f.Approvals))
	for _, a := range f.Approvals {
		c := Check{Approval: a, Status: StatusInvalid}
		var err error
		if changed != nil {
			err = changed
		} else if known {
			err = a.check(f.Digest, approvers)
		} else {
			err = a.checkIntegrity(f.Digest)
		}
		switch {
		case err != nil:
			c.Reason = err.Error()
		case !known && a.Signed():
			c.Status, c.Reason = StatusUnchecked, "the signature verifies; whether its key is one of the approvers was not checked (no profile given)"
		case !known:
			c.Status, c.Reason = StatusUnchecked, "it counts only in an env whose profile lists no approvers (not checked: no profile given)"
		case len(approvers) == 0:
			c.Status, c.Reason = StatusValid, "the profile lists no approvers, so a named approval counts"
		default:
			c.Status, c.Reason = StatusValid, "signed by a key the profile lists"
		}
		out = append(out, c)
	}
	return out
}

// GenerateKey makes an approver's key pair, base64-encoded: the public key
// goes into a profile's approvers, the private key stays with the reviewer.
func GenerateKey() (public, private string, err error) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(pub), base64.StdEncoding.EncodeToString(priv), nil
}

// ReadKey reads a private key written by GenerateKey from a file.
func ReadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the key: %w", err)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%s is not a keel private key (made by keel keygen)", path)
	}
	return ed25519.PrivateKey(k), nil
}
