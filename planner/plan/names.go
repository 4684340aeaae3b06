package plan

import (
	"strconv"
	"strings"
	"unicode"

	"keel/internal/pgsql"
)

// DisplayName is how plans name an object of a schema: schema.name, each
// part quoted (as Go quotes strings) when it is not a plain name.
func DisplayName(schemaName, name string) string {
	if schemaName == "" {
		return DisplayPart(name)
	}
	return DisplayPart(schemaName) + "." + DisplayPart(name)
}

// ParseObject splits an object as steps and hazards name it ("table
// public.users", `table "my schema".users`) into its kind, schema and name.
// ok is false when obj is not of that form.
func ParseObject(obj string) (kind, schemaName, name string, ok bool) {
	kind, rest, ok := strings.Cut(obj, " ")
	if !ok {
		return "", "", "", false
	}
	first, rest, err := DisplayedPart(rest)
	if err != nil {
		return "", "", "", false
	}
	if rest == "" {
		return kind, "", first, true
	}
	if rest[0] != '.' {
		return "", "", "", false
	}
	second, rest, err := DisplayedPart(rest[1:])
	if err != nil || rest != "" && rest[0] != '.' {
		return "", "", "", false
	}
	return kind, first, second, true
}

// displayedPart reads one part of a displayed name: Go-quoted, or up to the
// next dot.
func DisplayedPart(s string) (part, rest string, err error) {
	if strings.HasPrefix(s, `"`) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return "", "", err
		}
		part, err = strconv.Unquote(q)
		return part, s[len(q):], err
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i], s[i:], nil
	}
	return s, "", nil
}

// displayPart quotes a name for display when it is not plain.
func DisplayPart(name string) string {
	if pgsql.IsPlainIdent(name) || IsPlainMixed(name) {
		return name
	}
	return strconv.Quote(name)
}

// isPlainMixed accepts names of letters, digits and underscores in any case:
// they read unambiguously in a message.
func IsPlainMixed(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Object is a database object keel found but does not manage.
type Object struct {
	// Kind is "view", "function", "trigger", "sequence", ...
	Kind string `json:"kind"`
	// Name is schema-qualified: "public.active_users" (a schema's is its name).
	Name string `json:"name"`
	// Detail says more, where there is more to say: "2 tables".
	Detail string `json:"detail,omitempty"`
}

func (o Object) String() string {
	if o.Detail != "" {
		return o.Kind + " " + o.Name + " (" + o.Detail + ")"
	}
	return o.Kind + " " + o.Name
}

// OneLine escapes the characters of s that do not print (newlines, control
// and bidirectional-override characters) as Go does in strings, so that
// text taken from names and messages stays on its line and shows what it holds.
func OneLine(s string) string {
	clean := true
	for _, r := range s {
		if !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
