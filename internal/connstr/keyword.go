package connstr

import "strings"

// kvSpace is the white space that separates keyword/value pairs.
const kvSpace = " \t\n\r\v\f"

// kvPair is one keyword=value of a keyword/value connection string.
type kvPair struct {
	key, value string // value unquoted and unescaped
	// valStart and valEnd delimit the value as written, quotes included.
	valStart, valEnd int
}

// scanKeywordValue splits s as pgx (parseKeywordValueSettings) and libpq do:
// keyword, '=', and a value that is either quoted with ' (\ escapes) or runs
// to the next white space (\ escapes too). failAt is where the pair that
// could not be read starts, -1 when all of s was read.
func scanKeywordValue(s string) (pairs []kvPair, failAt int) {
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return pairs, -1
		}
		start := i
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return pairs, start
		}
		key := strings.Trim(s[i:i+eq], kvSpace)
		if key == "" || strings.ContainsAny(key, kvSpace) {
			return pairs, start
		}
		j := i + eq + 1
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		p := kvPair{key: key, valStart: j, valEnd: j}
		switch {
		case j == len(s):
		case s[j] != '\'':
			end := j
			for ; end < len(s); end++ {
				if isSpace(s[end]) {
					break
				}
				if s[end] == '\\' {
					end++
					if end == len(s) {
						break
					}
				}
			}
			p.value, p.valEnd = unescape(s[j:end]), end
		default:
			end := j + 1
			for ; end < len(s); end++ {
				if s[end] == '\'' {
					break
				}
				if s[end] == '\\' {
					end++
					if end == len(s) {
						break
					}
				}
			}
			if end >= len(s) {
				return pairs, start // unterminated quote
			}
			p.value, p.valEnd = unescape(s[j+1:end]), end+1
		}
		pairs = append(pairs, p)
		i = p.valEnd
	}
}

func isSpace(c byte) bool { return strings.IndexByte(kvSpace, c) >= 0 }

// unescape drops the backslashes of escaped characters.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			if i == len(s) {
				break
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// redactKeywordValue masks the values of password keywords. Where s stops
// parsing after a password keyword (a password with an unquoted space, an
// unterminated quote), or the unread rest mentions "password", the rest is
// masked whole: part of a password may be in it.
func redactKeywordValue(s string) (string, bool) {
	pairs, failAt := scanKeywordValue(s)
	var b strings.Builder
	last, secret, seen := 0, false, false
	for _, p := range pairs {
		if !secretKey(p.key) {
			continue
		}
		seen = true
		if p.value == "" && p.valEnd-p.valStart <= 2 {
			continue // an empty password: nothing to hide
		}
		b.WriteString(s[last:p.valStart])
		b.WriteString(Mask)
		last, secret = p.valEnd, true
	}
	if failAt < 0 {
		b.WriteString(s[last:])
		return b.String(), secret
	}
	b.WriteString(s[last:failAt])
	if seen || strings.Contains(strings.ToLower(s[failAt:]), "password") {
		b.WriteString(Mask)
		return b.String(), true
	}
	b.WriteString(s[failAt:])
	return b.String(), secret
}
