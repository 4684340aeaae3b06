package diff

import (
	"fmt"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
)

func CreateExtensionSQL(e plan.Extension) string {
	var b strings.Builder
	b.WriteString("CREATE EXTENSION IF NOT EXISTS ")
	b.WriteString(pgsql.QuoteIdent(e.Name))
	if e.Schema != "" {
		b.WriteString(" WITH SCHEMA ")
		b.WriteString(pgsql.QuoteIdent(e.Schema))
	}
	if e.Version != "" {
		b.WriteString(" VERSION ")
		b.WriteString(pgsql.QuoteLiteral(e.Version))
	}
	return b.String()
}

// extensionSteps returns the steps that bring the live extensions to the
// desired ones: the ones to run before the engine's changes (create, update,
// move, comment) and the ones to run after them (drop), so that nothing that
// uses an extension is created before it or left behind after it.
//
// An extension whose version changes where the server has no update path
// (a downgrade, usually) is dropped and installed again at the desired
// version: PostgreSQL refuses the drop, and the plan is rolled back, while
// anything outside the extension uses its objects.
func extensionSteps(live, desired []plan.Extension, facts Facts) (before, after []plan.Step) {
	installed := make(map[string]plan.Extension, len(live))
	for _, e := range live {
		installed[e.Name] = e
	}
	wanted := make(map[string]bool, len(desired))
	for _, d := range desired {
		wanted[d.Name] = true
		obj := "extension " + d.Name
		l, ok := installed[d.Name]
		if !ok {
			before = append(before, plan.Step{SQL: CreateExtensionSQL(d), Action: plan.ActionCreate, Object: obj,
				Comment: fmt.Sprintf("install extension %q", d.Name), Transactional: true,
				Hazards: []plan.Hazard{{Code: plan.HazardExtension, Severity: plan.SeverityInfo, Object: obj, Message: "installs the extension (the role needs the right to, see keel doctor)"}}})
			if d.Comment != "" {
				before = append(before, commentExtension(d))
			}
			continue
		}
		if d.Version != "" && d.Version != l.Version {
			if ok := facts.Updates(d.Name, l.Version, d.Version); ok != nil && !*ok {
				before = append(before, reinstallExtension(l, d)...)
				continue
			}
			before = append(before, plan.Step{
				SQL:           fmt.Sprintf("ALTER EXTENSION %s UPDATE TO %s", pgsql.QuoteIdent(d.Name), pgsql.QuoteLiteral(d.Version)),
				Action:        plan.ActionAlter,
				Object:        obj,
				Comment:       fmt.Sprintf("update extension %q from version %s to %s", d.Name, l.Version, d.Version),
				Transactional: true,
				Hazards: []plan.Hazard{{Code: plan.HazardExtension, Severity: plan.SeverityWarning, Object: obj,
					Message: fmt.Sprintf("upgrades the extension from %s to %s: its functions and types may change", l.Version, d.Version)}},
			})
		}
		if d.Schema != "" && d.Schema != l.Schema {
			before = append(before, plan.Step{
				SQL:           fmt.Sprintf("ALTER EXTENSION %s SET SCHEMA %s", pgsql.QuoteIdent(d.Name), pgsql.QuoteIdent(d.Schema)),
				Action:        plan.ActionAlter,
				Object:        obj,
				Comment:       fmt.Sprintf("move extension %q from schema %q to %q", d.Name, l.Schema, d.Schema),
				Transactional: true,
				Hazards: []plan.Hazard{
					{Code: plan.HazardExtension, Severity: plan.SeverityWarning, Object: obj, Message: "moves the extension's objects to another schema"},
					{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj, Message: "code that names the extension's objects by their old schema breaks"},
				},
			})
		}
		if d.Comment != "" && d.Comment != l.Comment {
			before = append(before, commentExtension(d))
		}
	}
	for _, l := range live {
		if wanted[l.Name] {
			continue
		}
		after = append(after, plan.Step{
			SQL:           "DROP EXTENSION " + pgsql.QuoteIdent(l.Name),
			Action:        plan.ActionDrop,
			Object:        "extension " + l.Name,
			Comment:       fmt.Sprintf("drop extension %q, which the desired state no longer declares", l.Name),
			Transactional: true,
			Hazards: []plan.Hazard{
				{Code: plan.HazardExtension, Severity: plan.SeverityWarning, Object: "extension " + l.Name, Message: "drops the extension"},
				{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: "extension " + l.Name, Message: "drops the extension's objects (it fails, changing nothing, if anything else still uses them)"},
			},
		})
	}
	return before, after
}

// reinstallExtension drops an extension and installs it again at the
// desired version.
func reinstallExtension(l, d plan.Extension) []plan.Step {
	obj := "extension " + d.Name
	if d.Schema == "" {
		d.Schema = l.Schema // where it was
	}
	steps := []plan.Step{
		{SQL: "DROP EXTENSION " + pgsql.QuoteIdent(l.Name), Action: plan.ActionDrop, Object: obj, Transactional: true,
			Comment: fmt.Sprintf("drop extension %q to install version %s: the server has no update path from %s", d.Name, d.Version, l.Version),
			Hazards: []plan.Hazard{
				{Code: plan.HazardExtension, Severity: plan.SeverityWarning, Object: obj,
					Message: fmt.Sprintf("the server has no update path from %s to %s, so the extension is dropped and installed again", l.Version, d.Version)},
				{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: obj,
					Message: "drops the extension's objects and the rows of its own tables (it fails, changing nothing, if anything else still uses them)"},
			}},
		{SQL: CreateExtensionSQL(d), Action: plan.ActionCreate, Object: obj, Transactional: true,
			Comment: fmt.Sprintf("install extension %q at version %s", d.Name, d.Version)},
	}
	if d.Comment != "" {
		steps = append(steps, commentExtension(d))
	}
	return steps
}

func commentExtension(e plan.Extension) plan.Step {
	return plan.Step{
		SQL:           fmt.Sprintf("COMMENT ON EXTENSION %s IS %s", pgsql.QuoteIdent(e.Name), pgsql.QuoteLiteral(e.Comment)),
		Action:        plan.ActionAlter,
		Object:        "extension " + e.Name,
		Comment:       fmt.Sprintf("set the comment of extension %q", e.Name),
		Transactional: true,
	}
}
