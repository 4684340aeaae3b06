package state

import (
	"fmt"
	"regexp"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// ExtensionTypes maps the extensions keel knows to the column types they
// define. Once an extension is declared, these types can be written by name
// in HCL (`type = citext`, `type = vector(1536)`), and inspect prints them so.
var ExtensionTypes = map[string][]string{
	"citext":        {"citext"},
	"hstore":        {"hstore"},
	"ltree":         {"ltree", "lquery", "ltxtquery"},
	"vector":        {"vector", "halfvec", "sparsevec"},
	"cube":          {"cube"},
	"seg":           {"seg"},
	"isn":           {"ean13", "isbn", "isbn13", "ismn", "ismn13", "issn", "issn13", "upc"},
	"postgis":       {"geometry", "geography", "box2d", "box3d"},
	"earthdistance": {"earth"},
	"lo":            {"lo"},
}

// extensionOfType returns the extension that defines the type name.
func extensionOfType(name string) (string, bool) {
	for ext, types := range ExtensionTypes {
		for _, t := range types {
			if t == name {
				return ext, true
			}
		}
	}
	return "", false
}

// rewriteExtensionTypes replaces, in the column blocks of body, a `type`
// written as an extension's type name (`citext`, `vector(1536)`) with
// sql("schema.citext") when the extension is declared, qualified with the
// extension's schema when it has one. The engine's evaluator knows only core
// types; this lets the extension's types be written as plainly as those.
func rewriteExtensionTypes(body *hclsyntax.Body, exts []plan.Extension) error {
	declared := make(map[string]plan.Extension, len(exts))
	for _, e := range exts {
		declared[e.Name] = e
	}
	for _, tb := range body.Blocks {
		if tb.Type != "table" {
			continue
		}
		for _, cb := range tb.Body.Blocks {
			if cb.Type != "column" {
				continue
			}
			a, ok := cb.Body.Attributes["type"]
			if !ok {
				continue
			}
			name, ok := typeExprName(a.Expr)
			if !ok {
				continue
			}
			ext, ok := extensionOfType(name)
			if !ok {
				continue
			}
			args, ok := typeExprArgs(a.Expr)
			if !ok {
				continue
			}
			e, ok := declared[ext]
			if !ok {
				return fmt.Errorf("%s: type %s comes from extension %q, which is not declared: add `extension %q {}` (with schema = schema.NAME to choose where it goes)",
					posOf(a.SrcRange), name, ext, ext)
			}
			raw := name + args
			if e.Schema != "" {
				raw = quoteIdentIfNeeded(e.Schema) + "." + raw
			}
			a.Expr = &hclsyntax.FunctionCallExpr{
				Name:            "sql",
				Args:            []hclsyntax.Expression{&hclsyntax.LiteralValueExpr{Val: cty.StringVal(raw), SrcRange: a.Expr.Range()}},
				NameRange:       a.Expr.Range(),
				OpenParenRange:  a.Expr.Range(),
				CloseParenRange: a.Expr.Range(),
			}
		}
	}
	return nil
}

// typeExprName reads `name` or `name(1, 2)` as a type name (not sql(...)).
func typeExprName(x hclsyntax.Expression) (name string, ok bool) {
	switch e := x.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		if len(e.Traversal) != 1 {
			return "", false
		}
		return e.Traversal.RootName(), true
	case *hclsyntax.FunctionCallExpr:
		if e.Name == "sql" {
			return "", false
		}
		return e.Name, true
	}
	return "", false
}

// typeExprArgs reads the parenthesized arguments of a type typeExprName
// read, as written ("" for none); ok is false when one is not a number.
// Callers ask it of an extension's types only: formatting each number
// (cty's, of 512 bits) took a tenth of parsing 1,000 tables' columns.
func typeExprArgs(x hclsyntax.Expression) (args string, ok bool) {
	e, call := x.(*hclsyntax.FunctionCallExpr)
	if !call {
		return "", true
	}
	vals := make([]string, 0, len(e.Args))
	for _, a := range e.Args {
		v, diags := a.Value(nil)
		if diags.HasErrors() || v.IsNull() || !v.Type().Equals(cty.Number) {
			return "", false
		}
		vals = append(vals, v.AsBigFloat().Text('f', -1))
	}
	return "(" + strings.Join(vals, ",") + ")", true
}

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func quoteIdentIfNeeded(s string) string {
	if plainIdent.MatchString(s) {
		return s
	}
	return pgsql.QuoteIdent(s)
}

// inspectedType matches a column type the engine prints for a type it does
// not know: type = sql("public.citext") or sql("public.vector(1536)").
var inspectedType = regexp.MustCompile(`(?m)^(\s*type\s*=\s*)sql\("([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)(\([0-9, ]*\))?"\)$`)

// nameExtensionTypes rewrites, in HCL printed by the engine, the column types
// of installed extensions to their plain names (`type = citext`), which
// rewriteExtensionTypes reads back to the same type.
func nameExtensionTypes(src []byte, exts []plan.Extension) []byte {
	schemaOf := make(map[string]string, len(exts))
	for _, e := range exts {
		schemaOf[e.Name] = e.Schema
	}
	return inspectedType.ReplaceAllFunc(src, func(m []byte) []byte {
		g := inspectedType.FindSubmatch(m)
		ext, ok := extensionOfType(string(g[3]))
		if !ok || schemaOf[ext] != string(g[2]) {
			return m
		}
		return []byte(string(g[1]) + string(g[3]) + strings.ReplaceAll(string(g[4]), " ", ""))
	})
}
