package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"keel/internal/pgsql"
	"keel/internal/pgtest"
	"keel/planner/plan"
)

// reviewedPlan makes a prod profile whose approvers list alice's key, and a
// plan file for an empty database approved by alice (signed) and by bob
// (unsigned). It returns the profiles' directory, the plan file and the
// database's URL.
func reviewedPlan(t *testing.T) (envsDir, planPath, dbURL string) {
	t.Helper()
	base, _ := pgtest.NewDatabase(t)
	keys := t.TempDir()
	if code, out, errs := keel(t, "keygen", "--out", filepath.Join(keys, "alice")); code != 0 {
		t.Fatalf("keygen: %s%s", out, errs)
	}
	pub, err := os.ReadFile(filepath.Join(keys, "alice.pub"))
	if err != nil {
		t.Fatal(err)
	}
	envsDir, _ = prodEnv(t, fmt.Sprintf("approvers = [%q]\n", strings.TrimSpace(string(pub))))
	dbURL = withPassword(t, base, "require")
	planPath = filepath.Join(t.TempDir(), "plan.json")
	if code, _, errs := keelIn(t, envsDir, "plan", "--env", "prod", "--url", dbURL, "--schema", "../../schema.hcl", "--out", planPath); code != 0 {
		t.Fatalf("plan: %s", errs)
	}
	for _, args := range [][]string{{"--by", "alice", "--key", filepath.Join(keys, "alice")}, {"--by", "bob"}} {
		if code, out, errs := keelIn(t, envsDir, append([]string{"approve", planPath}, args...)...); code != 0 {
			t.Fatalf("approve %v: %s%s", args, out, errs)
		}
	}
	return envsDir, planPath, dbURL
}

// approvalLine is the line of keel show's text output about by's approval.
func approvalLine(t *testing.T, out, by string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " "+by+" at ") {
			return l
		}
	}
	t.Fatalf("no line about %s's approval in:\n%s", by, out)
	return ""
}

