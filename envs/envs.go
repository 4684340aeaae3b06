// Package envs loads environment profiles: one HCL file per environment in a
// directory (envs/dev.hcl, ...), saying which database to use and what keel
// may do there. It holds data and validation only; the planner never imports it.
package envs

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"keel/internal/hclerr"
)

// ApplyMode says what `keel apply` does in an environment.
type ApplyMode string

// The apply modes.
const (
	// ApplyAuto plans and applies at once.
	ApplyAuto ApplyMode = "auto"
	// ApplyReview applies only a saved plan that a reviewer approved.
	ApplyReview ApplyMode = "review"
)

// Profile is one environment.
type Profile struct {
	// Name is the file's name without .hcl.
	Name string
	// File is the profile's path.
	File string
	// Root is the directory relative paths are resolved against: the parent of the profiles' directory.
	Root string
	Settings
}

// Settings are the attributes of a profile file.
type Settings struct {
	// URLEnv names the environment variable that holds the database URL.
	URLEnv string `hcl:"url_env"`
	// DefaultURL is used when URLEnv is not set; it may not hold a password.
	DefaultURL string `hcl:"default_url,optional"`
	// Schema is the desired state (default schema.hcl): an .hcl or .sql
	// file or directory, or a postgres:// URL without a password.
	Schema string `hcl:"schema,optional"`
	// Schemas are the managed schemas; empty means those the desired state declares.
	Schemas []string `hcl:"schemas,optional"`
	// DevURL points the throwaway normalization database at another server.
	DevURL string `hcl:"dev_url,optional"`
	// Apply is the apply mode.
	Apply ApplyMode `hcl:"apply"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Names lists the profiles in dir.
func Names(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".hcl"))
	}
	sort.Strings(names)
	return names, nil
}

// Load reads profile name from dir.
func Load(dir, name string) (*Profile, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("no profile directory %s: run keel from the project's top directory, or pass --envs-dir", dir)
	}
	known, err := Names(dir)
	if err != nil {
		return nil, err
	}
	if !nameRE.MatchString(name) || !contains(known, name) {
		return nil, fmt.Errorf("unknown env %q: the envs in %s are: %s", name, dir, strings.Join(known, ", "))
	}
	file := filepath.Join(dir, name+".hcl")
	parser := hclparse.NewParser()
	f, diags := parser.ParseHCLFile(file)
	if diags.HasErrors() {
		return nil, hclerr.Wrap(diags)
	}
	p := &Profile{Name: name, File: file}
	if diags := gohcl.DecodeBody(f.Body, nil, &p.Settings); diags.HasErrors() {
		return nil, hclerr.Wrap(diags)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p.Root = filepath.Dir(abs)
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return p, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *Profile) validate() error {
	switch p.Apply {
	case ApplyAuto, ApplyReview:
	default:
		return fmt.Errorf("apply = %q: expected \"auto\" or \"review\"", p.Apply)
	}
	if p.URLEnv == "" {
		return errors.New("url_env is empty: name the environment variable that holds the database URL")
	}
	for k, v := range map[string]string{"default_url": p.DefaultURL, "dev_url": p.DevURL, "schema": p.Schema} {
		if hasPassword(v) {
			return fmt.Errorf("%s holds a password: move the URL into an environment variable", k)
		}
	}
	if p.Schema == "" {
		p.Schema = "schema.hcl"
	}
	return nil
}

func hasPassword(raw string) bool {
	if raw == "" {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return strings.Contains(raw, "password")
	}
	_, ok := u.User.Password()
	return ok || u.Query().Has("password")
}

// URL returns the database URL: the environment variable's value, else the
// profile's default. It errors when neither is set.
func (p *Profile) URL() (string, error) {
	if v := os.Getenv(p.URLEnv); v != "" {
		return v, nil
	}
	if p.DefaultURL != "" {
		return p.DefaultURL, nil
	}
	return "", fmt.Errorf("env %s: %s is not set: export it with the database URL, or pass --url", p.Name, p.URLEnv)
}

// SchemaPath returns the desired-state path, resolved against the project
// root, or the desired database's URL.
func (p *Profile) SchemaPath() string {
	if filepath.IsAbs(p.Schema) || strings.Contains(p.Schema, "://") {
		return p.Schema
	}
	return filepath.Join(p.Root, p.Schema)
}
