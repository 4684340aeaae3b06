package doctor

import (
	"strings"
	"testing"

	"keel/planner/pg"
	"keel/planner/plan"
)

func TestAllowListAllows(t *testing.T) {
	for _, tc := range []struct {
		setting, value, ext string
		want                bool
	}{
		{"azure.extensions", "", "uuid-ossp", false},
		{"azure.extensions", "PG_TRGM,UUID-OSSP", "uuid-ossp", true},
		{"azure.extensions", "pg_trgm, hstore", "hstore", true},
		{"azure.extensions", "pg_trgm,hstore", "uuid-ossp", false},
		{"azure.extensions", "uuid", "uuid-ossp", false},
		{"azure.extensions", "uuid-ossp-extra", "uuid-ossp", false},
		{"rds.allowed_extensions", "*", "postgis", true},
		{"rds.allowed_extensions", "", "postgis", true},
		{"rds.allowed_extensions", "pg_trgm,uuid-ossp", "uuid-ossp", true},
		{"rds.allowed_extensions", "pg_trgm", "uuid-ossp", false},
	} {
		if got := (AllowList{Setting: tc.setting, Value: tc.value}).Allows(tc.ext); got != tc.want {
			t.Errorf("%s = %q: Allows(%q) = %v, want %v", tc.setting, tc.value, tc.ext, got, tc.want)
		}
	}
}

func ptr(s string) *string { return &s }

func TestExtensionCheck(t *testing.T) {
	trusted := []extVersion{{Version: "1.0", Superuser: true, Trusted: true}, {Version: "1.1", Superuser: true, Trusted: true}}
	untrusted := []extVersion{{Version: "3.4", Superuser: true}}
	for _, tc := range []struct {
		name   string
		want   plan.Extension
		facts  extFacts
		p      platform
		status Status
		says   []string // in the message or the fix
	}{
		{"missing", plan.Extension{Name: "nope", Pos: "schema.hcl:3"}, extFacts{}, platform{}, Fail,
			[]string{`"nope"`, "schema.hcl:3", "not available", "install the package"}},
		{"trusted, default version", plan.Extension{Name: "uuid-ossp"}, extFacts{Versions: trusted, Default: "1.1"}, platform{}, OK,
			[]string{"1.1", "trusted"}},
		{"version not available", plan.Extension{Name: "uuid-ossp", Version: "2.0"}, extFacts{Versions: trusted, Default: "1.1"}, platform{}, Fail,
			[]string{"version 2.0", "1.0, 1.1"}},
		{"installed", plan.Extension{Name: "uuid-ossp"}, extFacts{Versions: trusted, Default: "1.1", Installed: "1.1"}, platform{azureExtensions: ptr("")}, OK,
			[]string{"installed"}},
		{"installed, no longer installable afresh", plan.Extension{Name: "uuid-ossp"}, extFacts{Default: "1.1", Installed: "1.0"}, platform{}, OK,
			[]string{"installed, version 1.0"}},
		{"installed, another version wanted", plan.Extension{Name: "uuid-ossp", Version: "1.1"}, extFacts{Versions: trusted, Default: "1.1", Installed: "1.0"}, platform{}, OK,
			[]string{"installed, version 1.0", "1.1 is available to update to"}},
		{"untrusted, not superuser", plan.Extension{Name: "postgis"}, extFacts{Versions: untrusted, Default: "3.4"}, platform{}, Fail,
			[]string{"superuser", `CREATE EXTENSION IF NOT EXISTS "postgis"`}},
		{"untrusted, superuser", plan.Extension{Name: "postgis"}, extFacts{Versions: untrusted, Default: "3.4"}, platform{superuser: true}, OK,
			[]string{"superuser"}},
		{"azure: not allow-listed", plan.Extension{Name: "uuid-ossp"}, extFacts{Versions: trusted, Default: "1.1"}, platform{azureExtensions: ptr("pg_trgm")}, Fail,
			[]string{"azure.extensions", `"pg_trgm"`, "--value pg_trgm,uuid-ossp"}},
		{"azure: allow-listed, untrusted", plan.Extension{Name: "postgis"}, extFacts{Versions: untrusted, Default: "3.4"}, platform{azureExtensions: ptr("POSTGIS")}, OK,
			[]string{"allow-listed"}},
		{"rds: not allowed", plan.Extension{Name: "uuid-ossp"}, extFacts{Versions: trusted, Default: "1.1"}, platform{rdsExtensions: ptr("hstore")}, Fail,
			[]string{"rds.allowed_extensions", "parameter group"}},
		{"rds: all allowed", plan.Extension{Name: "uuid-ossp"}, extFacts{Versions: trusted, Default: "1.1"}, platform{rdsExtensions: ptr("*")}, OK,
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := extensionCheck(tc.want, tc.facts, tc.p)
			if c.Status != tc.status {
				t.Fatalf("status %s, want %s: %s", c.Status, tc.status, c.Line())
			}
			if c.Name != "extension "+tc.want.Name {
				t.Errorf("name %q", c.Name)
			}
			if c.Status != OK && c.Fix == "" {
				t.Errorf("no fix: %s", c.Line())
			}
			for _, s := range tc.says {
				if !strings.Contains(c.Line(), s) {
					t.Errorf("%q missing from: %s", s, c.Line())
				}
			}
		})
	}
}

