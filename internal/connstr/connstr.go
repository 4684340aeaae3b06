// Package connstr reads PostgreSQL connection strings without connecting:
// URLs (postgres://user:password@host:port/db?key=value) and keyword/value
// strings (host=h dbname=d password=p), cut up the way libpq and pgx cut them
// up. It shows them without their secrets (Redact), tells whether they hold
// one (HasPassword), and refuses URLs that libpq would read otherwise than
// their author meant (Check): pgx, like libpq, ends the user and password at
// the first '@', so an unencoded '@' in a password moves the rest of it into
// the host.
package connstr

import "strings"

// Mask replaces a secret in Redact's output.
const Mask = "xxxxx"

// Redact returns s with every secret masked: in a URL the userinfo password
// and any password= (or sslpassword=) query value; in a keyword/value string
// the password (and sslpassword) value, quoted or not. Input it cannot read
// for sure is masked more widely, never returned raw: in a URL whose parts
// are ambiguous (see Check), or any string with a "scheme://" or "postgres:"
// prefix it does not recognise, everything between the scheme and the last
// '@'; in a keyword/value string that stops parsing after a password keyword,
// or where "password" appears in the unreadable rest, everything from where
// it stops. Last, the value after any "password=" left anywhere (inside
// another value, in a file path) is masked too. Anything else, a file path
// say, is returned as it is.
func Redact(s string) string {
	out, _ := redact(s)
	return out
}

// HasPassword reports whether s holds a password that Redact would mask: a
// non-empty URL userinfo password or password= query value, a non-empty
// keyword/value password, or, in input that cannot be read for sure, a ':'
// before the last '@' or the word "password" where parsing stops.
func HasPassword(s string) bool {
	_, secret := redact(s)
	return secret
}

// IsURL reports whether s is a connection URI as libpq and pgx recognise
// one: it starts with "postgresql://" or "postgres://".
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgresql://") || strings.HasPrefix(s, "postgres://")
}

// IsKeywordValue reports whether s is a keyword/value connection string: its
// first word is one of libpq's connection keywords followed by '='
// ("host=db1 dbname=app ...").
func IsKeywordValue(s string) bool {
	if IsURL(s) {
		return false
	}
	t := strings.TrimLeft(s, kvSpace)
	eq := strings.IndexByte(t, '=')
	if eq < 0 {
		return false
	}
	return keywords[strings.TrimRight(t[:eq], kvSpace)]
}

// Setting returns the value s gives a keyword, as libpq would read it: the
// last occurrence of key in a URL's query or in a keyword/value string. It
// returns "" when the keyword is absent or s cannot be read for sure.
func Setting(s, key string) string {
	if IsURL(s) {
		u := splitURI(s)
		if u.ambiguous(s) {
			return ""
		}
		q := queryStart(u.rest)
		if q < 0 {
			return ""
		}
		pairs, ok := scanQuery(u.rest[q+1:])
		if !ok {
			return ""
		}
		v := ""
		for _, p := range pairs {
			if p.key == key {
				v = p.value
			}
		}
		return v
	}
	pairs, failAt := scanKeywordValue(s)
	if failAt >= 0 {
		return ""
	}
	v := ""
	for _, p := range pairs {
		if p.key == key {
			v = p.value
		}
	}
	return v
}

// redact is Redact, also reporting whether it masked a secret.
func redact(s string) (string, bool) {
	var (
		out     string
		secret  bool
		urlLike = true
	)
	if IsURL(s) {
		out, secret = redactURL(s)
	} else if start := schemeEnd(s); start >= 0 {
		// Not a URL libpq reads, but shaped like one ("POSTGRES://...",
		// " postgres://...", "postgres:/..."): mask as for an ambiguous URL.
		out, secret = redactUnreadableURL(s, start)
	} else {
		urlLike = false
		out, secret = s, false
		if strings.Contains(s, "=") {
			out, secret = redactKeywordValue(s)
		}
	}
	out, stray := maskStray(out, urlLike)
	return out, secret || stray
}

// maskStray masks the value after any "password=" (any case, white space
// around '=') that the structured pass left as it was: one inside another
// value ("host=\ password=pw" is a host name for pgx) or in text that is not
// a connection string. In a URL the value ends at '&'; otherwise it ends as
// a keyword/value value does.
func maskStray(s string, urlLike bool) (string, bool) {
	lower := asciiLower(s)
	var b strings.Builder
	last, secret := 0, false
	for i := 0; i < len(s); {
		j := strings.Index(lower[i:], "password")
		if j < 0 {
			break
		}
		k := i + j + len("password")
		for k < len(s) && isSpace(s[k]) {
			k++
		}
		if k == len(s) || s[k] != '=' {
			i += j + 1
			continue
		}
		k++
		for !urlLike && k < len(s) && isSpace(s[k]) {
			k++
		}
		end := strayValueEnd(s, k, urlLike)
		v := s[k:end]
		done := v == "" || v == Mask || !urlLike && (v == "''" || v == "'"+Mask+"'")
		if !done {
			b.WriteString(s[last:k])
			if !urlLike && v[0] == '\'' {
				b.WriteString("'" + Mask + "'") // what follows may not be white space
			} else {
				b.WriteString(Mask)
			}
			last, secret = end, true
		}
		i = max(end, k)
		if i == k {
			i++
		}
	}
	if last == 0 {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), secret
}