func TestShowPlanFileInEveryFormat(t *testing.T) {
	t.Parallel()
	envsDir, planPath, _ := reviewedPlan(t)
	raw, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		KeelVersion string `json:"keel_version"`
		Digest      string `json:"digest"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if file.KeelVersion != version {
		t.Errorf("the plan file records keel %q, keel --version says %q", file.KeelVersion, version)
	}
	const createUsers = `CREATE TABLE "public"."users"`

	// Without --env: digests and signatures checked, approvers not.
	code, out, errs := keelIn(t, envsDir, "show", planPath)
	if code != 0 {
		t.Fatalf("show: exit %d:\n%s%s", code, out, errs)
	}
	for _, want := range []string{createUsers, file.Digest + " (matches the content)", "env:      prod", "no --env given", "Pass --env NAME"} {
		if !strings.Contains(out, want) {
			t.Errorf("show (text) lacks %q:\n%s", want, out)
		}
	}
	if l := approvalLine(t, out, "alice"); !strings.HasPrefix(strings.TrimSpace(l), "unchecked") || !strings.Contains(l, "signed with key") || !strings.Contains(l, "signature verifies") {
		t.Errorf("alice's signed approval without a profile: %q", l)
	}
	if l := approvalLine(t, out, "bob"); !strings.HasPrefix(strings.TrimSpace(l), "unchecked") || !strings.Contains(l, "unsigned") {
		t.Errorf("bob's unsigned approval without a profile: %q", l)
	}

	// With --env: the profile's approvers decide.
	code, out, errs = keelIn(t, envsDir, "show", planPath, "--env", "prod")
	if code != 0 {
		t.Fatalf("show --env prod: exit %d:\n%s%s", code, out, errs)
	}
	if l := approvalLine(t, out, "alice"); !strings.HasPrefix(strings.TrimSpace(l), "valid") {
		t.Errorf("alice signed with a listed key, but: %q", l)
	}
	if l := approvalLine(t, out, "bob"); !strings.HasPrefix(strings.TrimSpace(l), "invalid") || !strings.Contains(l, "not signed") {
		t.Errorf("bob's unsigned approval where keys are listed: %q", l)
	}
	if !strings.Contains(out, "keel apply --env prod would accept") {
		t.Errorf("show --env prod does not say apply would accept the plan:\n%s", out)
	}
	if code, out, _ := keelIn(t, envsDir, "show", planPath, "--env", "staging"); code != 0 || !strings.Contains(out, `would refuse this plan file: the plan is for env "prod", not "staging"`) {
		t.Errorf("show --env staging of a prod plan: exit %d:\n%s", code, out)
	}

	// sql: still a script of the plan's statements; the rest is comments.
	code, out, errs = keelIn(t, envsDir, "show", planPath, "--format", "sql")
	if code != 0 {
		t.Fatalf("show --format sql: exit %d:\n%s%s", code, out, errs)
	}
	for _, l := range strings.Split(out, "\n") {
		if (strings.Contains(l, "alice") || strings.Contains(l, "digest")) && !strings.HasPrefix(l, "-- ") {
			t.Errorf("--format sql: a line that is not SQL is not a comment: %q", l)
		}
	}
	stmts, err := pgsql.Split(out)
	if err != nil || len(stmts) < 10 || !strings.Contains(out, createUsers) || !strings.Contains(out, "-- Approvals (2)") {
		t.Errorf("--format sql: %d statements (%v):\n%s", len(stmts), err, out)
	}

	// markdown: the plan, then the approvals as a table.
	code, out, errs = keelIn(t, envsDir, "show", planPath, "--format", "markdown", "--env", "prod")
	if code != 0 {
		t.Fatalf("show --format markdown: exit %d:\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, createUsers) || !strings.Contains(out, "| valid | alice |") || !strings.Contains(out, "| invalid | bob |") {
		t.Errorf("--format markdown lacks the plan or the approvals' table:\n%s", out)
	}

	// json: one document, the plan as keel plan --format json writes it.
	for _, env := range []string{"", "prod"} {
		args := []string{"show", planPath, "--format", "json"}
		if env != "" {
			args = append(args, "--env", env)
		}
		code, out, errs = keelIn(t, envsDir, args...)
		if code != 0 {
			t.Fatalf("show --format json --env %q: exit %d:\n%s%s", env, code, out, errs)
		}
		var doc struct {
			Digest         string  `json:"digest"`
			DigestMatches  bool    `json:"digest_matches"`
			CheckedAgainst *string `json:"checked_against_env"`
			Plan           struct {
				Steps []struct {
					SQL string `json:"sql"`
				} `json:"steps"`
			} `json:"plan"`
			Approvals []struct {
				By     string `json:"by"`
				Signed bool   `json:"signed"`
				Status string `json:"status"`
			} `json:"approvals"`
			Apply *struct {
				Accepted bool `json:"accepted"`
			} `json:"apply"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("--format json is not one JSON document: %v\n%s", err, out)
		}
		want := "alice signed unchecked, bob unsigned unchecked"
		if env != "" {
			want = "alice signed valid, bob unsigned invalid"
		}
		var got []string
		for _, a := range doc.Approvals {
			signed := "unsigned"
			if a.Signed {
				signed = "signed"
			}
			got = append(got, a.By+" "+signed+" "+a.Status)
		}
		if strings.Join(got, ", ") != want || doc.Digest != file.Digest || !doc.DigestMatches || len(doc.Plan.Steps) < 10 ||
			(env == "") != (doc.CheckedAgainst == nil) || (env == "") != (doc.Apply == nil) || (doc.Apply != nil && !doc.Apply.Accepted) {
			t.Errorf("--format json --env %q: approvals %q (want %q), digest %s matches=%v, %d steps, checked against %v, apply %+v",
				env, strings.Join(got, ", "), want, doc.Digest, doc.DigestMatches, len(doc.Plan.Steps), doc.CheckedAgainst, doc.Apply)
		}
	}
}

func TestShowNamesTampering(t *testing.T) {
	t.Parallel()
	envsDir, planPath, _ := reviewedPlan(t)
	approved, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}

	// The plan edited after it was written: no approval counts, exit 3.
	edited := strings.Replace(string(approved), `CREATE TABLE \"public\".\"users\"`, `CREATE UNLOGGED TABLE \"public\".\"users\"`, 1)
	if edited == string(approved) {
		t.Fatal("test bug: nothing to tamper with")
	}
	if err := os.WriteFile(planPath, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "sql", "json", "markdown"} {
		code, out, errs := keelIn(t, envsDir, "show", planPath, "--format", format, "--env", "prod")
		if code != 3 || !strings.Contains(errs, "changed after it was written") {
			t.Errorf("--format %s of an edited plan: exit %d, want 3 naming the change:\n%s", format, code, errs)
		}
		if !strings.Contains(out, "UNLOGGED") {
			t.Errorf("--format %s of an edited plan does not show the plan as it is:\n%s", format, out)
		}
		if format == "text" {
			for _, by := range []string{"alice", "bob"} {
				if l := approvalLine(t, out, by); !strings.HasPrefix(strings.TrimSpace(l), "invalid") || !strings.Contains(l, "changed after it was written") {
					t.Errorf("%s's approval of the edited plan: %q", by, l)
				}
			}
			if !strings.Contains(out, "DOES NOT MATCH") || !strings.Contains(out, "would refuse") {
				t.Errorf("the text does not say the digest does not match and apply would refuse:\n%s", out)
			}
		}
	}

	// A signed approval edited after signing: its signature fails, named.
	var f map[string]any
	if err := json.Unmarshal(approved, &f); err != nil {
		t.Fatal(err)
	}
	f["approvals"].([]any)[0].(map[string]any)["by"] = "eve"
	forged, _ := json.MarshalIndent(f, "", "  ")
	if err := os.WriteFile(planPath, forged, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := keelIn(t, envsDir, "show", planPath)
	if code != 0 {
		t.Fatalf("show with a forged approval: exit %d (the plan itself is intact):\n%s%s", code, out, errs)
	}
	if l := approvalLine(t, out, "eve"); !strings.HasPrefix(strings.TrimSpace(l), "invalid") || !strings.Contains(l, "signature does not verify") {
		t.Errorf("the forged approval: %q", l)
	}
	if _, out, _ := keelIn(t, envsDir, "show", planPath, "--env", "prod"); !strings.Contains(out, "would refuse") {
		t.Errorf("show --env prod says apply would accept a forged approval:\n%s", out)
	}
}

