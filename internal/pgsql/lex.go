// Package pgsql reads and writes PostgreSQL SQL text the way the server's
// lexer does: it splits scripts into statements, tells whether a string is
// exactly one statement, and quotes identifiers and literals. It never
// connects to a database.
//
// Strings follow standard_conforming_strings = on (the default since
// PostgreSQL 9.1, and what keel sets on its sessions): a backslash escapes
// only in E'...' strings.
package pgsql

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Kind is the kind of a token.
type Kind int

// The kinds of tokens.
const (
	// Space is whitespace.
	Space Kind = iota
	// Comment is a -- line comment or a (nested) /* block comment */.
	Comment
	// QuotedIdent is a "double-quoted" identifier; Value is the name.
	QuotedIdent
	// String is a '...' literal, also with an E, B, X, N or U& prefix;
	// Value is the content of a plain or N'...' string.
	String
	// DollarString is a $tag$...$tag$ literal.
	DollarString
	// Word is a keyword, an unquoted identifier, a number or a $1 parameter.
	Word
	// Semicolon ends a statement.
	Semicolon
	// Other is an operator or a punctuation character.
	Other
)

// Token is one lexical element of SQL text.
type Token struct {
	Kind Kind
	// Text is the token as written.
	Text string
	// Value is the name of a QuotedIdent and the content of a plain String.
	Value string
	// Offset is the byte offset of the token in the input.
	Offset int
}

// SyntaxError is SQL text that does not lex: an unterminated quote, dollar
// quote or comment.
type SyntaxError struct {
	Offset int
	What   string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s starting at byte %d is never closed", e.What, e.Offset)
}

// lexer reads tokens from src one at a time.
type lexer struct {
	src string
	pos int
	// kindsOnly: tokens without their Value (OneStatement needs only
	// their kinds and offsets; a value is built byte by byte).
	kindsOnly bool
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isIdentStart and isIdentCont follow PostgreSQL's scanner: letters,
// underscores and every byte of a multibyte character start an identifier;
// digits and $ may follow.
func isIdentStart(c byte) bool {
	return c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentCont(c byte) bool {
	return isIdentStart(c) || c == '$' || (c >= '0' && c <= '9')
}

// next returns the next token; ok is false at the end of the input.
func (l *lexer) next() (tok Token, ok bool, err error) {
	if l.pos >= len(l.src) {
		return Token{}, false, nil
	}
	s, start := l.src, l.pos
	c := s[start]
	emit := func(k Kind, end int) (Token, bool, error) {
		l.pos = end
		return Token{Kind: k, Text: s[start:end], Offset: start}, true, nil
	}
	switch {
	case isSpace(c):
		end := start
		for end < len(s) && isSpace(s[end]) {
			end++
		}
		return emit(Space, end)
	case c == '-' && strings.HasPrefix(s[start:], "--"):
		end := strings.IndexByte(s[start:], '\n')
		if end < 0 {
			return emit(Comment, len(s))
		}
		return emit(Comment, start+end)
	case c == '/' && strings.HasPrefix(s[start:], "/*"):
		depth, i := 0, start
		for i < len(s) {
			switch {
			case strings.HasPrefix(s[i:], "/*"):
				depth++
				i += 2
			case strings.HasPrefix(s[i:], "*/"):
				depth--
				i += 2
				if depth == 0 {
					return emit(Comment, i)
				}
			default:
				i++
			}
		}
		return Token{}, false, &SyntaxError{Offset: start, What: "a /* comment"}
	case c == '"':
		if l.kindsOnly {
			end, ok := quotedEnd(s, start, '"')
			if !ok {
				return Token{}, false, &SyntaxError{Offset: start, What: "a quoted identifier"}
			}
			return emit(QuotedIdent, end)
		}
		name, end, err := quoted(s, start, '"', false)
		if err != nil {
			return Token{}, false, &SyntaxError{Offset: start, What: "a quoted identifier"}
		}
		l.pos = end
		return Token{Kind: QuotedIdent, Text: s[start:end], Value: name, Offset: start}, true, nil
	case c == '\'':
		if l.kindsOnly {
			end, ok := quotedEnd(s, start, '\'')
			if !ok {
				return Token{}, false, &SyntaxError{Offset: start, What: "a string"}
			}
			return emit(String, end)
		}
		v, end, err := quoted(s, start, '\'', false)
		if err != nil {
			return Token{}, false, &SyntaxError{Offset: start, What: "a string"}
		}
		l.pos = end
		return Token{Kind: String, Text: s[start:end], Value: v, Offset: start}, true, nil
	case c == '$':
		if tag, ok := dollarTag(s[start:]); ok {
			end := strings.Index(s[start+len(tag):], tag)
			if end < 0 {
				return Token{}, false, &SyntaxError{Offset: start, What: "a dollar-quoted string " + tag}
			}
			return emit(DollarString, start+len(tag)+end+len(tag))
		}
		end := start + 1
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		if end > start+1 {
			return emit(Word, end) // a parameter: $1
		}
		return emit(Other, end)
	case isIdentStart(c):
		end := start
		for end < len(s) && isIdentCont(s[end]) {
			end++
		}
		word := s[start:end]
		if end < len(s) && s[end] == '\'' {
			// A prefixed string: E'...' (backslash escapes), B'', X'', N'', U&'' does not get here.
			switch strings.ToUpper(word) {
			case "E":
				_, qend, err := quoted(s, end, '\'', true)
				if err != nil {
					return Token{}, false, &SyntaxError{Offset: start, What: "an escape string"}
				}
				return emit(String, qend)
			case "B", "X", "N":
				v, qend, err := quoted(s, end, '\'', false)
				if err != nil {
					return Token{}, false, &SyntaxError{Offset: start, What: "a string"}
				}
				l.pos = qend
				tok := Token{Kind: String, Text: s[start:qend], Offset: start}
				if strings.ToUpper(word) == "N" {
					tok.Value = v
				}
				return tok, true, nil
			}
		}
		if (word == "U" || word == "u") && (strings.HasPrefix(s[end:], "&'") || strings.HasPrefix(s[end:], "&\"")) {
			q, kind, what := s[end+1], String, "a unicode string"
			if q == '"' {
				kind, what = QuotedIdent, "a unicode identifier"
			}
			v, qend, err := quoted(s, end+1, q, false)
			if err != nil {
				return Token{}, false, &SyntaxError{Offset: start, What: what}
			}
			l.pos = qend
			// The value with the default escape character; "" when the
			// escapes do not read (or a UESCAPE clause may follow).
			v, _ = decodeUnicode(v)
			return Token{Kind: kind, Text: s[start:qend], Value: v, Offset: start}, true, nil
		}
		return emit(Word, end)
	case c >= '0' && c <= '9':
		end := start
		for end < len(s) && (isIdentCont(s[end]) || s[end] == '.') {
			end++
		}
		return emit(Word, end)
	case c == ';':
		return emit(Semicolon, start+1)
	}
	return emit(Other, start+1)
}

// quoted reads a quoted token that starts at s[start] == q: a doubled q
// stands for one, and with escapes a backslash escapes the next byte. It
// returns the content (undoubled; raw for escape strings) and the end.
func quoted(s string, start int, q byte, escapes bool) (string, int, error) {
	var b strings.Builder
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case escapes && c == '\\':
			if i+1 < len(s) {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
				i++
			}
		case c == q && i+1 < len(s) && s[i+1] == q:
			b.WriteByte(q)
			i++
		case c == q:
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated")
}

// quotedEnd is where the quoted token (no escapes) that starts at
// s[start] == q ends, as quoted reads it, without its content.
func quotedEnd(s string, start int, q byte) (int, bool) {
	for i := start + 1; i < len(s); i++ {
		if s[i] == q {
			if i+1 < len(s) && s[i+1] == q {
				i++
				continue
			}
			return i + 1, true
		}
	}
	return 0, false
}

// dollarTag returns the opening $tag$ at the start of s, if there is one: a
// tag is empty or an identifier without $.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '$':
			return s[:j+1], true
		case j == 1 && !isIdentStart(c), j > 1 && !isIdentStart(c) && !(c >= '0' && c <= '9'):
			return "", false
		}
	}
	return "", false
}

