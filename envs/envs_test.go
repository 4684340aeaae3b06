package envs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeProfiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "envs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadErrors(t *testing.T) {
	dir := writeProfiles(t, map[string]string{
		"dev.hcl":      "url_env = \"DATABASE_URL\"\napply = \"auto\"\n",
		"typo.hcl":     "url_env = \"DATABASE_URL\"\napply = \"auto\"\nlock_wiat = \"5s\"\n",
		"badmode.hcl":  "url_env = \"X\"\napply = \"sometimes\"\n",
		"password.hcl": "url_env = \"X\"\napply = \"auto\"\ndefault_url = \"postgres://u:pw@h/db\"\n",
		"badtls.hcl":   "url_env = \"X\"\napply = \"auto\"\ntls = \"strict\"\n",
		"keel.hcl":     "url_env = \"X\"\napply = \"auto\"\nschemas = [\"public\", \"keel\"]\n",
	})
	for _, tc := range []struct{ env, want string }{
		{"nope", `unknown env "nope": the envs in ` + dir + ` are: badmode, badtls, dev, keel, password, typo`},
		{"typo", filepath.Join(dir, "typo.hcl") + ":3:1: Unsupported argument"},
		{"badmode", `apply = "sometimes": expected "auto" or "review"`},
		{"password", "default_url holds a password"},
		{"badtls", `tls = "strict"`},
		{"keel", `"keel" is keel's own schema`},
	} {
		_, err := Load(dir, tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("env %s: error %v, want one containing %q", tc.env, err, tc.want)
		}
	}
	p, err := Load(dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if p.Schema != "schema.hcl" || p.TLS != "disable" || p.LockWaitDuration().String() != "10s" {
		t.Errorf("defaults: schema %q tls %q lock_wait %s", p.Schema, p.TLS, p.LockWaitDuration())
	}
	if got, want := p.SchemaPath(), filepath.Join(filepath.Dir(dir), "schema.hcl"); got != want {
		t.Errorf("SchemaPath %s, want %s", got, want)
	}
}

func TestCheckTLS(t *testing.T) {
	prod := &Profile{Name: "prod", File: "envs/prod.hcl", Settings: Settings{TLS: "require"}}
	dev := &Profile{Name: "dev", Settings: Settings{TLS: "disable"}}
	for _, tc := range []struct {
		p             *Profile
		sslmode, host string
		err, warn     bool
	}{
		{prod, "disable", "127.0.0.1", true, false},
		{prod, "allow", "127.0.0.1", true, false},
		{prod, "prefer", "db.internal", true, false},
		{prod, "require", "127.0.0.1", false, false},
		{prod, "require", "localhost", false, false},
		{prod, "require", "db.example.com", false, true},
		{prod, "verify-ca", "10.0.0.5", false, true},
		{prod, "verify-full", "db.example.com", false, false},
		{dev, "disable", "127.0.0.1", false, false},
		{dev, "prefer", "db.example.com", false, false},
	} {
		warn, err := tc.p.CheckTLS(tc.sslmode, "", tc.host)
		if (err != nil) != tc.err || (warn != "") != tc.warn {
			t.Errorf("%s sslmode=%s host=%s: err %v, warning %q", tc.p.Name, tc.sslmode, tc.host, err, warn)
		}
		if err != nil && !strings.Contains(err.Error(), "sslmode=verify-full") {
			t.Errorf("the error does not say which sslmode to use: %v", err)
		}
	}
}

// A sslmode the URL does not give is refused naming where it came from.
func TestCheckTLSNamesPGSSLMODE(t *testing.T) {
	prod := &Profile{Name: "prod", File: "envs/prod.hcl", Settings: Settings{TLS: "require"}}
	_, err := prod.CheckTLS("disable", "PGSSLMODE", "db.internal")
	if err == nil || !strings.Contains(err.Error(), "sslmode=disable (from PGSSLMODE") {
		t.Errorf("err %v, want it to say the sslmode came from PGSSLMODE", err)
	}
}