// dropColumnPlan writes a prod plan file that drops a column (a data-loss
// hazard) and creates a table.
func dropColumnPlan(t *testing.T) (envsDir, planPath, dbName string) {
	t.Helper()
	base, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, base, "CREATE TABLE accounts (id int PRIMARY KEY, note text)")
	envsDir, _ = prodEnv(t, "")
	next := writeFile(t, "schema.hcl", `
schema "public" {}
table "accounts" {
  schema = schema.public
  column "id" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
}
table "owners" {
  schema = schema.public
  column "id" {
    type = int
  }
}
`)
	planPath = filepath.Join(t.TempDir(), "plan.json")
	if code, _, errs := keelIn(t, envsDir, "plan", "--env", "prod", "--url", withPassword(t, base, "require"), "--schema", next, "--out", planPath); code != 0 {
		t.Fatalf("plan: %s", errs)
	}
	return envsDir, planPath, pgtest.QueryValue[string](t, base, "SELECT current_database()")
}

func TestApprovePrintsWhatItApprovesAndReplaces(t *testing.T) {
	t.Parallel()
	envsDir, planPath, dbName := dropColumnPlan(t)
	var digest struct {
		Digest string `json:"digest"`
	}
	raw, _ := os.ReadFile(planPath)
	if err := json.Unmarshal(raw, &digest); err != nil {
		t.Fatal(err)
	}
	code, out, errs := keelIn(t, envsDir, "approve", planPath, "--by", "alice")
	if code != 0 {
		t.Fatalf("approve: exit %d:\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		"env:      prod", fmt.Sprintf("database %q", dbName), "digest:   " + digest.Digest,
		"1 to create, 1 to alter, 0 to drop", "! data-loss [danger] column public.accounts.note",
		"Approved " + planPath + " (" + digest.Digest + ") by alice, unsigned.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("approve output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "data-loss") > strings.Index(out, "Approved ") {
		t.Errorf("approve prints the hazards after recording the approval:\n%s", out)
	}

	approvals := func() string {
		t.Helper()
		var f struct {
			Approvals []struct {
				By string `json:"by"`
			} `json:"approvals"`
		}
		raw, err := os.ReadFile(planPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		var by []string
		for _, a := range f.Approvals {
			by = append(by, a.By)
		}
		return strings.Join(by, ",")
	}
	if code, _, errs := keelIn(t, envsDir, "approve", planPath, "--by", "bob"); code != 0 {
		t.Fatalf("approve by bob: %s", errs)
	}
	code, out, errs = keelIn(t, envsDir, "approve", planPath, "--by", "alice")
	if code != 0 {
		t.Fatalf("approve again: exit %d:\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "Replaced the earlier approval by alice") {
		t.Errorf("approving again does not say it replaces the earlier approval:\n%s", out)
	}
	if got := approvals(); got != "bob,alice" {
		t.Fatalf("approvals after alice approved twice: %s, want bob,alice", got)
	}
}

func TestKeygenRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "alice")
	if code, out, errs := keel(t, "keygen", "--out", key); code != 0 {
		t.Fatalf("keygen: %s%s", out, errs)
	}
	priv, _ := os.ReadFile(key)
	pub, _ := os.ReadFile(key + ".pub")
	code, out, errs := keel(t, "keygen", "--out", key)
	if code != 1 || !strings.Contains(errs, key+" already exists") || !strings.Contains(errs, "choose another --out") {
		t.Fatalf("keygen over an existing key: exit %d, want 1 naming the file and what to do:\n%s%s", code, out, errs)
	}
	if p2, _ := os.ReadFile(key); string(p2) != string(priv) {
		t.Fatal("keygen overwrote the private key")
	}
	if p2, _ := os.ReadFile(key + ".pub"); string(p2) != string(pub) {
		t.Fatal("keygen overwrote the public key")
	}

	// Only FILE.pub there: refused too, and no private key left behind.
	lone := filepath.Join(dir, "bob")
	if err := os.WriteFile(lone+".pub", []byte("kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = keel(t, "keygen", "--out", lone)
	if code != 1 || !strings.Contains(errs, lone+".pub already exists") {
		t.Fatalf("keygen with FILE.pub present: exit %d:\n%s", code, errs)
	}
	if _, err := os.Stat(lone); err == nil {
		t.Fatal("keygen wrote a private key whose public key it could not write")
	}
	if b, _ := os.ReadFile(lone + ".pub"); string(b) != "kept\n" {
		t.Fatal("keygen overwrote FILE.pub")
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, errs := keel(t, "--version")
	if code != 0 || out != "keel "+version+"\n" {
		t.Fatalf("keel --version: exit %d, %q %q", code, out, errs)
	}
	if testing.Short() {
		t.Skip("builds keel")
	}
	// A release build sets the version.
	bin := filepath.Join(t.TempDir(), "keel")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=9.8.7-test", "-o", bin, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := exec.Command(bin, "--version").Output()
	if err != nil || string(b) != "keel 9.8.7-test\n" {
		t.Fatalf("keel built with -X main.version=9.8.7-test says %q (%v)", b, err)
	}
}

// commands are keel's visible commands, from the grammar.
func commands() []string {
	var names []string
	ct := reflect.TypeOf(cli{})
	for i := 0; i < ct.NumField(); i++ {
		f := ct.Field(i)
		if _, ok := f.Tag.Lookup("cmd"); ok {
			if _, hidden := f.Tag.Lookup("hidden"); !hidden {
				names = append(names, strings.ToLower(f.Name))
			}
		}
	}
	return names
}

func TestHelp(t *testing.T) {
	t.Parallel()
	exitLines := []string{
		"0  success", "1  error", "2  changes pending", "3  refused by the environment's policy",
	}
	hazards := func(t *testing.T, what, out string) {
		t.Helper()
		for code := range plan.HazardCodes {
			if !strings.Contains(out, "  "+string(code)+"  ") {
				t.Errorf("%s does not list hazard code %s:\n%s", what, code, out)
			}
		}
	}
	exits := func(t *testing.T, what, out string) {
		t.Helper()
		for _, l := range exitLines {
			if !strings.Contains(out, "  "+l) {
				t.Errorf("%s does not explain exit code %q:\n%s", what, l, out)
			}
		}
	}

	code, alone, errs := keel(t)
	if code != 0 || !strings.Contains(alone, "Usage: keel <command>") || errs != "" {
		t.Fatalf("keel alone: exit %d, want 0 and the usage:\n%s%s", code, alone, errs)
	}
	for _, c := range commands() {
		if !strings.Contains(alone, "\n  "+c+" ") {
			t.Errorf("keel alone does not list command %s:\n%s", c, alone)
		}
	}
	hazards(t, "keel alone", alone)
	exits(t, "keel alone", alone)
	if !strings.Contains(alone, "postgres://") {
		t.Errorf("keel alone does not list the --schema forms:\n%s", alone)
	}
	for _, args := range [][]string{{"help"}, {"--help"}} {
		if code, out, _ := keel(t, args...); code != 0 || out != alone {
			t.Errorf("keel %s: exit %d, and not the same usage as keel alone:\n%s", args[0], code, out)
		}
	}

	for _, c := range commands() {
		code, out, errs := keel(t, c, "--help")
		if code != 0 || !strings.Contains(out, "Usage: keel "+c) {
			t.Errorf("keel %s --help: exit %d:\n%s%s", c, code, out, errs)
			continue
		}
		exits(t, "keel "+c+" --help", out)
		if strings.Contains(out, "--schema=") && !strings.Contains(out, "FILE.sql, DIR") {
			t.Errorf("keel %s --help does not list the --schema forms:\n%s", c, out)
		}
		if strings.Contains(out, "--allow-hazard=") {
			hazards(t, "keel "+c+" --help", out)
		}
		if code, viaHelp, _ := keel(t, "help", c); code != 0 || viaHelp != out {
			t.Errorf("keel help %s: exit %d, and not what keel %s --help prints:\n%s", c, code, c, viaHelp)
		}
	}
	for _, c := range []string{"plan", "apply"} {
		_, out, _ := keel(t, c, "--help")
		hazards(t, "keel "+c+" --help", out)
	}
	if code, _, errs := keel(t, "pln"); code != 1 || !strings.Contains(errs, `did you mean "plan"`) {
		t.Errorf("keel pln: exit %d:\n%s", code, errs)
	}
}
