// Package hclerr renders HCL diagnostics as "file:line:column: what; detail".
package hclerr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Wrap returns err with any HCL diagnostics in it rendered one per line,
// each starting with file:line:column. Other errors are returned as they are.
func Wrap(err error) error {
	var diags hcl.Diagnostics
	if !errors.As(err, &diags) {
		var d *hcl.Diagnostic
		if !errors.As(err, &d) {
			return err
		}
		diags = hcl.Diagnostics{d}
	}
	msgs := make([]string, 0, len(diags))
	for _, d := range diags {
		var b strings.Builder
		if d.Subject != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		b.WriteString(d.Summary)
		if d.Detail != "" {
			b.WriteString("; ")
			b.WriteString(d.Detail)
		}
		msgs = append(msgs, b.String())
	}
	return errors.New(strings.Join(msgs, "\n"))
}
