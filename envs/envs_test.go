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
		warn, err := tc.p.CheckTLS(tc.sslmode, tc.host)
		if (err != nil) != tc.err || (warn != "") != tc.warn {
			t.Errorf("%s sslmode=%s host=%s: err %v, warning %q", tc.p.Name, tc.sslmode, tc.host, err, warn)
		}
		if err != nil && !strings.Contains(err.Error(), "sslmode=verify-full") {
			t.Errorf("the error does not say which sslmode to use: %v", err)
		}
	}
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
