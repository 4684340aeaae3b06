package planner

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// Options configure Generate.
type Options struct {
	// Schemas the plan manages. Empty means the schemas of the desired state.
	Schemas []string
	// Dev is where throwaway databases are created to normalize the desired
	// state. A nil Server means the target's server.
	Dev DevDatabase
	// ConcurrentIndexes builds new indexes on existing tables (and drops
	// indexes) CONCURRENTLY, after the transaction commits.
	ConcurrentIndexes bool
	// Timeouts every statement runs with.
	Timeouts plan.Timeouts
	// NoFingerprints leaves the plan's From and To empty, for a plan that is
	// only shown: such a plan cannot be saved or executed (it would be
	// refused as stale).
	NoFingerprints bool
}

// Generate computes the plan that brings the target database to the desired
// state. It changes nothing on the target.
func Generate(ctx context.Context, target *pg.DB, desired Desired, opts Options) (*plan.Plan, error) {
	if p, ok, err := generateCached(ctx, target, desired, opts); ok {
		return p, err
	}
	want, err := Normalize(ctx, target, desired, opts)
	if err != nil {
		return nil, err
	}
	return Diff(ctx, target, want, opts)
}

// Normalize loads the desired state in the server's normal form, using a
// throwaway database on opts.Dev's server (the target's by default).
func Normalize(ctx context.Context, target *pg.DB, desired Desired, opts Options) (*state.State, error) {
	dev := opts.Dev
	if dev.Server == nil {
		dev.Server = target
	}
	want, err := desired.Load(ctx, dev)
	if err != nil {
		return nil, err
	}
	// A schema written in HCL is meant to be managed: leaving it out
	// silently would hide it from review. SQL and databases may hold more.
	if h, ok := HCLOf(desired); ok && len(opts.Schemas) > 0 {
		declared, err := h.Parsed()
		if err != nil {
			return nil, err
		}
		for _, name := range declared.SchemaNames() {
			if !slices.Contains(opts.Schemas, name) {
				return nil, fmt.Errorf("%s: schema %q is declared, but the managed schemas are %s: add it to the profile's schemas, or remove it from the desired state",
					declared.Positions["schema "+plan.DisplayPart(name)], name, strings.Join(opts.Schemas, ", "))
			}
		}
	}
	return want.Only(opts.Schemas), nil
}

// HCLOf returns the HCL behind a desired state, if it is one.
func HCLOf(d Desired) (*HCL, bool) {
	for {
		switch v := d.(type) {
		case *HCL:
			return v, true
		case interface{ Unwrap() Desired }:
			d = v.Unwrap()
		default:
			return nil, false
		}
	}
}

// Diff inspects the target and computes the plan to the normalized desired
// state want.
func Diff(ctx context.Context, target *pg.DB, want *state.State, opts Options) (*plan.Plan, error) {
	schemas := opts.Schemas
	if len(schemas) == 0 {
		schemas = want.SchemaNames()
	}
	live, current, err := inspectTarget(ctx, target, schemas, &opts)
	if err != nil {
		return nil, err
	}
	defer live.Close()
	return diffLive(ctx, live, target, current, want, schemas, opts)
}

// inspectTarget opens the target and reads the managed schemas.
func inspectTarget(ctx context.Context, target *pg.DB, schemas []string, opts *Options) (*inspect.Live, *state.State, error) {
	if slices.Contains(schemas, HistorySchema) {
		return nil, nil, fmt.Errorf("schema %q is keel's own (its apply history) and cannot be managed: rename the schema in the desired state", HistorySchema)
	}
	if opts.Timeouts == (plan.Timeouts{}) {
		opts.Timeouts = plan.DefaultTimeouts
	}
	live, err := inspect.OpenLive(ctx, target)
	if err != nil {
		return nil, nil, err
	}
	current, err := live.InspectUnder(ctx, schemas, opts.Timeouts)
	if err != nil {
		live.Close()
		return nil, nil, err
	}
	return live, current, nil
}

// diffLive computes the plan from the inspected state current to want.
func diffLive(ctx context.Context, l *inspect.Live, target *pg.DB, current, want *state.State, schemas []string, opts Options) (*plan.Plan, error) {
	facts, err := l.TableFacts(ctx, schemas)
	if err != nil {
		return nil, fmt.Errorf("reading table sizes: %w", err)
	}
	steps, err := computeSteps(ctx, l.Engine(), facts, current, want, opts.ConcurrentIndexes, opts.Timeouts)
	if err != nil {
		return nil, err
	}
	notManaged, err := l.NotManaged(ctx, schemas)
	if err != nil {
		return nil, err
	}
	var from, to plan.Fingerprint
	if !opts.NoFingerprints {
		if from, err = current.Fingerprint(); err != nil {
			return nil, err
		}
		if to, err = want.Fingerprint(); err != nil {
			return nil, err
		}
	}
	return &plan.Plan{
		Target: target.Target(), Schemas: schemas, Steps: steps, NotManaged: notManaged,
		DesiredNotManaged: want.NotManaged, From: from, To: to, LockRetries: opts.Timeouts.Retries,
		DesiredExtensions: append([]plan.Extension{}, want.Extensions...),
	}, nil
}

