package planner

import (
	"context"
	"fmt"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
)

// Action says what a step does to its object.
type Action string

// The actions of a step.
const (
	ActionCreate Action = "create"
	ActionAlter  Action = "alter"
	ActionDrop   Action = "drop"
)

// Step is one statement of a plan.
type Step struct {
	// SQL is the statement, without a trailing semicolon.
	SQL string `json:"sql"`
	// Comment says in words what the statement does.
	Comment string `json:"comment,omitempty"`
	// Action is what the statement does to Object.
	Action Action `json:"action"`
	// Object is what the statement changes: "table public.users".
	Object string `json:"object"`
}

// Plan is the ordered list of statements that bring a database to the
// desired state. What is rendered for review and what Apply executes are
// this same value.
type Plan struct {
	// Target is the database the plan was computed for.
	Target Target `json:"target"`
	// Schemas are the schemas the plan manages.
	Schemas []string `json:"schemas"`
	// Steps run in order, in one transaction.
	Steps []Step `json:"steps"`
	// NotManaged lists objects found in the managed schemas that keel does
	// not manage: the plan never drops or alters them.
	NotManaged []Object `json:"not_managed,omitempty"`
	// DesiredNotManaged lists objects of the desired state (SQL or a
	// database) that keel does not manage: the plan does not create them.
	DesiredNotManaged []Object `json:"desired_not_managed,omitempty"`
}

// Summary counts the objects a plan creates, alters and drops.
type Summary struct {
	Create, Alter, Drop int
}

func (s Summary) String() string {
	return fmt.Sprintf("%d to create, %d to alter, %d to drop", s.Create, s.Alter, s.Drop)
}

// Summary counts the objects the plan creates, alters and drops; an object
// that several statements create (a table, its indexes, its comments) counts once.
func (p *Plan) Summary() Summary {
	var (
		s    Summary
		seen = make(map[string]bool)
	)
	for _, st := range p.Steps {
		if seen[st.Object] {
			continue
		}
		seen[st.Object] = true
		switch st.Action {
		case ActionCreate:
			s.Create++
		case ActionAlter:
			s.Alter++
		case ActionDrop:
			s.Drop++
		}
	}
	return s
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Steps) == 0 }

// Options configure Generate.
type Options struct {
	// Schemas the plan manages. Empty means the schemas of the desired state.
	Schemas []string
	// Dev is where throwaway databases are created to normalize the desired
	// state. A nil Server means the target's server.
	Dev DevDatabase
}

// Generate computes the plan that brings the target database to the desired
// state. It changes nothing on the target.
func Generate(ctx context.Context, target *DB, desired Desired, opts Options) (*Plan, error) {
	dev := opts.Dev
	if dev.Server == nil {
		dev.Server = target
	}
	want, err := desired.Load(ctx, dev)
	if err != nil {
		return nil, err
	}
	want = want.only(opts.Schemas)
	schemas := opts.Schemas
	if len(schemas) == 0 {
		schemas = want.SchemaNames()
	}
	live, err := OpenLive(ctx, target)
	if err != nil {
		return nil, err
	}
	defer live.Close()
	current, err := live.Inspect(ctx, schemas)
	if err != nil {
		return nil, err
	}
	steps, err := live.steps(ctx, current, want)
	if err != nil {
		return nil, err
	}
	notManaged, err := live.NotManaged(ctx, schemas)
	if err != nil {
		return nil, err
	}
	return &Plan{Target: target.Target(), Schemas: schemas, Steps: steps, NotManaged: notManaged,
		DesiredNotManaged: want.NotManaged}, nil
}

// steps diffs two states and orders the statements: new schemas, then
// extensions, then the engine's changes, then dropped extensions.
func (l *Live) steps(ctx context.Context, from, to *State) ([]Step, error) {
	changes, err := l.drv.RealmDiff(from.Realm, to.Realm)
	if err != nil {
		return nil, fmt.Errorf("computing the difference: %w", err)
	}
	changes = fixColumnChanges(from.Realm, to.Realm, changes)
	var first, rest []schema.Change
	for _, c := range changes {
		switch c.(type) {
		case *schema.AddSchema:
			first = append(first, c)
		case *schema.DropSchema:
			// Atlas drops schemas with CASCADE, which would take objects keel
			// does not manage with it. Managed schemas are the desired ones,
			// so this cannot come from a desired state: refuse rather than guess.
			return nil, fmt.Errorf("computing the difference: schema %q would be dropped; keel does not drop schemas", c.(*schema.DropSchema).S.Name)
		default:
			rest = append(rest, c)
		}
	}
	before, after := extensionSteps(from.Extensions, to.Extensions)
	var steps []Step
	for _, group := range [][]schema.Change{first, rest} {
		s, err := l.plan(ctx, group)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s...)
		if len(before) > 0 {
			steps = append(steps, before...)
			before = nil
		}
	}
	return append(steps, after...), nil
}

// plan turns engine changes into steps.
func (l *Live) plan(ctx context.Context, changes []schema.Change) ([]Step, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	p, err := l.drv.PlanChanges(ctx, "keel", changes)
	if err != nil {
		return nil, fmt.Errorf("planning the changes: %w", err)
	}
	steps := make([]Step, 0, len(p.Changes))
	for _, c := range p.Changes {
		if len(c.Args) > 0 {
			return nil, fmt.Errorf("planning the changes: statement %q takes arguments, which keel cannot run", c.Cmd)
		}
		steps = append(steps, stepOf(c))
	}
	return steps, nil
}

func stepOf(c *migrate.Change) Step {
	s := Step{SQL: strings.TrimSuffix(strings.TrimSpace(c.Cmd), ";"), Comment: c.Comment}
	switch src := c.Source.(type) {
	case *schema.AddSchema:
		s.Action, s.Object = ActionCreate, "schema "+src.S.Name
	case *schema.ModifySchema:
		s.Action, s.Object = ActionAlter, "schema "+src.S.Name
	case *schema.AddTable:
		s.Action, s.Object = ActionCreate, "table "+tableName(src.T)
	case *schema.DropTable:
		s.Action, s.Object = ActionDrop, "table "+tableName(src.T)
	case *schema.ModifyTable:
		s.Action, s.Object = ActionAlter, "table "+tableName(src.T)
	case *schema.RenameTable:
		s.Action, s.Object = ActionAlter, "table "+tableName(src.From)
	case *schema.AddObject:
		s.Action, s.Object = ActionCreate, objectName(src.O)
	case *schema.DropObject:
		s.Action, s.Object = ActionDrop, objectName(src.O)
	case *schema.ModifyObject:
		s.Action, s.Object = ActionAlter, objectName(src.From)
	default:
		s.Action, s.Object = ActionAlter, fmt.Sprintf("%T", c.Source)
	}
	return s
}

func tableName(t *schema.Table) string {
	if t.Schema != nil {
		return t.Schema.Name + "." + t.Name
	}
	return t.Name
}

func objectName(o schema.Object) string {
	if e, ok := o.(*schema.EnumType); ok {
		if e.Schema != nil {
			return "enum " + e.Schema.Name + "." + e.T
		}
		return "enum " + e.T
	}
	return fmt.Sprintf("%T", o)
}
