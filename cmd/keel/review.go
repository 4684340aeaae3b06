package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"keel/planner/plan"
	"keel/planner/planfile"
)

type approveCmd struct {
	File string `arg:"" help:"The plan file (keel plan --out)." type:"existingfile"`
	By   string `required:"" help:"Who approves: a name, recorded in the plan file and in keel.history (free text; with --key the signature covers it). Approving again under the same name replaces the earlier approval."`
	Key  string `help:"Sign the approval with this private key (keel keygen); required where the profile lists approvers." type:"existingfile"`
}

func (c *approveCmd) Run(_ context.Context, s *streams) error {
	f, err := planfile.ReadFile(c.File)
	if err != nil {
		return err
	}
	var key []byte
	if c.Key != "" {
		k, err := planfile.ReadKey(c.Key)
		if err != nil {
			return err
		}
		key = k
	}
	// What is being approved, before it is recorded.
	fmt.Fprintf(s.out, "Approving %s:\n", c.File)
	writeFileSummary(s.out, "  ", f)
	replaced, err := f.Approve(c.By, key)
	if err != nil {
		return err
	}
	if err := f.Write(c.File); err != nil {
		return err
	}
	for _, a := range replaced {
		fmt.Fprintf(s.out, "Replaced the earlier approval by %s (%s, %s).\n", a.By, a.At.Format(timeLayout), signedText(a))
	}
	a := f.Approvals[len(f.Approvals)-1]
	fmt.Fprintf(s.out, "Approved %s (%s) by %s, %s.\n", c.File, f.Digest, a.By, signedText(a))
	return nil
}

// timeLayout is how plan files' times are shown.
const timeLayout = "2006-01-02 15:04:05Z07:00"

// signedText says whether an approval is signed, and with which public key.
func signedText(a planfile.Approval) string {
	if !a.Signed() {
		return "unsigned"
	}
	return "signed with key " + a.PublicKey
}

// maxListedHazards bounds the hazards approve lists one by one.
const maxListedHazards = 20

// writeFileSummary writes what a plan file holds and where it goes, each
// line starting with indent: its details (writeFileHeader), the counts of the
// plan and its hazards (the most severe first).
func writeFileSummary(w io.Writer, indent string, f *planfile.File) {
	p := f.Plan
	writeFileHeader(w, indent, f)
	fmt.Fprintf(w, "%splan:     %s, %d statement(s)\n", indent, p.Summary(), len(p.Steps))
	hs := p.Hazards()
	if len(hs) == 0 {
		fmt.Fprintf(w, "%shazards:  none\n", indent)
	} else {
		sort.SliceStable(hs, func(i, j int) bool { return severityRank(hs[i].Severity) > severityRank(hs[j].Severity) })
		fmt.Fprintf(w, "%shazards:  %d\n", indent, len(hs))
		for i, h := range hs {
			if i == maxListedHazards {
				fmt.Fprintf(w, "%s  ... and %d more (keel show FILE lists them with their statements)\n", indent, len(hs)-i)
				break
			}
			fmt.Fprintf(w, "%s  ! %s [%s] %s: %s\n", indent, h.Code, h.Severity, plan.OneLine(h.Object), plan.OneLine(h.Message))
		}
	}
	if len(p.Allowed) > 0 {
		codes := make([]string, len(p.Allowed))
		for i, c := range p.Allowed {
			codes[i] = string(c)
		}
		fmt.Fprintf(w, "%sallowed:  %s (--allow-hazard when it was planned)\n", indent, strings.Join(codes, ", "))
	}
}

// severityRank orders severities, mildest first.
func severityRank(s plan.Severity) int {
	switch s {
	case plan.SeverityDanger:
		return 2
	case plan.SeverityWarning:
		return 1
	}
	return 0
}

type keygenCmd struct {
	Out string `required:"" help:"Write the private key to this file (mode 0600) and the public key to FILE.pub. Neither may exist: keel never overwrites a key."`
}

func (c *keygenCmd) Run(s *streams) error {
	for _, path := range []string{c.Out, c.Out + ".pub"} {
		if _, err := os.Lstat(path); err == nil {
			return existingKeyError(path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("checking %s: %w", path, err)
		}
	}
	pub, priv, err := planfile.GenerateKey()
	if err != nil {
		return err
	}
	if err := writeNew(c.Out, priv, 0o600); err != nil {
		return err
	}
	if err := writeNew(c.Out+".pub", pub, 0o644); err != nil {
		os.Remove(c.Out) // the private key alone is of no use
		return err
	}
	fmt.Fprintf(s.out, "Private key: %s (keep it secret). Public key: %s.pub\nAdd it to the profile's approvers:\n  approvers = [%q]\n", c.Out, c.Out, pub)
	return nil
}

// existingKeyError refuses to overwrite path.
func existingKeyError(path string) error {
	return fmt.Errorf("%s already exists: keel keygen does not overwrite a key (approvals signed with it, and profiles listing it, "+
		"would no longer match); choose another --out, or remove the old key pair first if you mean to replace it", path)
}

// writeNew writes a file that must not exist yet.
func writeNew(path, content string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return existingKeyError(path)
	}
	if err != nil {
		return fmt.Errorf("writing the key: %w", err)
	}
	if _, err := io.WriteString(f, content+"\n"); err != nil {
		f.Close()
		return fmt.Errorf("writing the key: %w", err)
	}
	return f.Close()
}
