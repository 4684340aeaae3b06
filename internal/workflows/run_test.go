package workflows

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// runner runs the jobs of a workflow on this machine, as GitHub's runner
// would run them, for a test: each run step's script with bash -e in a
// workspace, with the env of the workflow, the job and the step, and the
// files GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and GITHUB_STEP_SUMMARY. The
// actions it meets are stood in for: checkout (the test prepares the
// workspace), cache (keel's executable is there; keel's cache starts empty),
// setup-go (nothing), upload-artifact and download-artifact (a directory).
// Expressions are evaluated from ctx (github.*, secrets.*, vars.*,
// matrix.*, needs.*), the steps' outputs, env and runner; one the test does
// not know fails the test, so that the workflow and the test change together.
type runner struct {
	t  *testing.T
	wf *actionlint.Workflow
	// workspace is the checkout; temp is RUNNER_TEMP; artifacts holds
	// the uploaded artifacts, a directory each.
	workspace, temp, artifacts string
	// ctx holds the values of the expressions' contexts, by path.
	ctx map[string]string
	// override replaces env values of the workflow (a service's URL).
	override map[string]string
	// extraEnv is added to every step's environment (PATH to a fake gh).
	extraEnv map[string]string
}

// jobResult is what a job left: whether it failed, its outputs, its log.
type jobResult struct {
	failed  bool
	outputs map[string]string
	log     string
	summary string
}

func parseWorkflow(t *testing.T, path string) *actionlint.Workflow {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wf, errs := actionlint.Parse(b)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", path, errs[0])
	}
	return wf
}

// job runs the job id with the given contexts.
func (r *runner) job(id string, ctx map[string]string) jobResult {
	t := r.t
	t.Helper()
	job := r.wf.Jobs[id]
	if job == nil {
		t.Fatalf("the workflow has no job %s", id)
	}
	all := map[string]string{}
	for k, v := range r.ctx {
		all[k] = v
	}
	for k, v := range ctx {
		all[k] = v
	}
	s := &jobState{r: r, ctx: all, env: map[string]string{}, steps: map[string]map[string]string{}}
	if job.If != nil && !truthy(s.eval(job.If.Value)) {
		t.Fatalf("job %s would not run: if: %s", id, job.If.Value)
	}
	s.addEnv(r.wf.Env)
	s.addEnv(job.Env)
	var log strings.Builder
	summary := filepath.Join(t.TempDir(), "summary.md")
	for i, step := range job.Steps {
		cond := "success()"
		if step.If != nil {
			cond = step.If.Value
		}
		if !truthy(s.eval(cond)) {
			continue
		}
		stepID := fmt.Sprintf("step%d", i)
		if step.ID != nil {
			stepID = step.ID.Value
		}
		var err error
		switch e := step.Exec.(type) {
		case *actionlint.ExecAction:
			err = s.action(stepID, e)
		case *actionlint.ExecRun:
			err = s.run(stepID, e.Run.Value, step.Env, summary, &log)
		}
		if err != nil {
			fmt.Fprintf(&log, "step %s failed: %v\n", stepID, err)
			s.failed = true
		}
	}
	res := jobResult{failed: s.failed, outputs: map[string]string{}, log: log.String()}
	for _, o := range job.Outputs {
		res.outputs[o.Name.Value] = s.expand(o.Value.Value)
	}
	if b, err := os.ReadFile(summary); err == nil {
		res.summary = string(b)
	}
	return res
}

type jobState struct {
	r      *runner
	ctx    map[string]string
	env    map[string]string
	path   []string
	steps  map[string]map[string]string
	failed bool
}

func (s *jobState) addEnv(env *actionlint.Env) {
	if env == nil {
		return
	}
	for _, v := range env.Vars {
		name := v.Name.Value
		if o, ok := s.r.override[name]; ok {
			s.env[name] = o
		} else {
			s.env[name] = s.expand(v.Value.Value)
		}
	}
}

var exprRE = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// expand replaces the expressions in s by their values.
func (s *jobState) expand(text string) string {
	return exprRE.ReplaceAllStringFunc(text, func(m string) string {
		return s.eval(exprRE.FindStringSubmatch(m)[1])
	})
}

// eval evaluates the expressions this workflow uses: ||, && (JavaScript's
// values), ==, !=, literals, always(), success(), hashFiles() and context
// lookups. No parentheses but a function's.
func (s *jobState) eval(expr string) string {
	expr = strings.TrimSpace(expr)
	if m := exprRE.FindStringSubmatch(expr); m != nil && m[0] == expr {
		expr = m[1]
	}
	if parts := splitTop(expr, "||"); len(parts) > 1 {
		var v string
		for _, p := range parts {
			if v = s.eval(p); truthy(v) {
				return v
			}
		}
		return v
	}
	if parts := splitTop(expr, "&&"); len(parts) > 1 {
		var v string
		for _, p := range parts {
			if v = s.eval(p); !truthy(v) {
				return v
			}
		}
		return v
	}
	for _, op := range []string{"!=", "=="} {
		if parts := splitTop(expr, op); len(parts) == 2 {
			eq := strings.EqualFold(s.eval(parts[0]), s.eval(parts[1]))
			return fmt.Sprint(eq == (op == "=="))
		}
	}
	switch {
	case expr == "always()":
		return "true"
	case expr == "success()":
		return fmt.Sprint(!s.failed)
	case strings.HasPrefix(expr, "'") && strings.HasSuffix(expr, "'"):
		return strings.ReplaceAll(expr[1:len(expr)-1], "''", "'")
	case strings.HasPrefix(expr, "hashFiles("):
		return "hash"
	case expr == "runner.os":
		return "Linux"
	case expr == "runner.temp":
		return s.r.temp
	case strings.HasPrefix(expr, "env."):
		return s.env[strings.TrimPrefix(expr, "env.")]
	case strings.HasPrefix(expr, "steps."):
		// steps.ID.outputs.NAME
		f := strings.Split(expr, ".")
		if len(f) == 4 && f[2] == "outputs" {
			return s.steps[f[1]][f[3]]
		}
	}
	if v, ok := s.ctx[expr]; ok {
		return v
	}
	s.r.t.Fatalf("the test does not know the value of ${{ %s }}: add it to the run's contexts", expr)
	return ""
}

