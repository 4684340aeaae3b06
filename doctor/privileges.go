package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"keel/planner/plan"
	"keel/planner/state"

	"github.com/jackc/pgx/v5"
)

// need is a privilege the plan needs, and why.
type need struct {
	// privilege is "CREATE", "USAGE" or "owner".
	privilege string
	// kind and name are the object: "database" "app", "schema" "public",
	// "table" "public.users", "enum" ..., "extension" ...; for a table or an
	// enum, schema and rel are its two names.
	kind, name  string
	schema, rel string
	why         []string
	// soft: the need is a guess (no plan could be computed), so a missing
	// privilege is a warning.
	soft bool
}

func (n *need) key() string { return n.privilege + " " + n.kind + " " + n.name }

func (n *need) checkName() string {
	if n.privilege == "owner" {
		return "owner of " + n.kind + " " + n.name
	}
	return "privilege " + n.privilege + " on " + n.kind + " " + n.name
}

// needs collects needs in the order they are first added.
type needs struct {
	list  []*need
	index map[string]*need
}

func (ns *needs) add(privilege, kind, name, why string, soft bool) {
	ns.addRel(privilege, kind, "", name, why, soft)
}

// addRel adds a need on a table or enum of a schema.
func (ns *needs) addRel(privilege, kind, schema, name, why string, soft bool) {
	if ns.index == nil {
		ns.index = make(map[string]*need)
	}
	n := &need{privilege: privilege, kind: kind, name: name, soft: soft}
	if schema != "" {
		n.schema, n.rel, n.name = schema, name, plan.DisplayName(schema, name)
	}
	if prev, ok := ns.index[n.key()]; ok {
		if !slices.Contains(prev.why, why) {
			prev.why = append(prev.why, why)
		}
		prev.soft = prev.soft && soft
		return
	}
	n.why = []string{why}
	ns.index[n.key()] = n
	ns.list = append(ns.list, n)
}

// needsOfPlan returns what the plan's statements need: CREATE on the
// database for new schemas and extensions, USAGE and CREATE on the schemas
// it creates objects in, ownership of what it alters or drops.
func needsOfPlan(p *plan.Plan, database string) *needs {
	ns := &needs{}
	created := make(map[string]bool)
	for _, st := range p.Steps {
		if kind, _, name, _ := plan.ParseObject(st.Object); kind == "schema" && st.Action == plan.ActionCreate {
			created[name] = true
		}
	}
	for _, st := range p.Steps {
		kind, schema, name, ok := plan.ParseObject(st.Object)
		if !ok {
			continue
		}
		why := fmt.Sprintf("%s %s", verb(st.Action, kind), st.Object)
		switch kind {
		case "schema", "extension":
			if st.Action == plan.ActionCreate {
				ns.add("CREATE", "database", database, why, false)
			} else {
				ns.add("owner", kind, name, why, false)
			}
		case "table", "enum":
			if created[schema] {
				continue // the role creates the schema, so it owns it
			}
			ns.add("USAGE", "schema", schema, why, false)
			if st.Action == plan.ActionCreate {
				ns.add("CREATE", "schema", schema, why, false)
			} else {
				ns.addRel("owner", kind, schema, name, why, false)
			}
		}
	}
	return ns
}

func verb(a plan.Action, kind string) string {
	switch a {
	case plan.ActionCreate:
		if kind == "extension" {
			return "install"
		}
		return "create"
	case plan.ActionDrop:
		return "drop"
	}
	return "alter"
}

// needsOfDeclared guesses the needs from the declared state when no plan
// could be computed: CREATE on the database for missing schemas and
// extensions, USAGE and CREATE on each managed schema, and (as warnings)
// ownership of the declared tables that exist.
func needsOfDeclared(ctx context.Context, conn *pgx.Conn, database string, d *state.State, schemas []string) (*needs, error) {
	ns := &needs{}
	if len(schemas) == 0 {
		schemas = d.SchemaNames()
	}
	for _, s := range schemas {
		exists, err := exists(ctx, conn, `SELECT true FROM pg_catalog.pg_namespace WHERE nspname = $1`, s)
		if err != nil {
			return nil, err
		}
		if !exists {
			ns.add("CREATE", "database", database, "create schema "+s, false)
			continue
		}
		ns.add("USAGE", "schema", s, "manage schema "+s, false)
		ns.add("CREATE", "schema", s, "create objects in schema "+s, false)
	}
	for _, e := range d.Extensions {
		installed, err := exists(ctx, conn, `SELECT true FROM pg_catalog.pg_extension WHERE extname = $1`, e.Name)
		if err != nil {
			return nil, err
		}
		if !installed {
			ns.add("CREATE", "database", database, "install extension "+e.Name, false)
		}
	}
	for _, s := range d.Realm.Schemas {
		for _, t := range s.Tables {
			ns.addRel("owner", "table", s.Name, t.Name, "alter table "+plan.DisplayName(s.Name, t.Name)+" (if the plan changes it)", true)
		}
	}
	return ns, nil
}

func exists(ctx context.Context, conn *pgx.Conn, query string, args ...any) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, query, args...).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the catalog: %w", serverError(err))
	}
	return ok, nil
}

