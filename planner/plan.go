package planner

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"keel/planner/diff"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"
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
	steps, err := diff.Steps(ctx, l.Engine(), facts, current, want, opts.ConcurrentIndexes, opts.Timeouts)
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