func TestTLSCheck(t *testing.T) {
	enc := tlsState{encrypted: true, protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384"}
	for _, tc := range []struct {
		name   string
		req    string
		s      tlsState
		local  bool
		verify pg.ServerVerification
		status Status
	}{
		{"encrypted, no requirement", "", enc, false, pg.VerifyNone, OK},
		{"plain, local", "", tlsState{}, true, pg.VerifyNone, OK},
		{"plain, remote", "prefer", tlsState{}, false, pg.VerifyNone, Warn},
		{"plain, required", "require", tlsState{}, true, pg.VerifyNone, Fail},
		{"encrypted, required", "require", enc, false, pg.VerifyNone, OK},
		{"encrypted, verify-full required, not verified", "verify-full", enc, false, pg.VerifyCA, Fail},
		{"encrypted, verify-full required and done", "verify-full", enc, false, pg.VerifyFull, OK},
	} {
		c := tlsCheck(tc.req, tc.s, tc.local, tc.verify)
		if c.Status != tc.status {
			t.Errorf("%s: status %s, want %s: %s", tc.name, c.Status, tc.status, c.Line())
		}
		if c.Status != OK && c.Fix == "" {
			t.Errorf("%s: no fix: %s", tc.name, c.Line())
		}
		if tc.s.encrypted && !strings.Contains(c.Message, "TLSv1.3") {
			t.Errorf("%s: protocol missing: %s", tc.name, c.Line())
		}
	}
}

func TestNeedsOfPlan(t *testing.T) {
	p := &plan.Plan{Steps: []plan.Step{
		{Action: plan.ActionCreate, Object: "schema billing"},
		{Action: plan.ActionCreate, Object: "extension uuid-ossp"},
		{Action: plan.ActionCreate, Object: "table billing.invoices"},
		{Action: plan.ActionCreate, Object: "table public.users"},
		{Action: plan.ActionCreate, Object: "table public.users"},
		{Action: plan.ActionAlter, Object: "table public.orders"},
		{Action: plan.ActionDrop, Object: "enum public.old_status"},
		{Action: plan.ActionAlter, Object: "extension pg_trgm"},
	}}
	var got []string
	for _, n := range needsOfPlan(p, "app").list {
		got = append(got, n.checkName()+": "+whyText(n.why))
	}
	want := []string{
		"privilege CREATE on database app: create schema billing, install extension uuid-ossp",
		"privilege USAGE on schema public: create table public.users, alter table public.orders, drop enum public.old_status",
		"privilege CREATE on schema public: create table public.users",
		"owner of table public.orders: alter table public.orders",
		"owner of enum public.old_status: drop enum public.old_status",
		"owner of extension pg_trgm: alter extension pg_trgm",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("needs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
