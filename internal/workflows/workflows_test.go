// Package workflows checks the repository's GitHub Actions workflows with
// actionlint: syntax, expressions and their types, contexts available where
// they are used, the inputs of well-known actions, and the shell scripts of
// run steps when shellcheck is installed.
package workflows

import (
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// workflowsDir is .github/workflows at the repository's root.
const workflowsDir = "../../.github/workflows"

func newLinter(t *testing.T) *actionlint.Linter {
	t.Helper()
	opts := &actionlint.LinterOptions{}
	// shellcheck checks the run scripts where it is installed (CI images
	// have it); without it the rest is still checked.
	if path, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = path
	}
	l, err := actionlint.NewLinter(io.Discard, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestWorkflowsLint(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(workflowsDir, "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no workflow in %s", workflowsDir)
	}
	errs, err := newLinter(t).LintFiles(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("%s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
}

// The check finds mistakes: a broken workflow does not pass.
func TestLintFindsMistakes(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key": {`on: push
jobs:
  plan:
    runs-on: ubuntu-latest
    enviroment: production
    steps:
      - run: echo hi
`, `unexpected key "enviroment"`},
		"unknown context": {`on: push
jobs:
  plan:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.pull_request.numbr }}" > /dev/null
        env:
          X: ${{ secret.TOKEN }}
`, `undefined variable "secret"`},
		"missing needs": {`on: push
jobs:
  apply:
    needs: plan
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
`, `job "apply" needs job "plan" which does not exist`},
	} {
		t.Run(name, func(t *testing.T) {
			errs, err := newLinter(t).Lint(filepath.Join(t.TempDir(), ".github", "workflows", "broken.yml"), []byte(tc.yaml), nil)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Message)
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.want) {
				t.Fatalf("findings %q, want one with %q", msgs, tc.want)
			}
		})
	}
}