// splitTop splits s on op outside quotes and parentheses.
func splitTop(s, op string) []string {
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(s[i:], op):
			parts = append(parts, s[start:i])
			i += len(op) - 1
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func truthy(v string) bool { return v != "" && v != "false" && v != "0" }

// action stands in for the actions the workflow uses.
func (s *jobState) action(id string, e *actionlint.ExecAction) error {
	uses := e.Uses.Value
	input := func(name string) string {
		if in, ok := e.Inputs[name]; ok && in.Value != nil {
			return s.expand(in.Value.Value)
		}
		return ""
	}
	switch {
	case strings.HasPrefix(uses, "actions/checkout@"), strings.HasPrefix(uses, "actions/setup-go@"):
		return nil
	case strings.HasPrefix(uses, "actions/cache@"):
		// keel's executable is in place; keel's own cache starts empty.
		hit := fmt.Sprint(strings.HasSuffix(input("path"), "keel-bin") && fileExists(filepath.Join(input("path"), "keel")))
		s.steps[id] = map[string]string{"cache-hit": hit}
		return nil
	case strings.HasPrefix(uses, "actions/upload-artifact@"):
		dir := filepath.Join(s.r.artifacts, input("name"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, p := range strings.Fields(input("path")) {
			b, err := os.ReadFile(filepath.Join(s.r.workspace, p))
			if os.IsNotExist(err) && input("if-no-files-found") == "ignore" {
				continue
			}
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, p), b, 0o644); err != nil {
				return err
			}
		}
		return nil
	case strings.HasPrefix(uses, "actions/download-artifact@"):
		dir := filepath.Join(s.r.artifacts, input("name"))
		files, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("no artifact %s in this run: %w", input("name"), err)
		}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(dir, f.Name()))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(s.r.workspace, f.Name()), b, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("the test cannot stand in for %s", uses)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// run runs a step's script as GitHub's runner does on Linux: bash -e.
func (s *jobState) run(id, script string, stepEnv *actionlint.Env, summary string, log *strings.Builder) error {
	t := s.r.t
	if exprRE.MatchString(script) {
		// Expressions in scripts are a way in for injection: the
		// workflow passes them through env.
		t.Fatalf("step %s has an expression in its script: pass it through env", id)
	}
	dir := t.TempDir()
	files := map[string]string{}
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"} {
		files[name] = filepath.Join(dir, name)
		if err := os.WriteFile(files[name], nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "step.sh")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range s.env {
		env[k] = v
	}
	saved := s.env
	s.env = env
	s.addEnv(stepEnv)
	s.env = saved
	for k, v := range s.r.extraEnv {
		env[k] = v
	}
	path := strings.Join(append(append([]string{}, s.path...), os.Getenv("PATH")), string(os.PathListSeparator))
	if p, ok := s.r.extraEnv["PATH"]; ok {
		path = strings.Join(append(append([]string{}, s.path...), p), string(os.PathListSeparator))
	}
	env["PATH"] = path
	env["HOME"] = os.Getenv("HOME")
	// The scratch databases keel keeps on the test server: this test
	// process's own (pgtest.Main), dropped when it ends.
	if v := os.Getenv("KEEL_SCRATCH"); v != "" {
		env["KEEL_SCRATCH"] = v
	}
	env["RUNNER_TEMP"] = s.r.temp
	env["GITHUB_RUN_ID"] = s.ctx["github.run_id"]
	env["GITHUB_STEP_SUMMARY"] = summary
	for name, f := range files {
		env[name] = f
	}
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	cmd := exec.Command("bash", "--noprofile", "--norc", "-e", file)
	cmd.Dir, cmd.Env = s.r.workspace, list
	out, err := cmd.CombinedOutput()
	fmt.Fprintf(log, "--- step %s\n%s", id, out)
	outputs := map[string]string{}
	for name, f := range files {
		b, rerr := os.ReadFile(f)
		if rerr != nil {
			t.Fatal(rerr)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			switch name {
			case "GITHUB_PATH":
				s.path = append([]string{line}, s.path...)
			case "GITHUB_ENV", "GITHUB_OUTPUT":
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					t.Fatalf("step %s wrote %q to %s: want NAME=VALUE", id, line, name)
				}
				if name == "GITHUB_ENV" {
					s.env[k] = v
				} else {
					outputs[k] = v
				}
			}
		}
	}
	s.steps[id] = outputs
	return err
}
