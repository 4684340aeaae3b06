package inspect

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"keel/planner/pg"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// keel inspect prints the row-level security policies of the schemas'
// tables and the privileges on the schemas, their tables, views,
// materialized views, sequences, functions and procedures, in Atlas Pro's
// HCL (policy and permission blocks, role blocks with external = true for
// the roles they name), and the default privileges taken away as keel's
// revoke blocks. Whether a table has row-level security on is printed in
// its table block (state.WriteRowSecurity). Objects of an extension are
// left out, and so are the owner's own privileges.
func init() { registerObjectPrinter(printSecurity) }

// secObject is an object privileges are granted on, as the printer refers
// to it.
type secObject struct {
	// root is the reference's root: schema, table, view, materialized,
	// sequence, function or procedure.
	root, schema, name string
	// args are a function's identity arguments; overloads is how many
	// functions of its schema have its name.
	args      string
	overloads int
}

// secPrivilegeOrder is the order privileges are printed in.
var secPrivilegeOrder = []string{"USAGE", "CREATE", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN", "EXECUTE"}

// secNames are the names of the schemas' relations and routines, for
// referring to them: by name alone when it is theirs only.
type secNames struct {
	// count is how many objects of a reference root have a name.
	count map[[2]string]int
	// qualified are the objects always referred to with their schema:
	// partitions (their blocks are no table blocks the resolver sees) and
	// sequences that a column owns (a serial or identity column's: keel
	// declares no sequence block for them).
	qualified map[[3]string]bool
}

func printSecurity(ctx context.Context, c *pg.Conn, schemas []string) ([]byte, error) {
	names, err := secReadNames(ctx, c, schemas)
	if err != nil {
		return nil, err
	}
	p := &secPrinter{names: names, roles: map[string]bool{}}
	if err := p.policies(ctx, c, schemas); err != nil {
		return nil, err
	}
	if err := p.privileges(ctx, c, schemas); err != nil {
		return nil, err
	}
	return p.bytes(), nil
}

func secReadNames(ctx context.Context, c *pg.Conn, schemas []string) (*secNames, error) {
	rows, err := c.Query(ctx, `SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized' ELSE 'table' END,
  n.nspname, c.relname,
  c.relispartition OR c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
    AND d.objid = c.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i'))
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, n.nspname, p.proname, false
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY($1) AND p.prokind IN ('f', 'p', 'w')`, schemas)
	if err != nil {
		return nil, fmt.Errorf("reading the names of %s: %w", c.DB(), pg.ServerError(err))
	}
	defer rows.Close()
	n := &secNames{count: map[[2]string]int{}, qualified: map[[3]string]bool{}}
	seen := map[[3]string]bool{}
	for rows.Next() {
		var root, schema, name string
		var qualify bool
		if err := rows.Scan(&root, &schema, &name, &qualify); err != nil {
			return nil, fmt.Errorf("reading the names of %s: %w", c.DB(), err)
		}
		// A function's overloads count once: they are one name.
		if k := [3]string{root, schema, name}; !seen[k] {
			seen[k] = true
			n.count[[2]string{root, name}]++
		}
		if qualify {
			n.qualified[[3]string{root, schema, name}] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the names of %s: %w", c.DB(), pg.ServerError(err))
	}
	return n, nil
}

// secPrinter gathers the blocks to print.
type secPrinter struct {
	names *secNames
	// roles are the roles the blocks name, for role blocks.
	roles map[string]bool
	// policies, grants and revokes are the printed blocks; notes what
	// keel's HCL cannot say, as comments.
	policyBlocks, grants, revokes []*hclwrite.Block
	notes                         []string
}

// secNeedsString reports whether a name cannot be referred to in HCL
// (table["..."]): one with a double quote, a backslash or a character that
// does not print (see state's checkReferences).
func secNeedsString(name string) bool { return strconv.Quote(name) != `"`+name+`"` }

// ref writes a reference to an object: ROOT.NAME, or ROOT.SCHEMA.NAME when
// the name is not its own in the schemas or the object is always
// qualified.
func (p *secPrinter) ref(root, schema, name string) (hclwrite.Tokens, error) {
	parts := []string{name}
	if root == "schema" {
		// schema.NAME
	} else if p.names.count[[2]string{root, name}] > 1 || p.names.qualified[[3]string{root, schema, name}] {
		parts = []string{schema, name}
	}
	tr := hcl.Traversal{hcl.TraverseRoot{Name: root}}
	for _, part := range parts {
		if secNeedsString(part) {
			return nil, fmt.Errorf("Atlas HCL cannot refer to %s %q: the name %q holds a double quote, a backslash or a character that does not print; rename it",
				root, name, part)
		}
		if hclsyntax.ValidIdentifier(part) {
			tr = append(tr, hcl.TraverseAttr{Name: part})
		} else {
			tr = append(tr, hcl.TraverseIndex{Key: cty.StringVal(part)})
		}
	}
	return hclwrite.TokensForTraversal(tr), nil
}

// role writes a role: PUBLIC, role.NAME, or the name as a string when HCL
// cannot refer to it.
func (p *secPrinter) role(name string) hclwrite.Tokens {
	if name == "" {
		return hclwrite.TokensForIdentifier("PUBLIC")
	}
	p.roles[name] = true
	if secNeedsString(name) {
		return hclwrite.TokensForValue(cty.StringVal(name))
	}
	if hclsyntax.ValidIdentifier(name) {
		return hclwrite.TokensForTraversal(hcl.Traversal{hcl.TraverseRoot{Name: "role"}, hcl.TraverseAttr{Name: name}})
	}
	return hclwrite.TokensForTraversal(hcl.Traversal{hcl.TraverseRoot{Name: "role"}, hcl.TraverseIndex{Key: cty.StringVal(name)}})
}

// policies reads and writes the policies of the schemas' tables.
func (p *secPrinter) policies(ctx context.Context, c *pg.Conn, schemas []string) error {
	rows, err := c.Query(ctx, `SELECT n.nspname, c.relname, pol.polname, pol.polpermissive,
  CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
  ARRAY(SELECT CASE WHEN u.oid = 0 THEN '' ELSE r.rolname END FROM unnest(pol.polroles) AS u(oid)
        LEFT JOIN pg_catalog.pg_roles r ON r.oid = u.oid ORDER BY 1),
  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid), pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),
  pg_catalog.obj_description(pol.oid, 'pg_policy')
FROM pg_catalog.pg_policy pol JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", pol.polname COLLATE "C"`, schemas)
	if err != nil {
		return fmt.Errorf("reading the policies of %s: %w", c.DB(), pg.ServerError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			schema, table, name, cmd string
			permissive               bool
			roles                    []string
			using, check, comment    *string
		)
		if err := rows.Scan(&schema, &table, &name, &permissive, &cmd, &roles, &using, &check, &comment); err != nil {
			return fmt.Errorf("reading the policies of %s: %w", c.DB(), err)
		}
		on, err := p.ref("table", schema, table)
		if err != nil {
			return fmt.Errorf("printing policy %q of table %s.%s: %w", name, strconv.Quote(schema), strconv.Quote(table), err)
		}
		b := hclwrite.NewBlock("policy", []string{name})
		body := b.Body()
		body.SetAttributeRaw("on", on)
		if !permissive {
			body.SetAttributeRaw("as", hclwrite.TokensForIdentifier("RESTRICTIVE"))
		}
		body.SetAttributeRaw("for", hclwrite.TokensForIdentifier(cmd))
		to := make([]hclwrite.Tokens, len(roles))
		for i, r := range roles {
			to[i] = p.role(r)
		}
		body.SetAttributeRaw("to", hclwrite.TokensForTuple(to))
		for _, e := range []struct {
			attr string
			v    *string
		}{{"using", using}, {"check", check}, {"comment", comment}} {
			if e.v != nil {
				body.SetAttributeValue(e.attr, cty.StringVal(*e.v))
			}
		}
		p.policyBlocks = append(p.policyBlocks, b)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the policies of %s: %w", c.DB(), pg.ServerError(err))
	}
	return nil
}

// secACL is one grantee's privileges on an object: those it has, and
// those it would have by default (true: with grant option).
type secACL struct {
	obj      secObject
	grantee  string // "" for PUBLIC
	has, def map[string]bool
}

// privileges reads the privileges of the schemas and of their objects that
// are not the object's default (PostgreSQL's acldefault; for the schema
// public, also what a new database's public schema grants PUBLIC), and
// writes them as permission and revoke blocks.
func (p *secPrinter) privileges(ctx context.Context, c *pg.Conn, schemas []string) error {
	var version int
	if err := c.QueryRow(ctx, `SELECT pg_catalog.current_setting('server_version_num')::int`).Scan(&version); err != nil {
		return fmt.Errorf("reading the server version of %s: %w", c.DB(), pg.ServerError(err))
	}
	rows, err := c.Query(ctx, `WITH obj AS (
  SELECT 'schema' AS root, n.nspname AS schema, n.nspname AS name, '' AS args, 1 AS overloads,
    n.nspacl AS acl, pg_catalog.acldefault('n', n.nspowner) AS def, n.nspowner AS owner
  FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY($1)
  UNION ALL
  SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized' ELSE 'table' END, n.nspname, c.relname, '', 1,
    c.relacl, pg_catalog.acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner), c.relowner
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relacl IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.objid = c.oid AND e.deptype = 'e')
  UNION ALL
  SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
    (SELECT count(*) FROM pg_catalog.pg_proc q WHERE q.pronamespace = p.pronamespace AND q.proname = p.proname)::int,
    p.proacl, pg_catalog.acldefault('f', p.proowner), p.proowner
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = ANY($1) AND p.prokind IN ('f', 'p', 'w') AND p.proacl IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND e.objid = p.oid AND e.deptype = 'e')
)
SELECT o.root, o.schema, o.name, o.args, o.overloads, x.side, CASE WHEN x.grantee = 0 THEN '' ELSE r.rolname END, x.privilege_type, x.is_grantable
FROM obj o
CROSS JOIN LATERAL (
  SELECT 'has' AS side, a.grantee, a.privilege_type, a.is_grantable FROM pg_catalog.aclexplode(coalesce(o.acl, o.def)) a
  UNION ALL
  SELECT 'default', d.grantee, d.privilege_type, d.is_grantable FROM pg_catalog.aclexplode(o.def) d
) x
LEFT JOIN pg_catalog.pg_roles r ON r.oid = x.grantee
WHERE x.grantee <> o.owner AND (x.grantee = 0 OR r.rolname IS NOT NULL)`, schemas)
	if err != nil {
		return fmt.Errorf("reading the privileges of %s: %w", c.DB(), pg.ServerError(err))
	}
	defer rows.Close()
	acls := map[[5]string]*secACL{}
	for rows.Next() {
		var (
			o                   secObject
			side, grantee, priv string
			grantable           bool
		)
		if err := rows.Scan(&o.root, &o.schema, &o.name, &o.args, &o.overloads, &side, &grantee, &priv, &grantable); err != nil {
			return fmt.Errorf("reading the privileges of %s: %w", c.DB(), err)
		}
		k := [5]string{o.root, o.schema, o.name, o.args, grantee}
		a := acls[k]
		if a == nil {
			a = &secACL{obj: o, grantee: grantee, has: map[string]bool{}, def: map[string]bool{}}
			acls[k] = a
		}
		m := a.has
		if side == "default" {
			m = a.def
		}
		m[priv] = m[priv] || grantable
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the privileges of %s: %w", c.DB(), pg.ServerError(err))
	}
	// A new database's schema public grants PUBLIC more than acldefault
	// says: USAGE (and CREATE before PostgreSQL 15). The throwaway
	// database starts with that.
	for _, s := range schemas {
		if s != "public" {
			continue
		}
		k := [5]string{"schema", "public", "public", "", ""}
		a := acls[k]
		if a == nil {
			a = &secACL{obj: secObject{root: "schema", schema: "public", name: "public", overloads: 1}, has: map[string]bool{}, def: map[string]bool{}}
			acls[k] = a
		}
		base := []string{"USAGE"}
		if version < 150000 {
			base = append(base, "CREATE")
		}
		for _, priv := range base {
			if _, ok := a.def[priv]; !ok {
				a.def[priv] = false
			}
		}
	}
	keys := make([][5]string, 0, len(acls))
	for k := range acls {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		for n := range keys[i] {
			if keys[i][n] != keys[j][n] {
				return keys[i][n] < keys[j][n]
			}
		}
		return false
	})
	for _, k := range keys {
		if err := p.acl(acls[k]); err != nil {
			return err
		}
	}
	return nil
}

// acl writes one grantee's privileges on an object: what it has beyond the
// default as permission blocks (one with grantable = true for those with
// grant option), the default it lacks as a revoke block.
func (p *secPrinter) acl(a *secACL) error {
	var plain, withGrant, revoked, lostOption []string
	for priv, g := range a.has {
		d, isDefault := a.def[priv]
		switch {
		case g && !d:
			withGrant = append(withGrant, priv)
		case !g && isDefault && d:
			lostOption = append(lostOption, priv)
		case !isDefault:
			plain = append(plain, priv)
		}
	}
	for priv := range a.def {
		if _, ok := a.has[priv]; !ok {
			revoked = append(revoked, priv)
		}
	}
	if len(plain)+len(withGrant)+len(revoked)+len(lostOption) == 0 {
		return nil
	}
	o := a.obj
	what := o.root + " " + strconv.Quote(o.schema) + "." + strconv.Quote(o.name)
	if o.root == "schema" {
		what = "schema " + strconv.Quote(o.name)
	}
	if o.root == "function" || o.root == "procedure" {
		what += "(" + o.args + ")"
	}
	grantee := "PUBLIC"
	if a.grantee != "" {
		grantee = strconv.Quote(a.grantee)
	}
	if o.overloads > 1 {
		p.notes = append(p.notes, fmt.Sprintf("keel cannot write this here: %s has overloads, and keel grants on a %s by its name alone: %s's privileges on it: %s",
			what, o.root, grantee, secPrivilegeText(a)))
		return nil
	}
	if len(lostOption) > 0 {
		secSort(lostOption)
		p.notes = append(p.notes, fmt.Sprintf("keel cannot write this here: %s lacks the grant option of its default privileges %s on %s",
			grantee, strings.Join(lostOption, ", "), what))
	}
	target, err := p.ref(o.root, o.schema, o.name)
	if err != nil {
		return fmt.Errorf("printing the privileges on %s: %w", what, err)
	}
	block := func(kind, who string, privs []string, grantable bool) *hclwrite.Block {
		secSort(privs)
		b := hclwrite.NewBlock(kind, nil)
		body := b.Body()
		body.SetAttributeRaw(who, p.role(a.grantee))
		body.SetAttributeRaw("for", target)
		list := make([]hclwrite.Tokens, len(privs))
		for i, priv := range privs {
			list[i] = hclwrite.TokensForIdentifier(priv)
		}
		body.SetAttributeRaw("privileges", hclwrite.TokensForTuple(list))
		if grantable {
			body.SetAttributeValue("grantable", cty.True)
		}
		return b
	}
	if len(plain) > 0 {
		p.grants = append(p.grants, block("permission", "to", plain, false))
	}
	if len(withGrant) > 0 {
		p.grants = append(p.grants, block("permission", "to", withGrant, true))
	}
	if len(revoked) > 0 {
		p.revokes = append(p.revokes, block("revoke", "from", revoked, false))
	}
	return nil
}

func secPrivilegeText(a *secACL) string {
	var has []string
	for priv, g := range a.has {
		if g {
			priv += " WITH GRANT OPTION"
		}
		has = append(has, priv)
	}
	sort.Strings(has)
	if len(has) == 0 {
		return "none"
	}
	return strings.Join(has, ", ")
}

// secSort sorts privileges in secPrivilegeOrder.
func secSort(privs []string) {
	rank := func(s string) int {
		for i, o := range secPrivilegeOrder {
			if o == s {
				return i
			}
		}
		return len(secPrivilegeOrder)
	}
	sort.Slice(privs, func(i, j int) bool {
		if ri, rj := rank(privs[i]), rank(privs[j]); ri != rj {
			return ri < rj
		}
		return privs[i] < privs[j]
	})
}

// bytes prints the role blocks of the roles named, the policies, the
// permissions, the revokes and the notes.
func (p *secPrinter) bytes() []byte {
	if len(p.policyBlocks)+len(p.grants)+len(p.revokes)+len(p.notes) == 0 {
		return nil
	}
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	roles := make([]string, 0, len(p.roles))
	for r := range p.roles {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	first := true
	add := func(b *hclwrite.Block) {
		if !first {
			body.AppendNewline()
		}
		first = false
		body.AppendBlock(b)
	}
	for _, r := range roles {
		b := hclwrite.NewBlock("role", []string{r})
		b.Body().SetAttributeValue("external", cty.True)
		add(b)
	}
	for _, list := range [][]*hclwrite.Block{p.policyBlocks, p.grants, p.revokes} {
		for _, b := range list {
			add(b)
		}
	}
	for _, n := range p.notes {
		body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# " + strings.ReplaceAll(n, "\n", " ") + "\n")}})
	}
	return hclwrite.Format(f.Bytes())
}