// generateCached plans an HCL desired state whose normalized form is in the
// cache. When the target's schemas print exactly as the cached state (the
// common case of a plan with no changes to tables and enums), the cached
// state is not even read back: the realms are equal, and only extensions
// can differ. ok is false when there is no usable entry.
func generateCached(ctx context.Context, target *pg.DB, desired Desired, opts Options) (p *plan.Plan, ok bool, err error) {
	h, isHCL := HCLOf(desired)
	dev := opts.Dev
	if dev.Server == nil {
		dev.Server = target
	}
	if !isHCL || dev.Cache == nil {
		return nil, false, nil
	}
	e, _ := dev.Cache.lookup(ctx, h, dev.Server)
	if e == nil || e.RealmHash == "" {
		return nil, false, nil
	}
	schemas := opts.Schemas
	if len(schemas) == 0 {
		schemas = e.Schemas
	}
	for _, s := range e.Schemas {
		if !slices.Contains(schemas, s) {
			return nil, false, nil // Normalize names the schema left out.
		}
	}
	live, current, err := inspectTarget(ctx, target, schemas, &opts)
	if err != nil {
		return nil, true, err
	}
	defer live.Close()
	var want *state.State
	if current.RealmHash() == e.RealmHash {
		want = &state.State{Realm: current.Realm, Extensions: e.extensions(h)}
		want.SetFingerprint(e.Fingerprint)
	} else {
		h.parseInBackground() // wanted later, for messages
		if want, err = e.load(h); err != nil {
			return nil, false, nil
		}
	}
	p, err = diffLive(ctx, live, target, current, want, schemas, opts)
	return p, true, err
}

// computeSteps diffs two states and orders the statements: new schemas, then
// extensions, then the engine's changes, then dropped extensions; the
// statements that run outside the transaction come last. drv renders the
// engine's changes (it runs no SQL); facts answer the hazard analysis.
func computeSteps(ctx context.Context, drv migrate.PlanApplier, facts tableFacts, from, to *state.State, concurrent bool, t plan.Timeouts) ([]plan.Step, error) {
	// The engine's own differ would compare column defaults by running
	// `SELECT <old> = <new>` on the target: text from the desired state,
	// evaluated there. Both states print their defaults through the same
	// server, so keel compares them as text: DefaultDiff runs no SQL.
	changes, err := postgres.DefaultDiff.RealmDiff(from.Realm, to.Realm)
	if err != nil {
		return nil, fmt.Errorf("computing the difference: %w", err)
	}
	changes = fixColumnChanges(from.Realm, to.Realm, changes)
	var first, rest []schema.Change
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.AddSchema:
			first = append(first, c)
		case *schema.DropSchema:
			// Atlas drops schemas with CASCADE, which would take objects keel
			// does not manage with it. Managed schemas are the desired ones,
			// so this cannot come from a desired state: refuse rather than guess.
			return nil, fmt.Errorf("computing the difference: schema %q would be dropped; keel does not drop schemas", c.S.Name)
		default:
			rest = append(rest, c)
		}
	}
	rest, pieces := splitModify(rest, concurrent)
	before, after := extensionSteps(from.Extensions, to.Extensions)
	var steps []plan.Step
	realms := []*schema.Realm{from.Realm, to.Realm}
	s, err := renderSteps(ctx, drv, first, nil, facts, realms)
	if err != nil {
		return nil, err
	}
	steps = append(append(steps, s...), before...)
	steps = append(steps, invalidIndexSteps(from.Invalid, concurrent)...)
	if s, err = renderSteps(ctx, drv, rest, pieces, facts, realms); err != nil {
		return nil, err
	}
	steps = append(append(steps, s...), after...)
	ordered := make([]plan.Step, 0, len(steps))
	for _, tx := range []bool{true, false} {
		for _, st := range steps {
			if st.Transactional == tx {
				st.LockTimeout, st.StatementTimeout = plan.Duration(t.Lock), plan.Duration(t.Statement)
				ordered = append(ordered, st)
			}
		}
	}
	return ordered, nil
}

// pieceKind tells the pieces splitModify makes apart.
type pieceKind int

const (
	pieceRest  pieceKind = iota // the table's ALTER TABLE and comments
	pieceIndex                  // one index created or dropped
)

