package planner

import (
	"fmt"
	"io"
	"strings"
)

// RenderSQL writes only the statements, each ending in a semicolon, ready
// for psql. An empty plan writes nothing.
func RenderSQL(w io.Writer, p *Plan) error {
	for _, s := range p.Steps {
		if _, err := fmt.Fprintf(w, "%s;\n", s.SQL); err != nil {
			return err
		}
	}
	return nil
}

// RenderText writes the plan for a reader: target, numbered statements with
// what each does, a summary and the objects keel leaves alone.
func RenderText(w io.Writer, p *Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for %s (schemas: %s)\n", p.Target, strings.Join(p.Schemas, ", "))
	if p.Empty() {
		b.WriteString("\nNo changes: the database matches the desired state.\n")
	} else {
		b.WriteString("\n")
		for i, s := range p.Steps {
			fmt.Fprintf(&b, "-- %d/%d: %s (%s %s)\n%s;\n\n", i+1, len(p.Steps), s.Comment, s.Action, s.Object, s.SQL)
		}
		fmt.Fprintf(&b, "Plan: %s, in one transaction.\n", p.Summary())
	}
	writeNotManaged(&b, "Not managed by keel, left as they are", p.NotManaged)
	writeNotManaged(&b, "In the desired state but not managed by keel, not created", p.DesiredNotManaged)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeNotManaged(b *strings.Builder, title string, objs []Object) {
	if len(objs) == 0 {
		return
	}
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = o.String()
	}
	fmt.Fprintf(b, "\n%s (%d): %s\n", title, len(objs), strings.Join(names, ", "))
}
