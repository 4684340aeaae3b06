package connstr

import (
	"errors"
	"sort"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		secret   bool
	}{
		// URLs that parse: exactly the secret is masked.
		{"postgres://u:pw@h:5432/db", "postgres://u:xxxxx@h:5432/db", true},
		{"postgresql://u:pw@h/db?sslmode=require", "postgresql://u:xxxxx@h/db?sslmode=require", true},
		{"postgres://u:p%40ss%2Fw%3Fd@h/db", "postgres://u:xxxxx@h/db", true},
		{"postgres://u:a:b@h/db", "postgres://u:xxxxx@h/db", true},
		{"postgres://u:pw@h1:5432,h2:5433/db", "postgres://u:xxxxx@h1:5432,h2:5433/db", true},
		{"postgres://u:pw@[::1]:5432/db", "postgres://u:xxxxx@[::1]:5432/db", true},
		{"postgres://u@h/db", "postgres://u@h/db", false},
		{"postgres://u:@h/db", "postgres://u:@h/db", false},
		{"postgres://h/db", "postgres://h/db", false},
		{"postgres://h/db?password=pw&sslmode=disable", "postgres://h/db?password=xxxxx&sslmode=disable", true},
		{"postgres://h?password=pw", "postgres://h?password=xxxxx", true},
		{"postgres://h/db?pass%77ord=pw", "postgres://h/db?pass%77ord=xxxxx", true},
		{"postgres://h/db?PASSWORD=pw", "postgres://h/db?PASSWORD=xxxxx", true},
		{"postgres://h/db?sslpassword=pw", "postgres://h/db?sslpassword=xxxxx", true},
		{"postgres://h/db?password=", "postgres://h/db?password=", false},
		{"postgres://[::1?]/db?password=pw", "postgres://[::1?]/db?password=xxxxx", true},
		// A password with an unencoded '&' splits the query: the rest goes.
		{"postgres://h/db?password=ab&cd&sslmode=disable", "postgres://h/db?password=xxxxx&xxxxx", true},
		// Ambiguous URLs: everything up to the last '@'.
		{"postgres://u:Sec@ret@127.0.0.1:55432/db", "postgres://xxxxx@127.0.0.1:55432/db", true},
		{"postgres://u:pa/ss@h/db", "postgres://xxxxx@h/db", true},
		{"postgres://u:12/abc?d@h/db", "postgres://xxxxx@h/db", true},
		{"postgres://u:pa?ss@h/db", "postgres://xxxxx@h/db", true},
		{"postgres://u:pa#ss@h/db", "postgres://xxxxx@h/db", true},
		{"postgres://h?password=a@b", "postgres://xxxxx@xxxxx", true},
		{"postgres://h/db?password=a@b&sslmode=disable", "postgres://xxxxx@xxxxx&sslmode=disable", true},
		{"postgres://u:Sec@ret@h/db?password=pw", "postgres://xxxxx@h/db?password=xxxxx", true},
		{"postgres://a@b@h/db", "postgres://xxxxx@h/db", false},
		// Shaped like a URL, not one libpq reads.
		{"POSTGRES://u:pw@h/db", "POSTGRES://xxxxx@h/db", true},
		{" postgres://u:pw@h/db", " postgres://xxxxx@h/db", true},
		{"postgres:/u:pw@h/db", "postgres:xxxxx@h/db", true},
		{"mysql://u:pw@h/db", "mysql://xxxxx@h/db", true},
		{"http://h/db?password=pw", "http://h/db?password=xxxxx", true},
		// Keyword/value.
		{"host=h password=pw dbname=d", "host=h password=xxxxx dbname=d", true},
		{"host=h password = pw dbname=d", "host=h password = xxxxx dbname=d", true},
		{`host=h password='p w\'x' dbname=d`, "host=h password=xxxxx dbname=d", true},
		{`host=h password=p\ w dbname=d`, "host=h password=xxxxx dbname=d", true},
		{`password=ab\`, "password=xxxxx", true},
		{"host=h sslpassword=pw", "host=h sslpassword=xxxxx", true},
		{"host=h PASSWORD=pw", "host=h PASSWORD=xxxxx", true},
		// As libpq and pgx read it, the password is "dbname=d".
		{"host=h password= dbname=d", "host=h password= xxxxx", true},
		{"host=h dbname=d password=", "host=h dbname=d password=", false},
		{"host=h password='' dbname=d", "host=h password='' dbname=d", false},
		{"host=h dbname=d", "host=h dbname=d", false},
		// Keyword/value that stops parsing: the rest goes.
		{"host=h password='pw", "host=h xxxxx", true},
		{"host=h password=ab cd dbname=d", "host=h password=xxxxx xxxxx", true},
		{"host=h foo password=pw", "host=h xxxxx", true},
		{"host=h garbage", "host=h garbage", false},
		// A password= inside another value.
		{`host=\ password=pw dbname=d`, `host=\ password=xxxxx dbname=d`, true},
		// Not connection strings.
		{"schema.hcl", "schema.hcl", false},
		{"../db/schema dir/x=1.hcl", "../db/schema dir/x=1.hcl", false},
		{"/tmp/passwords.sql", "/tmp/passwords.sql", false},
		{"", "", false},
	} {
		got := Redact(tc.in)
		if got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := Redact(got); again != got {
			t.Errorf("Redact(Redact(%q)) = %q, want %q", tc.in, again, got)
		}
		if has := HasPassword(tc.in); has != tc.secret {
			t.Errorf("HasPassword(%q) = %v, want %v", tc.in, has, tc.secret)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, ok := range []string{
		"postgres://u:p%40ss@h:5432/db?sslmode=disable",
		"postgres://u:p&s=s:w!d@h/db",
		"postgres://h/db?password=a%40b",
		"postgres://[::1]:5432/db",
		"postgresql:///db?host=/var/run/postgresql",
		"host=h user=u password='Sec@ret@x' dbname=d",
		"schema.hcl",
		"envs/../db",
	} {
		if err := Check(ok); err != nil {
			t.Errorf("Check(%q) = %v, want nil", ok, err)
		}
	}
	for _, tc := range []struct {
		in     string
		hidden []string // never in the message
	}{
		{"postgres://u:Sec@ret@127.0.0.1:55432/db", []string{"Sec", "ret@127.0.0.1"}},
		{"postgres://u:12/abcd?e@h/db", []string{"12", "abcd"}},
		{"postgres://u:pass?word@h/db", []string{"pass?word"}},
		{"postgres://u:pass#word@h/db", []string{"pass#word"}},
		{"postgres://host?password=a1b2@b", []string{"a1b2"}},
		{"postgres://u@h/db?application_name=a@b", nil},
		{"POSTGRES://u:s3cret@h/db", []string{"s3cret"}},
		{" postgres://u:s3cret@h/db", []string{"s3cret"}},
	} {
		err := Check(tc.in)
		var ue *UnreadableError
		if !errors.As(err, &ue) {
			t.Errorf("Check(%q) = %v, want an *UnreadableError", tc.in, err)
			continue
		}
		msg := err.Error()
		for _, h := range tc.hidden {
			if strings.Contains(msg, h) {
				t.Errorf("Check(%q): the message shows %q: %s", tc.in, h, msg)
			}
		}
		if ue.Ambiguous && !strings.Contains(msg, "%40") {
			t.Errorf("Check(%q): the message does not say to write '@' as %%40: %s", tc.in, msg)
		}
	}
}

func TestIsKeywordValue(t *testing.T) {
	for s, want := range map[string]bool{
		"host=h dbname=d":           true,
		"  dbname = d":              true,
		"password=x":                true,
		"user=u":                    true,
		"x=y":                       false,
		"schema.hcl":                false,
		"dir/host=x.hcl":            false,
		"postgres://h/db?host=x":    false,
		"postgresql://u@h/db?x=1":   false,
		"":                          false,
		"sslmode=require host=h":    true,
		"application_name=a host=h": true,
	} {
		if got := IsKeywordValue(s); got != want {
			t.Errorf("IsKeywordValue(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestSetting(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:pw@h/db?sslmode=require", "require"},
		{"postgres://u:pw@h/db?sslmode=disable&sslmode=verify-full", "verify-full"},
		{"postgres://u:pw@h/db?ssl%6Dode=require", "require"},
		{"postgres://u:x%3Fsslmode=disable@h/db?sslmode=require", "require"},
		{"postgres://u:x?sslmode=disable@h/db?sslmode=require", ""}, // ambiguous
		{"postgres://u:pw@h/db", ""},
		{"host=h sslmode=verify-ca", "verify-ca"},
		{"host=h sslmode = 'require' dbname=d", "require"},
		{"host=h password='sslmode=disable' sslmode=require", "require"},
		{"host=h sslmode='require", ""}, // does not parse
	} {
		if got := Setting(tc.in, "sslmode"); got != tc.want {
			t.Errorf("Setting(%q, sslmode) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Keys says which settings a connection string gives, so that only the
// others come from the environment (PGHOST, PGUSER, ...), as in libpq.
func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // the keys, sorted, space-separated
	}{
		{"postgres://u:pw@h:5433/db?sslmode=require", "dbname host password port sslmode user"},
		{"postgres:///db", "dbname"},
		{"postgres://", ""},
		{"postgres://u@/", "user"},
		{"postgres://u:@h/", "host user"},
		{"postgres://h:/db", "dbname host"},
		{"postgres://[::1]:5432", "host port"},
		{"postgres://h1,h2/db", "dbname host port"},
		{"postgresql://h?database=db&ssl=true&service=s", "dbname host service sslmode"},
		{"host=h dbname='' password='x y'", "dbname host password"},
		{"service=keel", "service"},
		{"", ""},
	} {
		var got []string
		for k := range Keys(tc.in) {
			got = append(got, k)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != tc.want {
			t.Errorf("Keys(%q) = %v, want %s", tc.in, got, tc.want)
		}
	}
	if Keys("postgres://u:Sec@ret@h/db") != nil {
		t.Error("Keys of an ambiguous URL: want nil")
	}
}
