package workflows

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"keel/internal/pgtest"
)

// fakeGH stands in for `gh api`, for the calls the workflow makes, on JSON
// files in $FAKE_GH: the pull request's comments (created and updated), the
// pull requests of a commit, the approvals of a run. Any other call fails.
const fakeGH = `#!/bin/bash
set -e
echo "gh $*" >>"$FAKE_GH/calls.log"
[ "$1" = api ] || { echo "fake gh: only gh api" >&2; exit 1; }
shift
method=GET; expr=; body=; endpoint=
while [ $# -gt 0 ]; do
  case "$1" in
    --method) method=$2; shift 2 ;;
    --jq) expr=$2; shift 2 ;;
    --paginate) shift ;;
    -F) case "$2" in body=@*) body=${2#body=@} ;; *) echo "fake gh: -F $2" >&2; exit 1 ;; esac; shift 2 ;;
    -*) echo "fake gh: flag $1" >&2; exit 1 ;;
    *) endpoint=$1; shift ;;
  esac
done
out() { if [ -n "$expr" ]; then jq -r "$expr"; else cat; fi; }
comments=$FAKE_GH/comments.json
case "$method $endpoint" in
  "GET repos/acme/shop/issues/7/comments") out <"$comments" ;;
  "POST repos/acme/shop/issues/7/comments")
    jq --rawfile body "$body" '. + [{id: (length + 100), user: {login: "github-actions[bot]", type: "Bot"}, body: $body}]' "$comments" >"$comments.new"
    mv "$comments.new" "$comments" ;;
  "PATCH repos/acme/shop/issues/comments/"*)
    jq --rawfile body "$body" --argjson id "${endpoint##*/}" 'map(if .id == $id then .body = $body else . end)' "$comments" >"$comments.new"
    mv "$comments.new" "$comments" ;;
  "GET repos/acme/shop/commits/"*"/pulls") out <"$FAKE_GH/pulls.json" ;;
  "GET repos/acme/shop/actions/runs/"*"/approvals") out <"$FAKE_GH/approvals.json" ;;
  *) echo "fake gh: unexpected $method $endpoint" >&2; exit 1 ;;
esac
`

// The main branch's desired state, and a pull request's: it drops
// accounts.legacy (data-loss, which prod and ci deny) and adds accounts.name.
const (
	mainSchema = `schema "public" {}
table "accounts" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "email" {
    type = text
  }
  column "legacy" {
    type = text
    null = true
  }
  primary_key {
    columns = [column.id]
  }
}
`
	prSchema = `schema "public" {}
table "accounts" {
  schema = schema.public
  column "id" {
    type = bigint
  }
  column "email" {
    type = text
  }
  column "name" {
    type = text
    null = true
  }
  primary_key {
    columns = [column.id]
  }
}
`
)

type comment struct {
	ID   int    `json:"id"`
	Body string `json:"body"`
}