// strayValueEnd is where a value starting at k ends: at '&' in a URL; at
// white space, or after its closing quote, in keyword/value text.
func strayValueEnd(s string, k int, urlLike bool) int {
	if urlLike {
		if e := strings.IndexByte(s[k:], '&'); e >= 0 {
			return k + e
		}
		return len(s)
	}
	quoted := k < len(s) && s[k] == '\''
	i := k
	if quoted {
		i++
	}
	for ; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case quoted && s[i] == '\'':
			return i + 1
		case !quoted && isSpace(s[i]):
			return i
		}
	}
	return len(s)
}

// schemeEnd returns where what follows a URL-like scheme starts: after the
// first "://", or after a leading "postgres:" or "postgresql:" in any case;
// -1 when s has neither.
func schemeEnd(s string) int {
	if i := strings.Index(s, "://"); i >= 0 {
		return i + len("://")
	}
	t := strings.TrimLeft(s, kvSpace)
	for _, p := range []string{"postgresql:", "postgres:"} {
		if len(t) >= len(p) && strings.EqualFold(t[:len(p)], p) {
			return len(s) - len(t) + len(p)
		}
	}
	return -1
}

// asciiLower lowers the case of ASCII letters only, so that indexes into
// the result are indexes into s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// secretKey reports whether a keyword's value is a secret. libpq's keywords
// are lower case; any case is masked, to be safe.
func secretKey(key string) bool {
	switch strings.ToLower(strings.TrimSpace(key)) {
	case "password", "sslpassword":
		return true
	}
	return false
}

// keywords are libpq's connection keywords (PostgreSQL 17), and pgx's
// spelling of dbname.
var keywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "database": true, "user": true,
	"password": true, "passfile": true, "require_auth": true, "channel_binding": true,
	"connect_timeout": true, "client_encoding": true, "options": true, "application_name": true,
	"fallback_application_name": true, "keepalives": true, "keepalives_idle": true,
	"keepalives_interval": true, "keepalives_count": true, "tcp_user_timeout": true,
	"replication": true, "gssencmode": true, "sslmode": true, "sslnegotiation": true,
	"sslcompression": true, "sslcert": true, "sslkey": true, "sslpassword": true,
	"sslcertmode": true, "sslrootcert": true, "sslcrl": true, "sslcrldir": true, "sslsni": true,
	"requirepeer": true, "ssl_min_protocol_version": true, "ssl_max_protocol_version": true,
	"krbsrvname": true, "gsslib": true, "gssdelegation": true, "service": true,
	"target_session_attrs": true, "load_balance_hosts": true,
}

// Keys returns the libpq keywords s sets, as pgx reads it: what the
// environment (PGHOST, PGUSER, ...) and a service file do not override. In a
// URL the user, password, host, port and database count when not empty (an
// empty part leaves the default, as in libpq), and every query parameter
// counts; in a keyword/value string every keyword does, even with an empty
// value. "database" is spelled "dbname". It returns nil when s cannot be read
// for sure (see Check).
func Keys(s string) map[string]bool {
	keys := map[string]bool{}
	add := func(k string) {
		if k == "database" {
			k = "dbname"
		}
		keys[k] = true
	}
	if !IsURL(s) {
		pairs, failAt := scanKeywordValue(s)
		if failAt >= 0 {
			return nil
		}
		for _, p := range pairs {
			add(p.key)
		}
		return keys
	}
	u := splitURI(s)
	if u.ambiguous(s) {
		return nil
	}
	if u.hasUserinfo {
		user, password, _ := strings.Cut(u.userinfo, ":")
		if user != "" {
			add("user")
		}
		if password != "" {
			add("password")
		}
	}
	rest := u.rest
	q := queryStart(rest)
	query := ""
	if q >= 0 {
		rest, query = rest[:q], rest[q+1:]
	}
	netloc, path, _ := strings.Cut(rest, "/")
	// Several hosts set both lists, empty elements included (pgx: "h1,h2"
	// is host "h1,h2" and port ","), which PGHOST and PGPORT do not override.
	if hosts := strings.Split(netloc, ","); len(hosts) > 1 {
		add("host")
		add("port")
	} else {
		host, port := netloc, ""
		if strings.HasPrefix(netloc, "[") {
			if end := strings.IndexByte(netloc, ']'); end >= 0 {
				host, port = netloc[:end+1], strings.TrimPrefix(netloc[end+1:], ":")
			}
		} else if i := strings.IndexByte(netloc, ':'); i >= 0 {
			host, port = netloc[:i], netloc[i+1:]
		}
		if host != "" {
			add("host")
		}
		if port != "" {
			add("port")
		}
	}
	if path != "" {
		add("dbname")
	}
	if query != "" {
		pairs, ok := scanQuery(query)
		if !ok {
			return nil
		}
		for _, p := range pairs {
			switch {
			case p.key == "ssl" && p.value == "true":
				add("sslmode")
			default:
				add(p.key)
			}
		}
	}
	return keys
}
