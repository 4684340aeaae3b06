package state

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"keel/internal/pgsql"
	"keel/planner/plan"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// The Atlas engine writes an identifier as `"` + name + `"` without doubling
// a double quote inside it (and some as Go's %q, which escapes with a
// backslash that PostgreSQL does not read), and it writes a comment or an
// enum value that already looks quoted ('...') as it is. A name such as
// `canary"; --` then turns `DROP TABLE "x"` into `DROP TABLE "canary"; --"`.
//
// A Guard keeps every such name and value away from the engine: before
// the engine renders SQL, each one is replaced in the schema trees by a
// placeholder made of a random nonce and a number, which the engine cannot
// get wrong; afterwards keel reads each statement with PostgreSQL's lexical
// rules and writes the real name back where the placeholder is a whole
// quoted identifier (or a whole string literal), quoted by keel. A
// placeholder anywhere else means the engine wrote the name into SQL in a
// way keel cannot vouch for: the statement is refused, by object, before
// anything runs. The trees are restored when the statements are made.
//
// Fields the engine writes without any quoting (index methods, operator
// classes, operators, referential actions, identity kinds) must look like
// what PostgreSQL's catalog holds for them; anything else is refused.
//
// The trees are changed in place, from the first placeholder until Restore:
// meanwhile the Guard holds guardedTrees, which EncodeRealm (a cache entry
// is encoded in the background while the plan goes on) reads under, so that
// an encoding never holds a placeholder. A Guard that puts no placeholder
// takes nothing.
type Guard struct {
	nonce   string
	idents  map[string]string // placeholder -> name
	lits    map[string]string // placeholder -> value
	byName  map[string]string // name -> placeholder
	byValue map[string]string // value -> placeholder
	undo    []func()
	err     error
	locked  bool // holds guardedTrees
}

// guardedTrees is held by a Guard whose placeholders are in schema trees,
// and read-held by what reads trees in the background (EncodeRealm).
var guardedTrees sync.RWMutex

// change puts v at p, after taking guardedTrees, and remembers how to
// undo it.
func (g *Guard) change(p *string, v string) {
	if !g.locked {
		guardedTrees.Lock()
		g.locked = true
	}
	old := *p
	*p = v
	g.undo = append(g.undo, func() { *p = old })
}

func NewGuard() (*Guard, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &Guard{
		nonce:  "keel" + hex.EncodeToString(b[:]),
		idents: map[string]string{}, lits: map[string]string{}, byName: map[string]string{}, byValue: map[string]string{},
	}, nil
}

// needsGuard reports whether the engine may write name wrongly: anything
// its two ways of quoting ("..." and Go's %q) do not both get right.
func needsGuard(name string) bool {
	return strconv.Quote(name) != `"`+name+`"`
}

// looksQuoted reports whether the engine writes a literal value as it is,
// believing it quoted already.
func looksQuoted(v string) bool {
	return len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\''
}

func (g *Guard) ident(p *string) {
	name := *p
	if _, done := g.idents[name]; done || !needsGuard(name) && !strings.Contains(name, g.nonce) {
		return
	}
	ph, ok := g.byName[name]
	if !ok {
		ph = fmt.Sprintf("%s_i%d", g.nonce, len(g.idents))
		g.byName[name], g.idents[ph] = ph, name
	}
	g.change(p, ph)
}

func (g *Guard) literal(p *string) {
	v := *p
	if _, done := g.lits[v]; done || !looksQuoted(v) && !strings.Contains(v, g.nonce) {
		return
	}
	ph, ok := g.byValue[v]
	if !ok {
		ph = fmt.Sprintf("%s_l%d", g.nonce, len(g.lits))
		g.byValue[v], g.lits[ph] = ph, v
	}
	g.change(p, ph)
}

// restore puts every name and value back.
func (g *Guard) Restore() {
	for i := len(g.undo) - 1; i >= 0; i-- {
		g.undo[i]()
	}
	g.undo = nil
	if g.locked {
		g.locked = false
		guardedTrees.Unlock()
	}
}

