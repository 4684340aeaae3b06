package pgsql

import (
	"errors"
	"fmt"
	"strings"
)

// Statement is one statement of a SQL script.
type Statement struct {
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

// Split splits a SQL script into statements the way psql does: semicolons
// end statements except inside quotes, dollar quotes, comments and
// `BEGIN ATOMIC ... END` function bodies. Lines that start with a backslash
// outside a statement are psql meta-commands: the harmless ones are
// skipped, others refused. Errors start with the 1-based line.
func Split(src string) ([]Statement, error) {
	var (
		stmts []Statement
		l     = &lexer{src: src}
		start = -1 // byte offset of the current statement's first token
		line  = 1  // line of l.pos
		sline = 0
		depth = 0      // BEGIN/CASE ... END nesting inside CREATE FUNCTION/PROCEDURE
		head  []string // the statement's first words, upper case
	)
	flush := func(end int) {
		if start >= 0 {
			if text := strings.TrimSpace(src[start:end]); text != "" {
				stmts = append(stmts, Statement{Text: text, Line: sline})
			}
		}
		start, depth, head = -1, 0, nil
	}
	for {
		if start < 0 && l.pos < len(src) && src[l.pos] == '\\' && atLineStart(src, l.pos) {
			end := strings.IndexByte(src[l.pos:], '\n')
			if end < 0 {
				end = len(src) - l.pos
			}
			cmd := src[l.pos : l.pos+end]
			if f := strings.Fields(cmd[1:]); len(f) == 0 || !ignoredMetaCommands[f[0]] {
				return nil, fmt.Errorf("%d: psql meta-command `%s`: keel runs plain SQL; remove it or run the file with psql into a database and use that database's URL as --schema",
					line, strings.TrimSpace(cmd))
			}
			l.pos += end
			continue
		}
		t, ok, err := l.next()
		if err != nil {
			var se *SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%d: %s is never closed", 1+strings.Count(src[:se.Offset], "\n"), se.What)
			}
			return nil, err
		}
		if !ok {
			break
		}
		switch t.Kind {
		case Space, Comment:
		case Semicolon:
			if depth == 0 {
				flush(t.Offset)
			}
		default:
			if start < 0 {
				start, sline = t.Offset, line
			}
			if t.Kind == Word {
				w := strings.ToUpper(t.Text)
				if len(head) < 4 {
					head = append(head, w)
				}
				if isRoutineWithBody(head) {
					switch w {
					case "BEGIN", "CASE":
						depth++
					case "END":
						if depth > 0 {
							depth--
						}
					}
				}
			}
		}
		line += strings.Count(t.Text, "\n")
	}
	flush(len(src))
	return stmts, nil
}

func atLineStart(s string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		if s[j] == '\n' {
			return true
		}
		if s[j] != ' ' && s[j] != '\t' {
			return false
		}
	}
	return true
}

// isRoutineWithBody reports whether the statement so far creates a function
// or procedure, whose SQL-standard body (BEGIN ATOMIC ... END) holds semicolons.
func isRoutineWithBody(w []string) bool {
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
