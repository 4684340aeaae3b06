package diff

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
)

// tokens are the tokens of a statement, or of a part of one, that mean
// something (no spaces, comments or final semicolon), read in order.
type tokens struct {
	sql  string // the statement, which the tokens' offsets are in
	list []pgsql.Token
	at   int
}

func lexTokens(sql string) (*tokens, error) {
	all, err := pgsql.Lex(sql)
	if err != nil {
		return nil, err
	}
	w := &tokens{sql: sql}
	for _, t := range all {
		switch t.Kind {
		case pgsql.Space, pgsql.Comment:
		case pgsql.Semicolon:
			// OneStatement checked that nothing follows.
			return w, nil
		default:
			w.list = append(w.list, t)
		}
	}
	return w, nil
}

// statement is the statement's text from its start to its last token:
// without a final semicolon or the comments after it.
func (w *tokens) statement() string {
	if len(w.list) == 0 {
		return strings.TrimSpace(w.sql)
	}
	last := w.list[len(w.list)-1]
	return strings.TrimSpace(w.sql[:last.Offset+len(last.Text)])
}

func (w *tokens) more() bool { return w.at < len(w.list) }

func isWord(t pgsql.Token, k string) bool {
	return t.Kind == pgsql.Word && strings.EqualFold(t.Text, k)
}

func isPunct(t pgsql.Token, p string) bool { return t.Kind == pgsql.Other && t.Text == p }

func isAnyWord(t pgsql.Token, ks ...string) bool {
	return slices.ContainsFunc(ks, func(k string) bool { return isWord(t, k) })
}

// upcoming reports whether the next tokens are the keywords ks; a quoted
// identifier is never a keyword.
func (w *tokens) upcoming(ks ...string) bool {
	if w.at+len(ks) > len(w.list) {
		return false
	}
	for i, k := range ks {
		if !isWord(w.list[w.at+i], k) {
			return false
		}
	}
	return true
}

// keyword consumes the keywords ks if they come next.
func (w *tokens) keyword(ks ...string) bool {
	if !w.upcoming(ks...) {
		return false
	}
	w.at += len(ks)
	return true
}

// punct consumes the punctuation p if it comes next.
func (w *tokens) punct(p string) bool {
	if w.more() && isPunct(w.list[w.at], p) {
		w.at++
		return true
	}
	return false
}

// here describes what comes next, for an error.
func (w *tokens) here() string {
	if !w.more() {
		return "the statement ends"
	}
	return fmt.Sprintf("`%s` comes", plan.OneLine(w.list[w.at].Text))
}

// lead is the first n words of what is left, in upper case ("SET
// LOGGED"), to name it in an error.
func (w *tokens) lead(n int) string {
	var ws []string
	for i := w.at; i < len(w.list) && len(ws) < n && w.list[i].Kind == pgsql.Word; i++ {
		ws = append(ws, strings.ToUpper(w.list[i].Text))
	}
	if len(ws) == 0 {
		return "`" + shownStatement(w.text()) + "`"
	}
	return strings.Join(ws, " ")
}

// kind names a statement by its first words: "UPDATE", "CREATE FUNCTION".
func (w *tokens) kind() string {
	if w.upcoming("CREATE", "OR", "REPLACE") {
		w.at += 3
		defer func() { w.at -= 3 }()
		return "CREATE OR REPLACE " + w.lead(1)
	}
	if w.upcoming("CREATE") || w.upcoming("ALTER") || w.upcoming("DROP") || w.upcoming("COMMENT") {
		return w.lead(2)
	}
	return w.lead(1)
}

// ident reads a name as PostgreSQL does: a quoted identifier as written,
// an unquoted one folded to lower case.
func (w *tokens) ident() (string, error) {
	if w.more() {
		t := w.list[w.at]
		switch {
		case t.Kind == pgsql.QuotedIdent && t.Value != "":
			w.at++
			if w.upcoming("UESCAPE") {
				return "", errors.New("a name has a UESCAPE clause, which keel does not read")
			}
			return t.Value, nil
		case t.Kind == pgsql.Word && identStart(t.Text[0]):
			w.at++
			return foldIdent(t.Text), nil
		}
	}
	return "", fmt.Errorf("%s where a name should be", w.here())
}