// reveal replaces placeholders in text meant for people (comments, errors).
func (g *Guard) Reveal(s string) string {
	if !strings.Contains(s, g.nonce) {
		return s
	}
	return placeholderRE(g.nonce).ReplaceAllStringFunc(s, func(m string) string {
		ph, quoted := strings.Trim(m, `"`), strings.HasPrefix(m, `"`)
		v, ok := g.idents[ph]
		switch {
		case ok && quoted:
			return strconv.Quote(v)
		case ok:
			return plan.DisplayPart(v)
		}
		if v, ok := g.lits[ph]; ok {
			return strconv.Quote(v)
		}
		return m
	})
}

// placeholderRE matches a placeholder, with the double quotes around it when
// it has them (as the engine's %q-formatted messages do).
func placeholderRE(nonce string) *regexp.Regexp {
	return regexp.MustCompile(`"?` + nonce + `_[il][0-9a-f]+"?`)
}

// rewrite writes the real names and values back into a statement the
// engine rendered, quoted by keel.
func (g *Guard) Rewrite(sql string) (string, error) {
	if !strings.Contains(sql, g.nonce) {
		return sql, nil
	}
	toks, err := pgsql.Lex(sql)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, t := range toks {
		if !strings.Contains(t.Text, g.nonce) {
			b.WriteString(t.Text)
			continue
		}
		switch {
		case t.Kind == pgsql.QuotedIdent && g.idents[t.Value] != "" && t.Text == `"`+t.Value+`"`:
			b.WriteString(pgsql.QuoteIdent(g.idents[t.Value]))
		case t.Kind == pgsql.String && g.lits[t.Value] != "" && t.Text == "'"+t.Value+"'":
			b.WriteString(pgsql.QuoteLiteral(g.lits[t.Value]))
		default:
			return "", fmt.Errorf("the engine writes a name or value into SQL in a way keel cannot quote safely (%s): %s",
				tokenWhere(t.Kind), plan.OneLine(g.Reveal(t.Text)))
		}
	}
	return b.String(), nil
}

func tokenWhere(k pgsql.Kind) string {
	switch k {
	case pgsql.QuotedIdent:
		return "as part of a longer name"
	case pgsql.String, pgsql.DollarString:
		return "inside a string"
	case pgsql.Comment:
		return "inside a comment"
	}
	return "without quotes"
}

// realm guards the names and values of a schema tree, and checks the fields
// the engine writes unquoted.
func (g *Guard) Realm(r *schema.Realm) error {
	if r == nil {
		return nil
	}
	for _, s := range r.Schemas {
		g.ident(&s.Name)
		g.attrs(s.Attrs)
		for _, o := range s.Objects {
			g.object(o)
		}
		for _, t := range s.Tables {
			g.table(t)
		}
	}
	return g.err
}

// refuse records the first field the engine would write unquoted that does
// not look like what the catalog holds.
func (g *Guard) refuse(err error) {
	if g.err == nil {
		g.err = err
	}
}

func (g *Guard) object(o schema.Object) {
	switch o := o.(type) {
	case *schema.EnumType:
		g.enum(o)
	case *postgres.DomainType:
		g.ident(&o.T)
		g.schemaRef(o.Schema)
	case *postgres.CompositeType:
		g.ident(&o.T)
		g.schemaRef(o.Schema)
	}
}

// enum guards an enum's name and values; a column's type may be the same
// value as its schema's object, and guarding twice changes nothing.
func (g *Guard) enum(e *schema.EnumType) {
	g.ident(&e.T)
	g.schemaRef(e.Schema)
	for i := range e.Values {
		g.literal(&e.Values[i])
	}
}

func (g *Guard) schemaRef(s *schema.Schema) {
	if s != nil {
		g.ident(&s.Name)
	}
}

func (g *Guard) attrs(attrs []schema.Attr) {
	for _, a := range attrs {
		switch a := a.(type) {
		case *schema.Comment:
			g.literal(&a.Text)
		case *schema.Check:
			g.ident(&a.Name)
		case *schema.Collation:
			g.ident(&a.V)
		case *postgres.Constraint:
			g.ident(&a.N)
		}
	}
}

