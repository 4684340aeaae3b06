package planner

import (
	"fmt"
	"strings"
	"unicode"
)

// sqlStatement is one statement of a SQL file.
type sqlStatement struct {
	// Text is the statement without its terminating semicolon.
	Text string
	// Line is the 1-based line of the file where the statement starts.
	Line int
}

// ignoredMetaCommands are psql meta-commands that do not change the schema
// and that pg_dump or hand-written files commonly hold; other meta-commands
// are refused.
var ignoredMetaCommands = map[string]bool{
	"restrict": true, "unrestrict": true, "set": true, "echo": true, "qecho": true, "timing": true, "pset": true,
}

// splitSQL splits a SQL script into statements the way psql does: semicolons
// end statements except inside quotes, dollar quotes, comments and
// `BEGIN ATOMIC ... END` function bodies. Lines that start with a backslash
// are psql meta-commands: the harmless ones are skipped, others refused.
func splitSQL(src string) ([]sqlStatement, error) {
	var (
		stmts []sqlStatement
		r     = []rune(src)
		start = -1 // index of the current statement's first rune
		line  = 1
		sline = 0
		depth = 0 // BEGIN/CASE ... END nesting inside CREATE FUNCTION/PROCEDURE
	)
	flush := func(end int) {
		if start >= 0 {
			if text := strings.TrimSpace(string(r[start:end])); text != "" {
				stmts = append(stmts, sqlStatement{Text: text, Line: sline})
			}
		}
		start, depth = -1, 0
	}
	begin := func(i int) {
		if start < 0 {
			start, sline = i, line
		}
	}
	atLineStart := func(i int) bool {
		for j := i - 1; j >= 0; j-- {
			if r[j] == '\n' {
				return true
			}
			if r[j] != ' ' && r[j] != '\t' {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\n':
			line++
		case c == '-' && i+1 < len(r) && r[i+1] == '-':
			for i < len(r) && r[i] != '\n' {
				i++
			}
			i-- // let the newline be counted
		case c == '/' && i+1 < len(r) && r[i+1] == '*':
			nest := 0
			for ; i < len(r); i++ {
				if r[i] == '\n' {
					line++
				} else if r[i] == '/' && i+1 < len(r) && r[i+1] == '*' {
					nest++
					i++
				} else if r[i] == '*' && i+1 < len(r) && r[i+1] == '/' {
					nest--
					i++
					if nest == 0 {
						break
					}
				}
			}
		case c == '\\' && start < 0 && atLineStart(i):
			j := i
			for j < len(r) && r[j] != '\n' {
				j++
			}
			cmd := strings.Fields(string(r[i+1 : j]))
			if len(cmd) == 0 || !ignoredMetaCommands[cmd[0]] {
				return nil, fmt.Errorf("%d: psql meta-command `%s`: keel runs plain SQL; remove it or run the file with psql into a database and use that database's URL as --schema",
					line, strings.TrimSpace(string(r[i:j])))
			}
			i = j - 1
		case c == '\'' || c == '"':
			begin(i)
			escapes := c == '\'' && i > 0 && (r[i-1] == 'E' || r[i-1] == 'e') && (i < 2 || !isIdentRune(r[i-2]))
			for i++; i < len(r); i++ {
				if r[i] == '\n' {
					line++
				}
				if escapes && r[i] == '\\' {
					i++
					if i < len(r) && r[i] == '\n' {
						line++
					}
					continue
				}
				if r[i] == c {
					if i+1 < len(r) && r[i+1] == c {
						i++
						continue
					}
					break
				}
			}
		case c == '$' && (i == 0 || !isIdentRune(r[i-1])):
			begin(i)
			tag, ok := dollarTag(r[i:])
			if !ok {
				continue
			}
			tr := []rune(tag)
			j := i + len(tr)
			for j < len(r) && !hasRunesAt(r, j, tr) {
				if r[j] == '\n' {
					line++
				}
				j++
			}
			i = j + len(tr) - 1
		case c == ';' && depth == 0:
			flush(i)
		case unicode.IsSpace(c):
		case isIdentRune(c) && (i == 0 || !isIdentRune(r[i-1])):
			begin(i)
			j := i
			for j < len(r) && isIdentRune(r[j]) {
				j++
			}
			if isRoutineWithBody(string(r[start:i])) {
				switch strings.ToUpper(string(r[i:j])) {
				case "BEGIN", "CASE":
					depth++
				case "END":
					if depth > 0 {
						depth--
					}
				}
			}
			i = j - 1
		default:
			begin(i)
		}
	}
	flush(len(r))
	return stmts, nil
}

func isIdentRune(c rune) bool {
	return c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c)
}

// dollarTag returns the opening $tag$ at the start of r, if there is one.
func dollarTag(r []rune) (string, bool) {
	for j := 1; j < len(r); j++ {
		switch {
		case r[j] == '$':
			return string(r[:j+1]), true
		case unicode.IsDigit(r[j]) && j == 1, !isIdentRune(r[j]):
			return "", false
		}
	}
	return "", false
}

func hasRunesAt(r []rune, at int, want []rune) bool {
	if at+len(want) > len(r) {
		return false
	}
	for k, c := range want {
		if r[at+k] != c {
			return false
		}
	}
	return true
}

// isRoutineWithBody reports whether the statement so far creates a function
// or procedure, whose SQL-standard body (BEGIN ATOMIC ... END) holds semicolons.
func isRoutineWithBody(prefix string) bool {
	w := strings.Fields(strings.ToUpper(prefix))
	if len(w) >= 2 && w[0] == "CREATE" {
		if w[1] == "OR" && len(w) >= 4 {
			w = w[3:]
		} else {
			w = w[1:]
		}
		return w[0] == "FUNCTION" || w[0] == "PROCEDURE"
	}
	return false
}
