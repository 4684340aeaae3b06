package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"keel/envs"
	"keel/planner/plan"
	"keel/planner/planfile"
	"keel/planner/render"
)

type showCmd struct {
	File   string `arg:"" help:"The plan file (keel plan --out)." type:"existingfile"`
	Format string `enum:"text,sql,json,markdown" default:"text" help:"Output: text, sql (the statements; the file's details and approvals as comments), json (one document: the plan as keel plan --format json writes it, the file's fields and each approval's verdict) or markdown."`
	Env    string `help:"Check the approvals against this profile's approvers (envs/NAME.hcl), as keel apply --env NAME would. Without it, digests and signatures are checked, and which approvals the env accepts is not."`
}

// Run prints the plan file's plan in the chosen format, then its approvals
// and what each is worth. A file whose content no longer matches its digest
// is shown, and exits 3.
func (c *showCmd) Run(root *cli, s *streams) error {
	f, err := planfile.ReadFile(c.File)
	if err != nil {
		return err
	}
	rv := fileReview{path: c.File, file: f}
	if c.Env != "" {
		if rv.profile, err = envs.Load(root.EnvsDir, c.Env); err != nil {
			return err
		}
		rv.checks = f.CheckApprovals(rv.profile.Approvers, true)
		// Apply's own check, the database aside: it is checked when apply connects.
		_, rv.refusal = f.Verify(planfile.Expect{Env: rv.profile.Name, Target: f.Plan.Target, Approvers: rv.profile.Approvers})
	} else {
		rv.checks = f.CheckApprovals(nil, false)
	}
	switch c.Format {
	case "json":
		err = rv.writeJSON(s.out)
	case "markdown":
		err = rv.writeMarkdown(s.out)
	case "sql":
		err = rv.writeCommented(s.out, "-- ", render.Script)
	default:
		err = rv.writeCommented(s.out, "", render.Formats[c.Format])
	}
	if err != nil {
		return err
	}
	if err := f.Changed(); err != nil {
		return &codeError{code: exitPolicy, err: fmt.Errorf("%s: %w: no approval of it counts; plan again and have the new plan reviewed", c.File, err)}
	}
	return nil
}

// fileReview is a plan file with the verdict on each of its approvals.
type fileReview struct {
	path    string
	file    *planfile.File
	profile *envs.Profile // nil: no --env
	checks  []planfile.Check
	refusal error // with a profile: why keel apply would refuse the file, or nil
}

// writeCommented writes the file's details, the plan as renderPlan writes
// it and the approvals; the details and approvals lines start with comment
// ("-- " keeps the sql format a script psql runs).
func (rv *fileReview) writeCommented(w io.Writer, comment string, renderPlan func(io.Writer, *plan.Plan) error) error {
	var head, tail bytes.Buffer
	fmt.Fprintf(&head, "Plan file %s:\n", rv.path)
	writeFileHeader(&head, "  ", rv.file)
	rv.writeApprovals(&tail)
	if _, err := io.WriteString(w, commentLines(head.String(), comment)+"\n"); err != nil {
		return err
	}
	if err := renderPlan(w, rv.file.Plan); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n"+commentLines(tail.String(), comment))
	return err
}