func (g *Guard) typ(t schema.Type) {
	switch t := t.(type) {
	case *schema.EnumType:
		g.enum(t)
	case *postgres.ArrayType:
		g.typ(t.Type)
	default:
		if o, ok := t.(schema.Object); ok {
			g.object(o)
		}
	}
}

func (g *Guard) table(t *schema.Table) {
	obj := "table " + DisplayName(t.Schema, t.Name)
	g.ident(&t.Name)
	g.attrs(t.Attrs)
	for _, c := range t.Columns {
		g.ident(&c.Name)
		if c.Type != nil {
			g.typ(c.Type.Type)
		}
		g.attrs(c.Attrs)
		for _, a := range c.Attrs {
			if id, ok := a.(*postgres.Identity); ok && id.Generation != "" && !identityKinds[strings.ToUpper(id.Generation)] {
				g.refuse(fmt.Errorf("%s: column %s: identity %q is not ALWAYS or BY DEFAULT", obj, strconv.Quote(c.Name), id.Generation))
			}
		}
	}
	idxs := t.Indexes
	if t.PrimaryKey != nil {
		idxs = append([]*schema.Index{t.PrimaryKey}, idxs...)
	}
	for _, idx := range idxs {
		g.index(obj, idx)
	}
	for _, fk := range t.ForeignKeys {
		g.ident(&fk.Symbol)
		for _, a := range []schema.ReferenceOption{fk.OnUpdate, fk.OnDelete} {
			if a != "" && !referenceActions[strings.ToUpper(string(a))] {
				g.refuse(fmt.Errorf("%s: foreign key %s: unknown action %q (expected NO ACTION, RESTRICT, CASCADE, SET NULL or SET DEFAULT)",
					obj, strconv.Quote(fk.Symbol), a))
			}
		}
	}
}

var (
	identityKinds    = map[string]bool{"ALWAYS": true, "BY DEFAULT": true}
	referenceActions = map[string]bool{"NO ACTION": true, "RESTRICT": true, "CASCADE": true, "SET NULL": true, "SET DEFAULT": true}
	// What the catalog holds for an index method, an operator class (maybe
	// schema-qualified) and its parameters, and an operator.
	plainWord    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)
	opClassName  = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$`)
	opClassValue = regexp.MustCompile(`^[A-Za-z0-9_.+-]+$`)
	operatorName = regexp.MustCompile(`^([+\-*/<>=~!@#%^&|` + "`" + `?]+|OPERATOR\(([A-Za-z_][A-Za-z0-9_$]*\.)?[+\-*/<>=~!@#%^&|` + "`" + `?]+\))$`)
)

func (g *Guard) index(obj string, idx *schema.Index) {
	what := fmt.Sprintf("%s: index %s", obj, strconv.Quote(idx.Name))
	g.ident(&idx.Name)
	g.attrs(idx.Attrs)
	for _, a := range idx.Attrs {
		if it, ok := a.(*postgres.IndexType); ok && !plainWord.MatchString(it.T) {
			g.refuse(fmt.Errorf("%s: index method %q is not a name keel can write into SQL", what, it.T))
		}
	}
	for _, p := range idx.Parts {
		g.attrs(p.Attrs)
		for _, a := range p.Attrs {
			switch a := a.(type) {
			case *postgres.IndexOpClass:
				if !opClassName.MatchString(a.Name) {
					g.refuse(fmt.Errorf("%s: operator class %q is not a name keel can write into SQL", what, a.Name))
				}
				for _, prm := range a.Params {
					if !plainWord.MatchString(prm.N) || !opClassValue.MatchString(prm.V) {
						g.refuse(fmt.Errorf("%s: operator class parameter %s=%s is not one keel can write into SQL", what, prm.N, prm.V))
					}
				}
			case *postgres.Operator:
				if !operatorName.MatchString(a.Name) {
					g.refuse(fmt.Errorf("%s: operator %q is not one keel can write into SQL", what, a.Name))
				}
			}
		}
	}
}

// DisplayName is schema.name for messages, each part quoted when it is not
// a plain name, so that a name cannot pass for something else in a plan.
func DisplayName(s *schema.Schema, name string) string {
	if s != nil {
		return plan.DisplayName(s.Name, name)
	}
	return plan.DisplayPart(name)
}
