package pgsql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// QuoteIdent quotes a name as a PostgreSQL identifier: in double quotes,
// with every double quote doubled. Whatever the name holds (quotes,
// semicolons, newlines, comment markers), the result is one identifier. A
// name holding a character that does not print (a newline, a control or
// bidirectional-override character) is written with Unicode escapes,
// U&"...", so that the statement shows every character it holds on one line.
func QuoteIdent(name string) string {
	if printable(name) || !utf8.ValidString(name) {
		return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	}
	return unicodeQuoted(name, '"')
}

// QuoteQualified quotes a schema-qualified name: "schema"."name".
func QuoteQualified(schema, name string) string {
	if schema == "" {
		return QuoteIdent(name)
	}
	return QuoteIdent(schema) + "." + QuoteIdent(name)
}

// QuoteLiteral quotes a string as a PostgreSQL literal: in single quotes,
// with every single quote doubled. With standard_conforming_strings on, a
// backslash in it is an ordinary character. A string holding a character
// that does not print is written with Unicode escapes, U&'...'.
func QuoteLiteral(s string) string {
	if printable(s) || !utf8.ValidString(s) {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return unicodeQuoted(s, '\'')
}

// printable reports whether every character of s prints (spaces do).
func printable(s string) bool {
	for _, r := range s {
		if r != utf8.RuneError && !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// unicodeQuoted writes s as U&"..." or U&'...' with the default escape
// character, a backslash: characters that do not print as \XXXX or
// \+XXXXXX, a backslash as two, the quote doubled.
func unicodeQuoted(s string, q byte) string {
	var b strings.Builder
	b.WriteString("U&")
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q):
			b.WriteByte(q)
			b.WriteByte(q)
		case r == '\\':
			b.WriteString(`\\`)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xFFFF:
			fmt.Fprintf(&b, `\%04X`, r)
		default:
			fmt.Fprintf(&b, `\+%06X`, r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// Printable rewrites the quoted identifiers and string literals of a
// statement that hold characters that do not print with Unicode escapes
// (see QuoteIdent): the statement means the same, and shows on its lines
// every character it holds.
func Printable(sql string) (string, error) {
	if printable(sql) {
		return sql, nil
	}
	toks, err := Lex(sql)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, t := range toks {
		switch {
		case t.Kind == QuotedIdent && t.Text[0] == '"' && !printable(t.Value):
			b.WriteString(QuoteIdent(t.Value))
		case t.Kind == String && t.Text[0] == '\'' && !printable(t.Value):
			b.WriteString(QuoteLiteral(t.Value))
		default:
			b.WriteString(t.Text)
		}
	}
	return b.String(), nil
}

// IsPlainIdent reports whether name can be written without quotes and
// means the same: lower case letters, digits, underscores and $, not
// starting with a digit or $. (Keywords are not checked: quote them.)
func IsPlainIdent(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z':
		case i > 0 && (c == '$' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return true
}
