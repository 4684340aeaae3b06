package state

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The schema engine's HCL evaluator skips blocks and attributes it does not
// know, and some it knows but does not carry into the schema (an exclusion
// constraint, a column's collation): a typo in schema.hcl, or a block that
// only Atlas Pro understands, would silently not be planned. keel reads the
// files against the grammar below first: a block or attribute outside it is
// an error at its file:line:column, with the name it was probably meant to
// be; a block kind that Atlas Pro has and keel does not manage yet is an
// error that says so.

// blockSpec is what one kind of block may hold.
type blockSpec struct {
	// minLabels and maxLabels bound the block's labels.
	minLabels, maxLabels int
	// labelHint shows the labels it takes, for messages.
	labelHint string
	attrs     []string
	blocks    map[string]*blockSpec
	// unsupported are the blocks Atlas Pro (or Atlas's own spec) has inside
	// this kind that keel does not manage yet, with what to say.
	unsupported map[string]string
}

var (
	indexPartSpec = &blockSpec{attrs: []string{"column", "expr", "desc", "ops", "nulls_first", "nulls_last"}}
	indexAttrs    = []string{"columns", "type", "where", "nulls_distinct", "page_per_range", "include", "comment"}

	// topLevel is keel's grammar of Atlas HCL for PostgreSQL: what the
	// open-source engine reads and carries into the schema, plus keel's
	// extension blocks (checked when they are taken out, see extensionBlock)
	// and keel's setting attributes (settingAttrs, read by takeSettings).
	topLevel = &blockSpec{
		blocks: map[string]*blockSpec{
			"schema": {minLabels: 1, maxLabels: 1, labelHint: `schema "public" {}`, attrs: []string{"comment"}},
			"enum": {minLabels: 1, maxLabels: 2, labelHint: `enum "status" { schema = schema.public, values = [...] }`,
				attrs: []string{"schema", "values"}},
			"table": {
				minLabels: 1, maxLabels: 2, labelHint: `table "users" { schema = schema.public ... }`,
				attrs: append(append([]string{"schema", "comment"}, settingAttrs["table"]...), append([]string{"inherits"}, partitionAttrs...)...),
				blocks: map[string]*blockSpec{
					"column": {minLabels: 1, maxLabels: 1, labelHint: `column "id" { type = int }`,
						attrs: append([]string{"type", "null", "default", "comment", "as", "inherited"}, settingAttrs["column"]...),
						blocks: map[string]*blockSpec{
							"identity": {attrs: append([]string{"generated", "start", "increment"}, settingAttrs["identity"]...)},
							"as":       {attrs: []string{"expr", "type"}},
						}},
					"primary_key": {maxLabels: 1, attrs: append([]string{"columns"}, settingAttrs["primary_key"]...), blocks: map[string]*blockSpec{"on": indexPartSpec}},
					"index": {minLabels: 1, maxLabels: 1, labelHint: `index "users_email_idx" { columns = [...] }`,
						attrs: append(append([]string{"unique"}, indexAttrs...), settingAttrs["index"]...), blocks: map[string]*blockSpec{"on": indexPartSpec}},
					"unique": {minLabels: 1, maxLabels: 1, labelHint: `unique "users_email_key" { columns = [...] }`,
						attrs: append(append([]string{}, indexAttrs...), settingAttrs["unique"]...), blocks: map[string]*blockSpec{"on": indexPartSpec}},
					"foreign_key": {minLabels: 1, maxLabels: 1, labelHint: `foreign_key "orders_user_fk" { columns = [...], ref_columns = [...] }`,
						attrs: append([]string{"columns", "ref_columns", "on_update", "on_delete"}, settingAttrs["foreign_key"]...)},
					"check": {maxLabels: 1, attrs: append([]string{"expr"}, settingAttrs["check"]...)},
					// The partition key; the engine reads it, and keel for a
					// partition partitioned itself (see partitionKeySQL).
					"partition": {attrs: []string{"type", "columns"}, blocks: map[string]*blockSpec{"by": {attrs: []string{"column", "expr"}}}},
				},
				unsupported: map[string]string{
					"exclude":      "exclusion constraints are not supported yet",
					"row_security": "row-level security is not supported yet",
					"trigger":      "triggers are not supported yet",
				},
			},
		},
		unsupported: map[string]string{
			"view":          "view blocks are not supported yet",
			"materialized":  "materialized view blocks are not supported yet",
			"function":      "function blocks are not supported yet",
			"procedure":     "procedure blocks are not supported yet",
			"trigger":       "trigger blocks are not supported yet",
			"sequence":      "sequence blocks are not supported yet",
			"domain":        "domain blocks are not supported yet",
			"composite":     "composite type blocks are not supported yet",
			"range":         "range type blocks are not supported yet",
			"policy":        "policy blocks are not supported yet",
			"role":          "role blocks are not supported yet",
			"user":          "user blocks are not supported yet",
			"permission":    "permission blocks are not supported yet",
			"aggregate":     "aggregate blocks are not supported yet",
			"event_trigger": "event trigger blocks are not supported yet",
			"collation":     "collation blocks are not supported yet",
			"statistics":    "statistics blocks are not supported yet",
			"variable":      "input variables are not supported: write the values in the file",
			"locals":        "locals blocks are not supported: write the values in the file",
		},
	}
)