// ownerQueries return an object's owner and whether the role acts as it.
var ownerQueries = map[string]string{
	"schema":    `SELECT nspowner::regrole::text, pg_has_role(nspowner, 'USAGE') FROM pg_catalog.pg_namespace WHERE nspname = $1`,
	"extension": `SELECT extowner::regrole::text, pg_has_role(extowner, 'USAGE') FROM pg_catalog.pg_extension WHERE extname = $1`,
	"table": `SELECT c.relowner::regrole::text, pg_has_role(c.relowner, 'USAGE') FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
	"enum": `SELECT t.typowner::regrole::text, pg_has_role(t.typowner, 'USAGE') FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 AND t.typname = $2`,
}

// privilegeChecks checks the needs of the plan, or of the declared state
// when there is no plan.
func privilegeChecks(ctx context.Context, conn *pgx.Conn, f *facts, p *plan.Plan, declared *state.State, schemas []string) ([]Check, error) {
	var ns *needs
	switch {
	case p != nil:
		ns = needsOfPlan(p, f.database)
	case declared != nil:
		var err error
		if ns, err = needsOfDeclared(ctx, conn, f.database, declared, schemas); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	checks, err := hiddenChecks(ctx, conn, f, p)
	if err != nil {
		return checks, err
	}
	for _, n := range ns.list {
		c, err := evalNeed(ctx, conn, f, n)
		if err != nil {
			return checks, err
		}
		if c != nil {
			checks = append(checks, *c)
		}
	}
	return checks, nil
}

// evalNeed checks one need; nil when there is nothing to check (the object
// does not exist yet).
func evalNeed(ctx context.Context, conn *pgx.Conn, f *facts, n *need) (*Check, error) {
	c := &Check{Name: n.checkName(), Status: OK}
	role := pgx.Identifier{f.user}.Sanitize()
	has, owner := false, ""
	switch {
	case n.kind == "database":
		has = f.databaseCreate
		c.Fix = fmt.Sprintf("as the database's owner or a superuser: GRANT CREATE ON DATABASE %s TO %s", pgx.Identifier{n.name}.Sanitize(), role)
	case n.privilege != "owner":
		err := conn.QueryRow(ctx, `SELECT has_schema_privilege(oid, $2) FROM pg_catalog.pg_namespace WHERE nspname = $1`, n.name, n.privilege).Scan(&has)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil // the plan creates it
		}
		if err != nil {
			return nil, fmt.Errorf("reading the privileges on schema %s: %w", n.name, serverError(err))
		}
		c.Fix = fmt.Sprintf("as the schema's owner or a superuser: GRANT %s ON SCHEMA %s TO %s", n.privilege, pgx.Identifier{n.name}.Sanitize(), role)
	default:
		args := []any{n.name}
		obj := pgx.Identifier{n.name}.Sanitize()
		if n.kind == "table" || n.kind == "enum" {
			args = []any{n.schema, n.rel}
			obj = pgx.Identifier{n.schema, n.rel}.Sanitize()
		}
		err := conn.QueryRow(ctx, ownerQueries[n.kind], args...).Scan(&owner, &has)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil // nothing to own yet
		}
		if err != nil {
			return nil, fmt.Errorf("reading the owner of %s %s: %w", n.kind, n.name, serverError(err))
		}
		alter := map[string]string{"schema": "SCHEMA", "extension": "EXTENSION", "table": "TABLE", "enum": "TYPE"}[n.kind]
		c.Fix = fmt.Sprintf("as a superuser: ALTER %s %s OWNER TO %s, or GRANT %s TO %s", alter, obj, role, pgx.Identifier{owner}.Sanitize(), role)
	}
	why := whyText(n.why)
	if has {
		c.Fix = ""
		c.Message = fmt.Sprintf("role %q has it; needed to %s", f.user, why)
		return c, nil
	}
	c.Status = Fail
	if n.soft {
		c.Status = Warn
	}
	if n.privilege == "owner" {
		c.Message = fmt.Sprintf("role %q is not the owner of %s %s (%q is) nor a member of its owner, needed to %s", f.user, n.kind, n.name, owner, why)
	} else {
		c.Message = fmt.Sprintf("role %q lacks %s on %s %q, needed to %s", f.user, n.privilege, n.kind, n.name, why)
	}
	return c, nil
}

// whyText lists reasons, the first few in full.
func whyText(why []string) string {
	const shown = 3
	if len(why) <= shown {
		return strings.Join(why, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(why[:shown], ", "), len(why)-shown)
}

// hiddenChecks fails the tables the plan creates that exist already (and
// that it does not drop first): the
// role has no privilege on them, so inspection (information_schema) did not
// see them, and the plan would create them again.
func hiddenChecks(ctx context.Context, conn *pgx.Conn, f *facts, p *plan.Plan) ([]Check, error) {
	if p == nil {
		return nil, nil
	}
	var checks []Check
	dropped := make(map[string]bool)
	for _, st := range p.Steps {
		kind, schema, rel, _ := plan.ParseObject(st.Object)
		if st.Action == plan.ActionDrop {
			// Dropped and created again (its partitioning changes).
			dropped[st.Object] = true
		}
		if kind != "table" || st.Action != plan.ActionCreate || dropped[st.Object] {
			continue
		}
		name := st.Object[len("table "):]
		var owner string
		err := conn.QueryRow(ctx, `SELECT c.relowner::regrole::text FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, schema, rel).Scan(&owner)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return checks, fmt.Errorf("reading the catalog: %w", serverError(err))
		}
		checks = append(checks, Check{Name: "visibility of table " + name, Status: Fail,
			Message: fmt.Sprintf("table %s exists (owner %q), but role %q has no privilege on it, so keel cannot inspect it and the plan would create it again", name, owner, f.user),
			Fix:     fmt.Sprintf("as its owner or a superuser: GRANT SELECT ON %s TO %s, or make the role its owner", pgx.Identifier{schema, rel}.Sanitize(), pgx.Identifier{f.user}.Sanitize())})
		if len(checks) == 5 {
			break
		}
	}
	return checks, nil
}
