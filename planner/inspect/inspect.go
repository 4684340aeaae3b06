// Package inspect reads a live database: the schema engine's inspection
// (with keel's faster forms of its slow queries), keel's own catalog
// queries (extensions, invalid indexes, objects keel does not manage), and
// the facts the hazard analysis asks about tables (sizes, probes,
// dependent views).
package inspect

import (
	"context"
	"fmt"

	"keel/internal/pgsql"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// Live is a database inspected on its connection through the Atlas engine
// plus keel's own catalog queries (extensions, objects keel does not manage).
type Live struct {
	db  *pg.Conn
	drv migrate.Driver
}

// OpenLive sets the schema engine up on the connection c, for inspection
// and planning. It opens no connection: everything runs on c, in c's
// session (and in its transaction, when one is open).
func OpenLive(ctx context.Context, c *pg.Conn) (*Live, error) {
	var eq schema.ExecQuerier = c
	if inspectRewriteEnabled(c.DB()) {
		eq = newFastQuerier(ctx, c)
	}
	drv, err := postgres.Open(eq)
	if err != nil {
		return nil, fmt.Errorf("opening the schema engine on %s: %w", c.DB(), err)
	}
	return &Live{db: c, drv: drv}, nil
}

// Engine is the schema engine's driver on the connection: it renders
// changes as SQL (and runs no SQL doing so).
func (l *Live) Engine() migrate.Driver { return l.drv }

// Inspect reads the state of the given schemas and the installed extensions.
func (l *Live) Inspect(ctx context.Context, schemas []string) (*state.State, error) {
	realm, err := l.inspectRealm(ctx, schemas)
	if err != nil {
		return nil, fmt.Errorf("inspecting schemas %v: %w", schemas, err)
	}
	exts, err := l.extensions(ctx)
	if err != nil {
		return nil, err
	}
	invalid, err := l.invalidIndexes(ctx, schemas)
	if err != nil {
		return nil, err
	}
	for _, ix := range invalid {
		if s, ok := realm.Schema(ix.Schema); ok {
			if t, ok := s.Table(ix.Table); ok {
				for i, idx := range t.Indexes {
					if idx.Name == ix.Name {
						t.Indexes = append(t.Indexes[:i], t.Indexes[i+1:]...)
						break
					}
				}
			}
		}
	}
	resolveUserTypes(realm)
	return &state.State{Realm: realm, Extensions: exts, Invalid: invalid}, nil
}

// resolveUserTypes gives columns whose type the engine could not match to
// an enum, domain or composite type of the realm (it reads the name that
// format_type prints, and misreads some quoted names, such as one holding a
// newline) that type, read with PostgreSQL's lexical rules: a column of an
// enum must have the enum as its type, or a plan orders its drops wrongly.
func resolveUserTypes(r *schema.Realm) {
	lookup := func(sch, name string) schema.Type {
		s, ok := r.Schema(sch)
		if !ok {
			return nil
		}
		for _, o := range s.Objects {
			switch o := o.(type) {
			case *schema.EnumType:
				if o.T == name {
					return o
				}
			case *postgres.DomainType:
				if o.T == name {
					return o
				}
			case *postgres.CompositeType:
				if o.T == name {
					return o
				}
			}
		}
		return nil
	}
	resolve := func(t *schema.Table, u *postgres.UserDefinedType) schema.Type {
		sch, name, ok := splitTypeName(u.T)
		if !ok {
			return nil
		}
		if sch != "" {
			return lookup(sch, name)
		}
		// Unqualified: visible on the search path, public first.
		if x := lookup("public", name); x != nil {
			return x
		}
		if t.Schema != nil {
			return lookup(t.Schema.Name, name)
		}
		return nil
	}
	for _, s := range r.Schemas {
		for _, t := range s.Tables {
			for _, c := range t.Columns {
				if c.Type == nil {
					continue
				}
				switch ct := c.Type.Type.(type) {
				case *postgres.UserDefinedType:
					if x := resolve(t, ct); x != nil {
						c.Type.Raw, c.Type.Type = ct.T, x
					}
				case *postgres.ArrayType:
					if u, ok := ct.Type.(*postgres.UserDefinedType); ok {
						if x := resolve(t, u); x != nil {
							ct.Type = x
						}
					}
				}
			}
		}
	}
}

// splitTypeName reads a type name as format_type prints it: name or
// schema.name, each part quoted or not.
func splitTypeName(s string) (sch, name string, ok bool) {
	toks, err := pgsql.Lex(s)
	if err != nil {
		return "", "", false
	}
	var parts []string
	for i, t := range toks {
		switch {
		case i%2 == 1 && t.Kind == pgsql.Other && t.Text == ".":
		case i%2 == 0 && t.Kind == pgsql.QuotedIdent:
			parts = append(parts, t.Value)
		case i%2 == 0 && t.Kind == pgsql.Word:
			parts = append(parts, t.Text)
		default:
			return "", "", false
		}
	}
	switch len(parts) {
	case 1:
		return "", parts[0], len(toks) == 1
	case 2:
		return parts[0], parts[1], len(toks) == 3
	}
	return "", "", false
}

// invalidIndexes lists indexes left INVALID by a failed concurrent build.
func (l *Live) invalidIndexes(ctx context.Context, schemas []string) ([]state.InvalidIndex, error) {
	rows, err := l.db.QueryContext(ctx, `
SELECT n.nspname, t.relname, i.relname
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE NOT x.indisvalid AND n.nspname = ANY($1)
ORDER BY 1, 2, 3`, schemas)
	if err != nil {
		return nil, fmt.Errorf("listing invalid indexes: %w", err)
	}
	defer rows.Close()
	var out []state.InvalidIndex
	for rows.Next() {
		var ix state.InvalidIndex
		if err := rows.Scan(&ix.Schema, &ix.Table, &ix.Name); err != nil {
			return nil, fmt.Errorf("listing invalid indexes: %w", err)
		}
		out = append(out, ix)
	}
	return out, rows.Err()
}

// extensions lists installed extensions, except plpgsql, which every
// database has and keel never manages.
func (l *Live) extensions(ctx context.Context) ([]plan.Extension, error) {
	rows, err := l.db.QueryContext(ctx, `
SELECT e.extname, n.nspname, e.extversion, COALESCE(obj_description(e.oid, 'pg_extension'), '')
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
ORDER BY e.extname`)
	if err != nil {
		return nil, fmt.Errorf("listing extensions: %w", err)
	}
	defer rows.Close()
	var exts []plan.Extension
	for rows.Next() {
		var e plan.Extension
		if err := rows.Scan(&e.Name, &e.Schema, &e.Version, &e.Comment); err != nil {
			return nil, fmt.Errorf("listing extensions: %w", err)
		}
		exts = append(exts, e)
	}
	return exts, rows.Err()
}

// notManagedQuery lists, in the given schemas, the objects keel leaves
// alone: foreign tables, aggregates, range types and rules. Objects that
// belong to an extension are not listed.
const notManagedQuery = `
WITH ns AS (
  SELECT oid, nspname FROM pg_catalog.pg_namespace WHERE nspname = ANY($1)
), ext AS (
  SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'
)
SELECT 'foreign table', ns.nspname || '.' || c.relname
FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace
WHERE c.relkind = 'f'
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
UNION ALL
SELECT 'aggregate', ns.nspname || '.' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')'
FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace
WHERE p.prokind = 'a' AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
UNION ALL
SELECT 'range type', ns.nspname || '.' || t.typname
FROM pg_catalog.pg_type t JOIN ns ON ns.oid = t.typnamespace
WHERE t.typtype = 'r'
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
UNION ALL
SELECT 'rule', ns.nspname || '.' || c.relname || '.' || r.rulename
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class JOIN ns ON ns.oid = c.relnamespace
WHERE r.rulename <> '_RETURN'
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
ORDER BY 1, 2`

// NotManaged lists the objects in the given schemas that keel does not
// manage: they are never dropped or altered, only reported.
func (l *Live) NotManaged(ctx context.Context, schemas []string) ([]plan.Object, error) {
	rows, err := l.db.QueryContext(ctx, notManagedQuery, schemas)
	if err != nil {
		return nil, fmt.Errorf("listing objects keel does not manage: %w", err)
	}
	defer rows.Close()
	var objs []plan.Object
	for rows.Next() {
		var o plan.Object
		if err := rows.Scan(&o.Kind, &o.Name); err != nil {
			return nil, fmt.Errorf("listing objects keel does not manage: %w", err)
		}
		objs = append(objs, o)
	}
	return objs, rows.Err()
}