func identStart(c byte) bool {
	return c == '_' || c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// foldIdent folds an unquoted identifier to lower case: PostgreSQL folds
// ASCII letters only.
func foldIdent(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// name reads a name of up to max dot-separated parts.
func (w *tokens) name(max int) ([]string, error) {
	var parts []string
	for {
		p, err := w.ident()
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
		if !w.punct(".") {
			break
		}
	}
	if len(parts) > max {
		return nil, fmt.Errorf("the name %s has %d parts, where keel reads at most %d", displayParts(parts, "."), len(parts), max)
	}
	return parts, nil
}

// displayParts shows names as plans do, joined by sep.
func displayParts(parts []string, sep string) string {
	shown := make([]string, len(parts))
	for i, p := range parts {
		shown[i] = plan.DisplayPart(p)
	}
	return strings.Join(shown, sep)
}

// str reads a string literal, as a message shows it.
func (w *tokens) str() (string, error) {
	if w.more() && w.list[w.at].Kind == pgsql.String {
		t := w.list[w.at]
		w.at++
		if t.Text[0] == '\'' {
			return strconv.Quote(t.Value), nil
		}
		return t.Text, nil
	}
	return "", fmt.Errorf("%s where a string should be", w.here())
}

// number reads an integer, maybe negative.
func (w *tokens) number() (string, error) {
	start, sign := w.at, ""
	if w.punct("-") {
		sign = "-"
	}
	if w.more() && w.list[w.at].Kind == pgsql.Word {
		if _, err := strconv.ParseInt(w.list[w.at].Text, 10, 64); err == nil {
			w.at++
			return sign + w.list[w.at-1].Text, nil
		}
	}
	w.at = start
	return "", fmt.Errorf("%s where a number should be", w.here())
}

func opens(t pgsql.Token) bool  { return isPunct(t, "(") || isPunct(t, "[") }
func closes(t pgsql.Token) bool { return isPunct(t, ")") || isPunct(t, "]") }

// group reads a parenthesized group: the tokens inside it.
func (w *tokens) group() (*tokens, error) {
	if !w.punct("(") {
		return nil, fmt.Errorf("%s where \"(\" should be", w.here())
	}
	start, depth := w.at, 1
	for ; w.at < len(w.list); w.at++ {
		switch t := w.list[w.at]; {
		case opens(t):
			depth++
		case closes(t):
			if depth--; depth == 0 {
				g := &tokens{sql: w.sql, list: w.list[start:w.at]}
				w.at++
				return g, nil
			}
		}
	}
	return nil, errors.New(`a "(" is never closed`)
}

// until reads the tokens up to the first one outside parentheses and
// brackets that stop says ends them; prev is the token before it (nil
// for the first).
func (w *tokens) until(stop func(prev *pgsql.Token, t pgsql.Token) bool) *tokens {
	start, depth := w.at, 0
	for ; w.at < len(w.list); w.at++ {
		t := w.list[w.at]
		var prev *pgsql.Token
		if w.at > start {
			prev = &w.list[w.at-1]
		}
		if depth == 0 && stop(prev, t) {
			break
		}
		switch {
		case opens(t):
			depth++
		case closes(t):
			depth--
		}
	}
	return &tokens{sql: w.sql, list: w.list[start:w.at]}
}

// rest reads what is left.
func (w *tokens) rest() *tokens {
	return w.until(func(*pgsql.Token, pgsql.Token) bool { return false })
}

// items splits what is left at the commas outside parentheses and
// brackets.
func (w *tokens) items() []*tokens {
	var out []*tokens
	for w.more() {
		out = append(out, w.until(func(_ *pgsql.Token, t pgsql.Token) bool { return isPunct(t, ",") }))
		if w.punct(",") && !w.more() {
			out = append(out, &tokens{sql: w.sql})
		}
	}
	return out
}

// text is the statement's text of what is left, as written.
func (w *tokens) text() string {
	if !w.more() {
		return ""
	}
	first, last := w.list[w.at], w.list[len(w.list)-1]
	return w.sql[first.Offset : last.Offset+len(last.Text)]
}

// end checks that nothing is left.
func (w *tokens) end() error {
	if w.more() {
		return fmt.Errorf("it goes on with `%s`, which keel does not read", shownStatement(w.text()))
	}
	return nil
}

// cascade reads an optional CASCADE or RESTRICT.
func (w *tokens) cascade() bool {
	if w.keyword("CASCADE") {
		return true
	}
	w.keyword("RESTRICT")
	return false
}

// dropped reads the rest of a DROP of one object of kind: [IF EXISTS], its
// name of at most parts parts, [CASCADE | RESTRICT], and the statement's end.
func (w *tokens) dropped(kind string, parts int) (name []string, cascade bool, err error) {
	w.keyword("IF", "EXISTS")
	if name, err = w.name(parts); err != nil {
		return nil, false, err
	}
	if err := w.single(kind); err != nil {
		return nil, false, err
	}
	cascade = w.cascade()
	if err := w.end(); err != nil {
		return nil, false, err
	}
	return name, cascade, nil
}

// single checks that a DROP names one object: a step is of one object.
func (w *tokens) single(kind string) error {
	if w.more() && isPunct(w.list[w.at], ",") {
		return fmt.Errorf("it drops several %ss in one statement, and keel reads one object a statement", kind)
	}
	return nil
}