// Without --envs-dir, the profiles are found walking up from the current
// directory to the one holding envs/, and a profile's schema is relative to
// that directory, wherever keel runs.
func TestFindWalksUp(t *testing.T) {
	project := t.TempDir()
	dir := filepath.Join(project, "envs")
	deep := filepath.Join(project, "db", "migrations")
	// A directory named envs without profiles (a virtualenv's, say) is not it.
	for _, d := range []string{dir, filepath.Join(deep, "envs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "dev.hcl"), []byte("url_env = \"DATABASE_URL\"\napply = \"auto\"\nschema = \"db/schema.hcl\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	p, err := Load("", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.SchemaPath(), filepath.Join(project, "db", "schema.hcl"); !sameFile(got, want) {
		t.Errorf("SchemaPath %s, want %s", got, want)
	}

	t.Chdir(t.TempDir())
	_, err = Load("", "dev")
	if err == nil || !strings.Contains(err.Error(), "no envs directory") || !strings.Contains(err.Error(), "--envs-dir") {
		t.Errorf("outside a project: %v, want where keel looked and --envs-dir", err)
	}
	wd, _ := os.Getwd()
	if err != nil && !strings.Contains(err.Error(), wd) {
		t.Errorf("the error does not say where keel looked (%s): %v", wd, err)
	}
	// --envs-dir wins, from anywhere.
	if p, err := Load(dir, "dev"); err != nil || !sameFile(p.SchemaPath(), filepath.Join(project, "db", "schema.hcl")) {
		t.Errorf("Load(%s): %v, %v", dir, err, p)
	}
	if _, err := Load(filepath.Join(project, "nope"), "dev"); err == nil || !strings.Contains(err.Error(), "KEEL_ENVS_DIR") {
		t.Errorf("a missing --envs-dir: %v", err)
	}
}

// sameFile reports whether two paths name the same file, links resolved
// (the schema file need not exist: its directory does).
func sameFile(a, b string) bool {
	da, err1 := filepath.EvalSymlinks(filepath.Dir(a))
	db, err2 := filepath.EvalSymlinks(filepath.Dir(b))
	return err1 == nil && err2 == nil && da == db && filepath.Base(a) == filepath.Base(b)
}

func TestNormalizeRefused(t *testing.T) {
	for _, tc := range []struct {
		settings Settings
		refused  bool
	}{
		{Settings{Apply: ApplyAuto}, false},
		{Settings{Apply: ApplyReview}, true},
		{Settings{Apply: ApplyReview, NormalizeOnTarget: true}, false},
	} {
		p := &Profile{Name: "prod", File: "envs/prod.hcl", Settings: tc.settings}
		if got := p.NormalizeRefused() != ""; got != tc.refused {
			t.Errorf("%+v: refused = %v, want %v", tc.settings, got, tc.refused)
		}
	}
}

func TestNoPasswordInAProfile(t *testing.T) {
	const secret = "Pw7@Lk:Qz"
	dir := writeProfiles(t, map[string]string{
		"kvdev.hcl":     "url_env = \"X\"\napply = \"auto\"\ndev_url = \"host=127.0.0.1 user=u password='" + secret + "' dbname=d\"\n",
		"querydev.hcl":  "url_env = \"X\"\napply = \"auto\"\ndev_url = \"postgres://u@127.0.0.1/d?sslmode=disable&password=Pw7%40Lk%3AQz\"\n",
		"kvschema.hcl":  "url_env = \"X\"\napply = \"auto\"\nschema = \"host=127.0.0.1 dbname=d password=" + secret + "\"\n",
		"ambiguous.hcl": "url_env = \"X\"\napply = \"auto\"\ndefault_url = \"postgres://u:" + secret + "@127.0.0.1:5432/d\"\n",
		"kvok.hcl":      "url_env = \"X\"\napply = \"auto\"\nschema = \"host=127.0.0.1 dbname=staging\"\n",
	})
	for env, want := range map[string]string{
		"kvdev":     "dev_url holds a password",
		"querydev":  "dev_url holds a password",
		"kvschema":  "schema holds a password",
		"ambiguous": "%40",
	} {
		_, err := Load(dir, env)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("env %s: error %v, want one containing %q", env, err, want)
			continue
		}
		for _, part := range []string{secret, "Pw7", "Lk:Qz", "Pw7%40Lk%3AQz"} {
			if strings.Contains(err.Error(), part) {
				t.Errorf("env %s: the error shows %q: %v", env, part, err)
			}
		}
	}
	p, err := Load(dir, "kvok")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.SchemaPath(); got != "host=127.0.0.1 dbname=staging" {
		t.Errorf("SchemaPath of a keyword/value connection string: %q, want it as it is", got)
	}
}
