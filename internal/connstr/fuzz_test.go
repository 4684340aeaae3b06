package connstr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The forms FuzzRedact writes a password in.
const (
	formRawUserinfo     = iota // postgres://USER:PASSWORD@HOST/db, the password as is
	formEncodedUserinfo        // postgres://USER:PERCENT-ENCODED@HOST/db
	formEncodedQuery           // postgres://HOST/db?...&password=PERCENT-ENCODED&...
	formRawQuery               // postgres://HOST/db?...&password=PASSWORD, without '&'
	formQuotedKV               // host='HOST' user='USER' password='ESCAPED' dbname=d
	formEscapedKV              // host='HOST' password=ESCAPED dbname=d
	formRawUserinfoQL          // postgresql://USER:PASSWORD@HOST/db
	forms
)

// withPassword writes password in a connection string of the given form,
// with user and host as they are, and returns the string and the password
// as written in it; "" when the form cannot hold this password.
func withPassword(form int, user, host, password string) (s, written string) {
	switch form {
	case formRawUserinfo:
		return "postgres://" + user + ":" + password + "@" + host + "/db?sslmode=disable", password
	case formRawUserinfoQL:
		return "postgresql://" + user + ":" + password + "@" + host, password
	case formEncodedUserinfo:
		w := percentEncode(password)
		return "postgres://" + user + ":" + w + "@" + host + "/db", w
	case formEncodedQuery:
		w := percentEncode(password)
		return "postgres://" + host + "/db?sslmode=disable&password=" + w + "&application_name=" + user, w
	case formRawQuery:
		if strings.Contains(password, "&") {
			return "", ""
		}
		return "postgres://" + host + "/db?password=" + password, password
	case formQuotedKV:
		w := "'" + escapeKV(password, "") + "'"
		return "host=" + quoteKV(host) + " user=" + quoteKV(user) + " password=" + w + " dbname=d", w
	case formEscapedKV:
		w := escapeKV(password, kvSpace)
		return "host=" + quoteKV(host) + " password=" + w + " dbname=d", w
	}
	panic(fmt.Sprintf("no form %d", form))
}

func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// escapeKV puts a backslash before \, ' and the characters in also.
func escapeKV(s, also string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] == '\'' || strings.IndexByte(also, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func quoteKV(s string) string { return "'" + escapeKV(s, "") + "'" }

// once reports whether needle occurs exactly once in s, overlaps counted.
func once(s, needle string) bool {
	i := strings.Index(s, needle)
	return i >= 0 && strings.LastIndex(s, needle) == i
}

// FuzzRedact checks that a password written in any form, with any user and
// host around it, never survives Redact (Redact never decodes, so the
// password as written is what could survive), that HasPassword sees it and
// that Check's message does not show it; and that any input at all goes
// through without a panic.
func FuzzRedact(f *testing.F) {
	const special = `Pw7@Lk:Qz/Ht?Yr#Jm%4Bn' Cv"Ds`
	for _, seed := range []struct {
		form              int
		user, host, pw, s string
	}{
		{formRawUserinfo, "u", "127.0.0.1:55432", "Sec@ret", "postgres://u:Sec@ret@127.0.0.1:55432/db"},
		{formRawUserinfo, "u", "h", "pa/ss", "postgres://u:pa/ss@h/db"},
		{formRawUserinfo, "u", "h", "12/abc?d", "postgres://u:12/abc?d@h/db"},
		{formRawUserinfo, "u", "h", "pa?ss", "postgres://h?password=a@b"},
		{formRawUserinfo, "u", "h", "pa#ss", "POSTGRES://u:s3cret@h/db"},
		{formRawUserinfo, "u", "h:5432", special, "postgres://u:" + special + "@h:5432/db"},
		{formRawUserinfoQL, "u", "h", special, "postgres:/u:pw@h/db"},
		{formEncodedUserinfo, "keel", "127.0.0.1:5432", special, "postgres://u:p%40ss@h/db"},
		{formEncodedUserinfo, "a:b", "h@i", "pw", "postgres://a@b@h/db"},
		{formEncodedQuery, "app", "h", special, "postgres://h/db?password=ab&cd&sslmode=disable"},
		{formEncodedQuery, "a@b", "h?x=1", "s3cret", "postgres://h/db?pass%77ord=pw"},
		{formRawQuery, "u", "h", "ab=cd", "postgres://h/db?password=a@b"},
		{formRawQuery, "u", "[::1?]", "s3cret", "postgres://[::1?]/db?password=pw"},
		{formQuotedKV, "keel", "127.0.0.1", special, `host=h password='p w\'x' dbname=d`},
		{formQuotedKV, `a'b`, `c\`, "pw", "host=h password='pw"},
		{formEscapedKV, "u", "h", special, "host=h password=ab cd dbname=d"},
		{formEscapedKV, "u", "h", `'quoted' \back`, `host=\ password=pw dbname=d`},
		{formEscapedKV, "u", "h", "s3cret", "host=h foo password=pw"},
	} {
		f.Add(uint8(seed.form), seed.user, seed.host, seed.pw, seed.s)
	}
	f.Fuzz(func(t *testing.T, form uint8, user, host, password, s string) {
		_ = Redact(s)
		_ = HasPassword(s)
		_ = Check(s)
		_ = Setting(s, "sslmode")

		// The mask is x's: a password without them cannot be made of it.
		password = strings.ReplaceAll(password, "x", "y")
		conn, written := withPassword(int(form)%forms, user, host, password)
		if len(password) < 2 || written == "" || !once(conn, written) {
			// The password is not one (a password "@" may be the '@' kept
			// where an unreadable URL's user and password are masked), or
			// it occurs elsewhere too.
			return
		}
		out := Redact(conn)
		if strings.Contains(out, written) {
			t.Fatalf("Redact(%q) = %q: it shows the password %q", conn, out, password)
		}
		if !HasPassword(conn) {
			t.Errorf("HasPassword(%q) = false, but it holds the password %q", conn, password)
		}
		var ue *UnreadableError
		if errors.As(Check(conn), &ue) && strings.Contains(ue.Redacted, written) {
			t.Errorf("Check(%q) shows the password: %v", conn, ue)
		}
	})
}