// Lex returns the tokens of sql; their texts concatenate to sql. It fails
// on an unterminated quote, dollar quote or comment.
func Lex(sql string) ([]Token, error) {
	l := &lexer{src: sql}
	var toks []Token
	for {
		t, ok, err := l.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return toks, nil
		}
		toks = append(toks, t)
	}
}

// MultipleStatementsError is SQL text that holds more than one statement.
type MultipleStatementsError struct {
	// Offset is where the second statement starts.
	Offset int
}

func (e *MultipleStatementsError) Error() string {
	return fmt.Sprintf("it holds more than one statement (a second one starts at byte %d)", e.Offset)
}

// OneStatement checks that sql is exactly one statement, with or without a
// trailing semicolon, as PostgreSQL's lexer reads it. It is stricter than the
// server where that is safer: a semicolon inside a BEGIN ATOMIC function
// body counts as the end of a statement.
func OneStatement(sql string) error {
	l := &lexer{src: sql, kindsOnly: true}
	seen, ended := false, false
	for {
		t, more, err := l.next()
		if err != nil {
			return err
		}
		if !more {
			break
		}
		switch t.Kind {
		case Space, Comment:
		case Semicolon:
			if !seen {
				return errors.New("it is empty before its semicolon")
			}
			ended = true
		default:
			if ended {
				// A function body in BEGIN ATOMIC ... END holds semicolons
				// of its own: the statement is one if it splits as one.
				if stmts, err := Split(sql); err == nil && len(stmts) == 1 {
					return nil
				}
				return &MultipleStatementsError{Offset: t.Offset}
			}
			seen = true
		}
	}
	if !seen {
		return errors.New("it is empty")
	}
	return nil
}

// decodeUnicode reads the escapes of a U&'...' or U&"..." body with the
// default escape character: \\ is a backslash, \XXXX and \+XXXXXX are
// code points.
func decodeUnicode(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			b.WriteByte('\\')
			i++
		case i+1 < len(s) && s[i+1] == '+' && i+8 <= len(s):
			n, err := strconv.ParseUint(s[i+2:i+8], 16, 32)
			if err != nil || n > unicode.MaxRune {
				return "", false
			}
			b.WriteRune(rune(n))
			i += 7
		case i+5 <= len(s):
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil {
				return "", false
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			return "", false
		}
	}
	return b.String(), true
}
