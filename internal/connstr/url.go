package connstr

import "strings"

// uri is a connection URI cut up as libpq (conninfo_uri_parse_options) and
// pgx cut it up: the user and password end at the first '@' that comes before
// any '/'; a '?' or '#' does not end them.
type uri struct {
	scheme string // "postgresql://" or "postgres://"
	// userinfo is "user[:password]", without the '@'; hasUserinfo says
	// whether there was an '@' to end it.
	userinfo    string
	hasUserinfo bool
	// rest is what follows: hosts and ports, path, query.
	rest string
}

// splitURI cuts a string for which IsURL holds.
func splitURI(s string) uri {
	u := uri{scheme: "postgres://"}
	if strings.HasPrefix(s, "postgresql://") {
		u.scheme = "postgresql://"
	}
	u.rest = s[len(u.scheme):]
	if i := strings.IndexAny(u.rest, "@/"); i >= 0 && u.rest[i] == '@' {
		u.userinfo, u.hasUserinfo, u.rest = u.rest[:i], true, u.rest[i+1:]
	}
	return u
}

// ambiguous reports whether s (cut as u) may be read otherwise than its
// author meant, so that part of a password could land in the host, port,
// database or parameters, and be shown there. A URL may hold one '@', the one
// that ends the user and password, and they may not hold a '?' or '#':
//   - a second '@' is an unencoded '@' in a password, or cannot be told from
//     one ("postgres://u:Sec@ret@db/app" is password "Sec" on host "ret@db");
//   - an '@' that ends no user and password came after a '/': an unencoded
//     '/' in a password moved the rest of it into the port and database
//     ("postgres://u:12/abc?d@db/app" is host "u", port 12, database "abc");
//   - a '?' or '#' ends the user and password by RFC 3986, not for libpq:
//     "postgres://db?password=a@b" is user "db?password=a" on host "b".
func (u uri) ambiguous(s string) bool {
	switch strings.Count(s, "@") {
	case 0:
		return false
	case 1:
		return !u.hasUserinfo || strings.ContainsAny(u.userinfo, "?#")
	}
	return true
}

// queryStart returns the index of the '?' that starts the query in rest (a
// URI after its userinfo), or -1. Like pgx's parser it skips a bracketed IPv6
// host, whose contents may hold a '?'.
func queryStart(rest string) int {
	i := 0
	for {
		if i < len(rest) && rest[i] == '[' {
			end := strings.IndexByte(rest[i:], ']')
			if end < 0 {
				return strings.IndexByte(rest, '?')
			}
			i += end + 1
		}
		for i < len(rest) && rest[i] != '/' && rest[i] != '?' && rest[i] != ',' {
			i++
		}
		if i < len(rest) && rest[i] == ',' {
			i++
			continue
		}
		break
	}
	switch {
	case i == len(rest):
		return -1
	case rest[i] == '?':
		return i
	}
	if j := strings.IndexByte(rest[i:], '?'); j >= 0 {
		return i + j
	}
	return -1
}

// redactURL redacts a string for which IsURL holds.
func redactURL(s string) (string, bool) {
	u := splitURI(s)
	if u.ambiguous(s) {
		return redactUnreadableURL(s, len(u.scheme))
	}
	var b strings.Builder
	b.WriteString(u.scheme)
	secret := false
	if u.hasUserinfo {
		user, password, hasPassword := strings.Cut(u.userinfo, ":")
		b.WriteString(user)
		if hasPassword {
			b.WriteByte(':')
			if password != "" {
				b.WriteString(Mask)
				secret = true
			}
		}
		b.WriteByte('@')
	}
	tail, tailSecret := redactURLTail(u.rest)
	b.WriteString(tail)
	return b.String(), secret || tailSecret
}

// redactUnreadableURL masks everything between start (just after the
// scheme) and the last '@', and the password parameters after that. When
// that '@' is inside a password= value (no '&' came after the key), what
// follows it up to the next '&' is the rest of that value, and is masked too.
func redactUnreadableURL(s string, start int) (string, bool) {
	at := strings.LastIndexByte(s, '@')
	if at < start {
		tail, secret := redactURLTail(s[start:])
		return s[:start] + tail, secret
	}
	masked, rest := s[start:at], s[at+1:]
	secret := strings.Contains(masked, ":")
	if k := strings.LastIndex(asciiLower(masked), "password"); k >= 0 {
		secret = true
		if v := masked[k:]; strings.Contains(v, "=") && !strings.Contains(v, "&") {
			end := strings.IndexByte(rest, '&')
			if end < 0 {
				end = len(rest)
			}
			if end > 0 {
				rest = Mask + rest[end:]
			}
		}
	}
	tail, tailSecret := redactURLTail(rest)
	return s[:start] + Mask + "@" + tail, secret || tailSecret
}

// redactURLTail masks the password parameters in the query of rest.
func redactURLTail(rest string) (string, bool) {
	q := queryStart(rest)
	if q < 0 {
		return rest, false
	}
	query, secret := redactQuery(rest[q+1:])
	return rest[:q+1] + query, secret
}

// queryPair is one key=value of a URI's query.
type queryPair struct {
	raw        string // as written
	rawKey     string
	key, value string // percent-decoded
	ok         bool   // one '=', as libpq requires
}

// scanQuery splits a query as libpq does: pairs separated by '&', each with
// exactly one '='. ok is false when a pair is malformed (libpq refuses it).
func scanQuery(query string) (pairs []queryPair, ok bool) {
	ok = true
	for _, raw := range strings.Split(query, "&") {
		k, v, found := strings.Cut(raw, "=")
		p := queryPair{raw: raw, rawKey: k, key: decode(k), value: decode(v), ok: found && !strings.Contains(v, "=")}
		ok = ok && p.ok
		pairs = append(pairs, p)
	}
	return pairs, ok
}

// redactQuery masks the values of password keys. A password holding an
// unencoded '&' makes the query malformed or splits it: once a password key
// was seen, a malformed pair masks everything from there on.
func redactQuery(query string) (string, bool) {
	pairs, _ := scanQuery(query)
	var b strings.Builder
	secret, seen := false, false
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		if seen && !p.ok {
			b.WriteString(Mask)
			return b.String(), true
		}
		if !secretKey(p.key) {
			b.WriteString(p.raw)
			continue
		}
		seen = true
		b.WriteString(p.rawKey)
		_, v, _ := strings.Cut(p.raw, "=")
		if v == "" {
			b.WriteByte('=')
			continue
		}
		b.WriteString("=" + Mask)
		secret = true
	}
	return b.String(), secret
}

// decode percent-decodes what it can and leaves the rest as it is; leading
// and trailing spaces go, as in libpq.
func decode(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