// commentLines starts every line of s with prefix.
func commentLines(s, prefix string) string {
	if prefix == "" {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

// scope says what the approvals were checked against.
func (rv *fileReview) scope() string {
	if rv.profile == nil {
		return "not checked against any profile's approvers: no --env given"
	}
	keys := "lists no approvers: a named approval counts"
	if n := len(rv.profile.Approvers); n > 0 {
		keys = fmt.Sprintf("lists %d approver key(s): only an approval signed by one counts", n)
	}
	return fmt.Sprintf("checked against env %s (%s %s)", rv.profile.Name, rv.profile.File, keys)
}

// writeApprovals lists the approvals with their verdicts and, with a
// profile, what keel apply would make of the file.
func (rv *fileReview) writeApprovals(w io.Writer) {
	if len(rv.checks) == 0 {
		fmt.Fprintf(w, "Approvals: none. A reviewer approves with: keel approve %s --by NAME [--key KEYFILE]\n", rv.path)
	} else {
		fmt.Fprintf(w, "Approvals (%d), %s:\n", len(rv.checks), rv.scope())
		for _, c := range rv.checks {
			fmt.Fprintf(w, "  %-9s  %s at %s, %s: %s\n", c.Status, plan.OneLine(c.Approval.By), c.Approval.At.Format(timeLayout), signedText(c.Approval), c.Reason)
		}
	}
	switch {
	case rv.profile == nil && len(rv.checks) > 0:
		fmt.Fprintln(w, "Pass --env NAME to check them against that profile's approvers.")
	case rv.profile != nil:
		fmt.Fprintln(w, rv.applyVerdict())
	}
}

// applyVerdict says whether keel apply --env would accept the file.
func (rv *fileReview) applyVerdict() string {
	if rv.refusal != nil {
		return fmt.Sprintf("keel apply --env %s would refuse this plan file: %v", rv.profile.Name, rv.refusal)
	}
	return fmt.Sprintf("keel apply --env %s would accept these approvals; when it connects, it still checks that the plan is for that database (%s) and that nothing changed there since the plan was made.",
		rv.profile.Name, rv.file.Plan.Target)
}

// writeFileHeader writes the plan file's details, each line starting with indent.
func writeFileHeader(w io.Writer, indent string, f *planfile.File) {
	fmt.Fprintf(w, "%senv:      %s\n", indent, f.Env)
	fmt.Fprintf(w, "%starget:   %s\n", indent, f.Plan.Target)
	fmt.Fprintf(w, "%sdesired:  %s\n", indent, f.Desired)
	fmt.Fprintf(w, "%swritten:  %s by keel %s\n", indent, f.CreatedAt.Format(timeLayout), f.KeelVersion)
	if err := f.Changed(); err != nil {
		fmt.Fprintf(w, "%sdigest:   %s, which DOES NOT MATCH: %v\n", indent, f.Digest, err)
	} else {
		fmt.Fprintf(w, "%sdigest:   %s (matches the content)\n", indent, f.Digest)
	}
}

func (rv *fileReview) writeMarkdown(w io.Writer) error {
	if err := render.Markdown(w, rv.file.Plan); err != nil {
		return err
	}
	f := rv.file
	var b strings.Builder
	fmt.Fprintf(&b, "\n#### Plan file %s\n\n| | |\n| --- | --- |\n", mdCell("`"+rv.path+"`"))
	fmt.Fprintf(&b, "| env | %s |\n| desired | %s |\n| written | %s by keel %s |\n", mdCell(f.Env), mdCell(f.Desired), f.CreatedAt.Format(timeLayout), mdCell(f.KeelVersion))
	if err := f.Changed(); err != nil {
		fmt.Fprintf(&b, "| digest | `%s` **does not match**: %s |\n", f.Digest, mdCell(err.Error()))
	} else {
		fmt.Fprintf(&b, "| digest | `%s` (matches the content) |\n", f.Digest)
	}
	if len(rv.checks) == 0 {
		b.WriteString("\n**Approvals**: none.\n")
	} else {
		fmt.Fprintf(&b, "\n#### Approvals (%d)\n\n%s.\n\n| Status | By | At | Signature | Note |\n| --- | --- | --- | --- | --- |\n", len(rv.checks), mdCell(rv.scope()))
		for _, c := range rv.checks {
			sig := "unsigned"
			if c.Approval.Signed() {
				sig = "key `" + c.Approval.PublicKey + "`"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", c.Status, mdCell(c.Approval.By), c.Approval.At.Format(timeLayout), sig, mdCell(c.Reason))
		}
	}
	if rv.profile != nil {
		fmt.Fprintf(&b, "\n%s\n", mdCell(rv.applyVerdict()))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell makes s one line of a markdown table cell.
func mdCell(s string) string { return strings.ReplaceAll(plan.OneLine(s), "|", `\|`) }

// showJSON is keel show --format json.
type showJSON struct {
	File        string    `json:"file"`
	Format      int       `json:"format"`
	KeelVersion string    `json:"keel_version"`
	Env         string    `json:"env"`
	CreatedAt   time.Time `json:"created_at"`
	Desired     string    `json:"desired"`
	Digest      string    `json:"digest"`
	// DigestMatches is false when the content was changed after keel plan
	// wrote it; Changed then says how.
	DigestMatches bool   `json:"digest_matches"`
	Changed       string `json:"changed,omitempty"`
	// Plan is the document keel plan --format json writes.
	Plan json.RawMessage `json:"plan"`
	// CheckedAgainstEnv is the --env the approvals were checked against, or null.
	CheckedAgainstEnv *string        `json:"checked_against_env"`
	Approvals         []approvalJSON `json:"approvals"`
	// Apply is, with --env, whether keel apply would accept the approvals.
	Apply *applyJSON `json:"apply,omitempty"`
}

type approvalJSON struct {
	By        string          `json:"by"`
	At        time.Time       `json:"at"`
	Digest    string          `json:"digest"`
	Signed    bool            `json:"signed"`
	PublicKey string          `json:"public_key,omitempty"`
	Status    planfile.Status `json:"status"`
	Reason    string          `json:"reason"`
}

type applyJSON struct {
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason"`
}

func (rv *fileReview) writeJSON(w io.Writer) error {
	f := rv.file
	var p bytes.Buffer
	if err := render.JSON(&p, f.Plan); err != nil {
		return err
	}
	doc := showJSON{File: rv.path, Format: f.Format, KeelVersion: f.KeelVersion, Env: f.Env, CreatedAt: f.CreatedAt, Desired: f.Desired,
		Digest: f.Digest, DigestMatches: true, Plan: p.Bytes(), Approvals: []approvalJSON{}}
	if err := f.Changed(); err != nil {
		doc.DigestMatches, doc.Changed = false, err.Error()
	}
	for _, c := range rv.checks {
		doc.Approvals = append(doc.Approvals, approvalJSON{By: c.Approval.By, At: c.Approval.At, Digest: c.Approval.Digest,
			Signed: c.Approval.Signed(), PublicKey: c.Approval.PublicKey, Status: c.Status, Reason: c.Reason})
	}
	if rv.profile != nil {
		doc.CheckedAgainstEnv = &rv.profile.Name
		doc.Apply = &applyJSON{Accepted: rv.refusal == nil, Reason: rv.applyVerdict()}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// Help.