func readComments(t *testing.T, dir string) []comment {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "comments.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cs []comment
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func withSSL(t *testing.T, dbURL, mode string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("sslmode", mode)
	u.RawQuery = q.Encode()
	return u.String()
}

// The workflow's steps, run end to end against the test server with a
// stand-in for gh: a pull request's plan in the ci env is refused for a
// denied hazard and posted anyway; labelled keel-allow:data-loss, the
// same comment is updated with the allowed plan; after the merge the prod
// plan is made with the plan-only role of docs/ci.md, and applied only once
// a reviewer approved the deployment, in that reviewer's name.
func TestSchemaWorkflowEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds keel and runs the workflow's jobs")
	}
	for _, tool := range []string{"bash", "jq", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	if pgtest.QueryValue[string](t, pgtest.ServerURL(), "SELECT current_setting('ssl')") != "on" {
		t.Skip("the test server has no TLS, which envs/prod.hcl requires")
	}
	temp := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(temp, "keel-bin", "keel"), "../../cmd/keel").CombinedOutput(); err != nil {
		t.Fatalf("building keel: %v\n%s", err, out)
	}
	keel := filepath.Join(temp, "keel-bin", "keel")
	gh := t.TempDir()
	writeFile(t, filepath.Join(gh, "bin", "gh"), fakeGH)
	if err := os.Chmod(filepath.Join(gh, "bin", "gh"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(gh, "comments.json"), "[]")
	envFiles, err := filepath.Glob("../../envs/*.hcl")
	if err != nil || len(envFiles) == 0 {
		t.Fatalf("no profiles in ../../envs: %v", err)
	}
	// A fresh checkout for each job, as GitHub gives.
	workspace := func(schema string) string {
		dir := t.TempDir()
		for _, f := range envFiles {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "envs", filepath.Base(f)), string(b))
		}
		writeFile(t, filepath.Join(dir, "schema.hcl"), schema)
		return dir
	}

	// prod: main's desired state applied by keel, with rows; the plan-only
	// role as docs/ci.md makes it (without pg_read_all_data, PostgreSQL's
	// information_schema hides the tables from it, and the plan would
	// create them).
	planRole := pgtest.NewRole(t)
	prod, prodName := pgtest.NewDatabase(t)
	seed := workspace(mainSchema)
	if out, err := exec.Command(keel, "--envs-dir", filepath.Join(seed, "envs"), "apply", "--env", "ci", "--url", prod, "--schema", filepath.Join(seed, "schema.hcl")).CombinedOutput(); err != nil {
		t.Fatalf("loading prod: %v\n%s", err, out)
	}
	pgtest.Exec(t, prod, "INSERT INTO accounts VALUES (1, 'a@example.com', 'x')",
		"ALTER ROLE "+planRole+" SET default_transaction_read_only = on",
		"GRANT CONNECT ON DATABASE "+prodName+" TO "+planRole,
		"GRANT pg_read_all_data TO "+planRole)

	wf := parseWorkflow(t, filepath.Join(workflowsDir, "schema.yml"))
	r := &runner{t: t, wf: wf, temp: temp, artifacts: t.TempDir(),
		ctx: map[string]string{
			"github.repository": "acme/shop", "github.token": "token-of-the-run", "github.server_url": "https://github.com",
		},
		override: map[string]string{},
		extraEnv: map[string]string{
			"FAKE_GH": gh, "PATH": filepath.Join(gh, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
			// prod's dev_url is the job's service container; here, the test server.
			"KEEL_DEV_URL": pgtest.ServerURL(),
		}}
	planURL := withSSL(t, pgtest.AsRole(t, prod, planRole), "require")
	pr := func(env, runID, labels string) jobResult {
		t.Helper()
		ci, _ := pgtest.NewDatabase(t) // the service container: new for every run
		r.override["CI_DATABASE_URL"] = ci
		r.workspace = workspace(prSchema)
		writeFile(t, filepath.Join(r.workspace, "base", "schema.hcl"), mainSchema)
		return r.job("plan", map[string]string{
			"github.event_name": "pull_request", "matrix.env": env, "github.base_ref": "main", "github.run_id": runID,
			"github.event.pull_request.number": "7", "github.event.pull_request.head.sha": "c0ffee",
			"toJSON(github.event.pull_request.labels.*.name)": labels,
			"secrets.PROD_PLAN_DATABASE_URL":                  planURL,
		})
	}

	// 1. The pull request drops a column: ci denies data-loss.
	res := pr("ci", "1001", `[]`)
	if !res.failed || !strings.Contains(res.log, "keel refused the plan (exit 3)") {
		t.Fatalf("a refused plan does not fail the job:\n%s", res.log)
	}
	cs := readComments(t, gh)
	if len(cs) != 1 {
		t.Fatalf("%d comments after the first run, want 1:\n%s", len(cs), res.log)
	}
	first := cs[0]
	for _, want := range []string{"<!-- keel-plan:ci -->\n### keel plan for `ci`: 0 to create, 1 to alter, 0 to drop\n",
		"| **danger** | `data-loss` |", "`column public.accounts.legacy`", "DROP COLUMN \"legacy\"",
		"**keel refused this plan** (exit 3)", "--allow-hazard data-loss", "label the pull request `keel-allow:CODE`", "[run 1001](https://github.com/acme/shop/actions/runs/1001)"} {
		if !strings.Contains(first.Body, want) {
			t.Errorf("the comment lacks %q:\n%s", want, first.Body)
		}
	}
	if strings.Contains(first.Body, "127.0.0.1") || strings.Contains(first.Body, "postgres://") {
		t.Errorf("the comment shows the database's host or URL:\n%s", first.Body)
	}

	// 2. Labelled keel-allow:data-loss: the same comment, updated.
	res = pr("ci", "1002", `["schema", "keel-allow:data-loss"]`)
	if res.failed {
		t.Fatalf("the allowed plan fails the job:\n%s", res.log)
	}
	cs = readComments(t, gh)
	if len(cs) != 1 || cs[0].ID != first.ID {
		t.Fatalf("the comment was not updated in place: %+v", cs)
	}
	if b := cs[0].Body; strings.Contains(b, "refused") || !strings.Contains(b, "Allowed by the planner (`--allow-hazard`): data-loss") || !strings.Contains(b, "run 1002") {
		t.Fatalf("the updated comment:\n%s", b)
	}
	for _, f := range []string{"plan.md", "plan.txt", "plan.json"} {
		if !fileExists(filepath.Join(r.artifacts, "keel-plan-ci", f)) {
			t.Errorf("the artifact keel-plan-ci lacks %s", f)
		}
	}

	// With KEEL_PLAN_PROD_ON_PR, the pull request is planned against prod
	// too, with the plan-only role: a comment of its own, without the host.
	res = pr("prod", "1002", `["keel-allow:data-loss"]`)
	if res.failed {
		t.Fatalf("the prod plan of the pull request fails:\n%s", res.log)
	}
	cs = readComments(t, gh)
	if len(cs) != 2 || cs[0].ID != first.ID || !strings.HasPrefix(cs[1].Body, "<!-- keel-plan:prod -->\n### keel plan for `prod`: 0 to create, 1 to alter, 0 to drop\n") {
		t.Fatalf("want the ci comment and a prod comment: %+v", cs)
	}
	if strings.Contains(cs[1].Body, "127.0.0.1") || strings.Contains(cs[1].Body, planRole) {
		t.Errorf("the prod comment shows prod's host or the role:\n%s", cs[1].Body)
	}

	// 3. Merged: plan-prod plans with the plan-only role and the merged
	// pull request's allowance.
	writeFile(t, filepath.Join(gh, "pulls.json"), `[{"number": 7, "labels": [{"name": "keel-allow:data-loss"}]}]`)
	push := map[string]string{"github.event_name": "push", "github.ref": "refs/heads/main", "github.sha": "d00d", "github.run_id": "2001",
		"secrets.PROD_PLAN_DATABASE_URL":  planURL,
		"secrets.PROD_DATABASE_URL":       withSSL(t, prod, "require"),
		"needs.plan-prod.outputs.changes": "true"}
	r.workspace = workspace(prSchema)
	res = r.job("plan-prod", push)
	if res.failed || res.outputs["changes"] != "true" {
		t.Fatalf("plan-prod: failed %v, outputs %v:\n%s", res.failed, res.outputs, res.log)
	}
	if !strings.Contains(res.summary, "### keel plan for `prod`") || !strings.Contains(res.summary, "DROP COLUMN \"legacy\"") {
		t.Fatalf("the run's summary does not show the prod plan:\n%s", res.summary)
	}
	if !fileExists(filepath.Join(r.artifacts, "keel-plan-prod", "plan.json")) {
		t.Fatal("plan-prod kept no plan file")
	}

	// 4. apply-prod with no approval of the deployment: refused.
	writeFile(t, filepath.Join(gh, "approvals.json"), `[]`)
	r.workspace = workspace(prSchema)
	res = r.job("apply-prod", push)
	if !res.failed || !strings.Contains(res.log, "No reviewer approved this run's deployment") {
		t.Fatalf("apply-prod ran without an approval:\n%s", res.log)
	}
	if !pgtest.QueryValue[bool](t, prod, "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'legacy')") {
		t.Fatal("prod changed without an approval")
	}

	// 5. alice approved the deployment: the plan of this run is applied in
	// her name.
	writeFile(t, filepath.Join(gh, "approvals.json"),
		`[{"state": "rejected", "environments": [{"name": "production"}], "user": {"login": "mallory"}},
		  {"state": "approved", "environments": [{"name": "production"}], "user": {"login": "alice"}}]`)
	r.workspace = workspace(prSchema)
	res = r.job("apply-prod", push)
	if res.failed {
		t.Fatalf("apply-prod:\n%s", res.log)
	}
	if got := pgtest.QueryValue[string](t, prod, "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'accounts'"); got != "id,email,name" {
		t.Fatalf("prod's accounts has the columns %s after the apply", got)
	}
	if by := pgtest.QueryValue[string](t, prod, "SELECT approver FROM keel.history ORDER BY id DESC LIMIT 1"); by != "alice" {
		t.Fatalf("keel.history records the approver %q, want alice", by)
	}
}