// SchemaError is a desired state that does not read: every problem found,
// each starting with file:line:column.
type SchemaError struct {
	Problems []string
}

func (e *SchemaError) Error() string { return strings.Join(e.Problems, "\n") }

// checkGrammar reads body against keel's grammar and returns every problem.
func checkGrammar(body *hclsyntax.Body) []string {
	var problems []string
	checkBody(body, topLevel, "", &problems)
	return problems
}

func checkBody(body *hclsyntax.Body, spec *blockSpec, where string, problems *[]string) {
	add := func(r hcl.Range, format string, args ...any) {
		*problems = append(*problems, fmt.Sprintf("%s: %s", posCol(r), fmt.Sprintf(format, args...)))
	}
	names := make([]string, 0, len(body.Attributes))
	for n := range body.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := body.Attributes[n]
		if contains(spec.attrs, n) {
			continue
		}
		if _, isBlock := spec.blocks[n]; isBlock && n != "as" {
			add(a.NameRange, "%s is a block, not an attribute: write %s { ... }", n, n)
			continue
		}
		add(a.NameRange, "unknown attribute %q%s%s", n, in(where), didYouMean(n, spec.attrs, keys(spec.blocks)))
	}
	for _, b := range body.Blocks {
		sub, ok := spec.blocks[b.Type]
		switch {
		case ok:
		case spec.unsupported[b.Type] != "":
			add(b.TypeRange, "%s%s: keel does not manage it, and never skips what it does not manage", spec.unsupported[b.Type], in(where))
			continue
		case contains(spec.attrs, b.Type):
			add(b.TypeRange, "%s is an attribute, not a block: write %s = ...", b.Type, b.Type)
			continue
		default:
			add(b.TypeRange, "unknown block %q%s%s", b.Type, in(where), didYouMean(b.Type, keys(spec.blocks), spec.attrs))
			continue
		}
		if n := len(b.Labels); n < sub.minLabels || n > sub.maxLabels {
			hint := ""
			if sub.labelHint != "" {
				hint = ": " + sub.labelHint
			}
			add(b.TypeRange, "a %s block takes %s, not %d%s", b.Type, labelCount(sub), n, hint)
			continue
		}
		name := b.Type
		if len(b.Labels) > 0 {
			name += " " + fmt.Sprintf("%q", b.Labels[len(b.Labels)-1])
		}
		if where != "" {
			name = where + ", " + name
		}
		checkBody(b.Body, sub, name, problems)
	}
}

func in(where string) string {
	if where == "" {
		return ""
	}
	return " in " + where
}

func labelCount(s *blockSpec) string {
	switch {
	case s.minLabels == s.maxLabels && s.maxLabels == 0:
		return "no label"
	case s.minLabels == s.maxLabels && s.maxLabels == 1:
		return "one label"
	case s.minLabels == 0:
		return fmt.Sprintf("at most %d label(s)", s.maxLabels)
	}
	return fmt.Sprintf("%d to %d labels", s.minLabels, s.maxLabels)
}

// didYouMean suggests the closest of the candidates to name, when one is
// close: "; did you mean \"column\"?", or "" (then it lists what is known).
func didYouMean(name string, candidates ...[]string) string {
	var all []string
	for _, c := range candidates {
		all = append(all, c...)
	}
	sort.Strings(all)
	best, dist := "", 0
	for _, c := range all {
		d := levenshtein.Distance(name, c, nil)
		if best == "" || d < dist {
			best, dist = c, d
		}
	}
	if best != "" && (dist <= 2 || dist*3 <= len(name)) {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	if len(all) == 0 {
		return ""
	}
	return "; known here: " + strings.Join(all, ", ")
}

func keys(m map[string]*blockSpec) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// schemaError gathers problems into a *SchemaError, or nil.
func schemaError(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return &SchemaError{Problems: problems}
}

// asSchemaError wraps an error about the files' content as a *SchemaError.
func asSchemaError(err error) error {
	var se *SchemaError
	if err == nil || errors.As(err, &se) {
		return err
	}
	return &SchemaError{Problems: []string{err.Error()}}
}