// splitModify splits each table modification into one piece per index
// created or dropped (their own statements, maybe CONCURRENTLY) and one for
// the rest, so that every statement maps to the changes behind it.
func splitModify(changes []schema.Change, concurrent bool) ([]schema.Change, map[*schema.ModifyTable]pieceKind) {
	pieces := make(map[*schema.ModifyTable]pieceKind)
	out := make([]schema.Change, 0, len(changes))
	for _, c := range changes {
		m, ok := c.(*schema.ModifyTable)
		if !ok {
			out = append(out, c)
			continue
		}
		var drops, adds, rest []schema.Change
		columnsChange := false
		for _, sub := range m.Changes {
			switch sub.(type) {
			case *schema.DropColumn, *schema.ModifyColumn:
				columnsChange = true
			}
		}
		for _, sub := range m.Changes {
			switch sub := sub.(type) {
			case *schema.AddIndex:
				if isConstraint(sub.I) {
					rest = append(rest, sub)
					continue
				}
				if concurrent {
					sub.Extra = append(sub.Extra, &postgres.Concurrently{})
				}
				adds = append(adds, sub)
			case *schema.DropIndex:
				if isConstraint(sub.I) {
					rest = append(rest, sub)
					continue
				}
				// A column change may drop the index itself; keep it in the transaction then.
				if concurrent && !columnsChange {
					sub.Extra = append(sub.Extra, &postgres.Concurrently{})
				}
				drops = append(drops, sub)
			default:
				rest = append(rest, sub)
			}
		}
		for _, d := range drops {
			p := &schema.ModifyTable{T: m.T, Changes: []schema.Change{d}}
			pieces[p] = pieceIndex
			out = append(out, p)
		}
		if len(rest) > 0 {
			p := &schema.ModifyTable{T: m.T, Changes: rest}
			pieces[p] = pieceRest
			out = append(out, p)
		}
		for _, a := range adds {
			p := &schema.ModifyTable{T: m.T, Changes: []schema.Change{a}}
			pieces[p] = pieceIndex
			out = append(out, p)
		}
	}
	return out, pieces
}

func isConstraint(idx *schema.Index) bool {
	for _, a := range idx.Attrs {
		if c, ok := a.(*postgres.Constraint); ok && (c.IsUnique() || c.IsExclude()) {
			return true
		}
	}
	return false
}

// plan turns engine changes into steps with their hazards.
func renderSteps(ctx context.Context, drv migrate.PlanApplier, changes []schema.Change, pieces map[*schema.ModifyTable]pieceKind, facts tableFacts, realms []*schema.Realm) ([]plan.Step, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	rendered, err := renderChanges(ctx, drv, changes, realms...)
	if err != nil {
		return nil, fmt.Errorf("planning the changes: %w", err)
	}
	steps := make([]plan.Step, 0, len(rendered))
	seen := make(map[schema.Change]bool)
	for _, c := range rendered {
		st := stepOf(c)
		st.Transactional = true
		m, isModify := c.Source.(*schema.ModifyTable)
		kind, isPiece := pieces[m]
		switch {
		case isModify && isPiece && kind == pieceIndex:
			// The index statement, then maybe its comment: only the first carries hazards.
			if !seen[c.Source] {
				st.Hazards = hazardsOf([]schema.Change{m}, facts)
			}
			st.Transactional = !concurrently(m)
		case isModify && isPiece:
			// Comments of the rest piece: no hazard of their own.
		case c.Source != nil && !seen[c.Source]:
			st.Hazards = hazardsOf([]schema.Change{c.Source}, facts)
		}
		if c.Source != nil {
			seen[c.Source] = true
		}
		steps = append(steps, st)
	}
	return steps, nil
}

func concurrently(m *schema.ModifyTable) bool {
	for _, c := range m.Changes {
		switch c := c.(type) {
		case *schema.AddIndex:
			return hasClause[*postgres.Concurrently](c.Extra)
		case *schema.DropIndex:
			return hasClause[*postgres.Concurrently](c.Extra)
		}
	}
	return false
}

func stepOf(c *migrate.Change) plan.Step {
	s := plan.Step{SQL: strings.TrimSuffix(strings.TrimSpace(c.Cmd), ";"), Comment: c.Comment}
	switch src := c.Source.(type) {
	case *schema.AddSchema:
		s.Action, s.Object = plan.ActionCreate, "schema "+plan.DisplayPart(src.S.Name)
	case *schema.ModifySchema:
		s.Action, s.Object = plan.ActionAlter, "schema "+plan.DisplayPart(src.S.Name)
	case *schema.AddTable:
		s.Action, s.Object = plan.ActionCreate, "table "+state.TableName(src.T)
	case *schema.DropTable:
		s.Action, s.Object = plan.ActionDrop, "table "+state.TableName(src.T)
	case *schema.ModifyTable:
		s.Action, s.Object = plan.ActionAlter, "table "+state.TableName(src.T)
	case *schema.RenameTable:
		s.Action, s.Object = plan.ActionAlter, "table "+state.TableName(src.From)
	case *schema.AddObject:
		s.Action, s.Object = plan.ActionCreate, objectName(src.O)
	case *schema.DropObject:
		s.Action, s.Object = plan.ActionDrop, objectName(src.O)
	case *schema.ModifyObject:
		s.Action, s.Object = plan.ActionAlter, objectName(src.From)
	default:
		s.Action, s.Object = plan.ActionAlter, fmt.Sprintf("%T", c.Source)
	}
	return s
}

func objectName(o schema.Object) string {
	if e, ok := o.(*schema.EnumType); ok {
		return "enum " + state.DisplayName(e.Schema, e.T)
	}
	return fmt.Sprintf("%T", o)
}
