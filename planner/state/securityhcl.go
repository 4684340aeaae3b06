package state

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"keel/internal/pgsql"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Row-level security, policies and privileges, in Atlas Pro's HCL:
//
//	table "orders" { ... row_security { enabled = true, enforced = true } }
//	policy "tenant" { on = table.orders, as = RESTRICTIVE, for = SELECT, to = [role.app], using = "...", check = "..." }
//	role "app" { external = true }
//	permission { to = role.app, for = table.orders, privileges = [SELECT, INSERT], grantable = true }
//	revoke { from = PUBLIC, for = function.transfer, privileges = [EXECUTE] }   (keel's own)
//
// keel never creates, alters or drops a role: roles belong to the whole
// server, not to one database's schemas. A role (or user) block only says
// that the role exists, so that role.NAME references resolve; the
// throwaway database checks that it does, and says so when it does not.
// Privileges are declared as Atlas Pro's permission blocks (GRANT); a
// default privilege taken away (REVOKE EXECUTE ON FUNCTION ... FROM
// PUBLIC), which Atlas Pro's HCL has no block for, as keel's revoke
// block.
//
// The blocks are taken out of the body before the engine evaluates it.
// What they refer to may be declared in another file (table.orders,
// function.f, role.app): the statements are written with a placeholder
// for each reference, which resolveSecurity, seeing every file, replaces
// with the object's qualified name (or reports as unknown).

// The kinds of the ObjectDecls of this file.
const (
	secKindRowSecurity = "row security"
	secKindPolicy      = "policy"
	secKindPrivilege   = "privilege"
	secKindRole        = "role"
)

// secRoleAttrs are the attributes of Atlas Pro's role and user blocks.
// keel takes external = true and refuses the others: it does not create
// or alter roles.
var secRoleAttrs = []string{"external", "login", "superuser", "create_db", "create_role", "inherit", "replication",
	"bypass_rls", "conn_limit", "valid_until", "password", "member_of", "comment"}

func init() {
	registerTableBlock("row_security", &blockSpec{attrs: []string{"enabled", "enforced"}})
	registerBlock("policy", &blockSpec{minLabels: 1, maxLabels: 1, labelHint: `policy "tenant_isolation" { on = table.orders, using = "..." }`,
		attrs: []string{"on", "as", "for", "to", "using", "check", "comment"}})
	registerBlock("role", &blockSpec{minLabels: 1, maxLabels: 1, labelHint: `role "app_reader" { external = true }`, attrs: secRoleAttrs})
	registerBlock("user", &blockSpec{minLabels: 1, maxLabels: 1, labelHint: `user "app" { external = true }`, attrs: secRoleAttrs})
	registerBlock("permission", &blockSpec{attrs: []string{"to", "for", "privileges", "grantable"}})
	registerBlock("revoke", &blockSpec{attrs: []string{"from", "for", "privileges"}})
	registerObjectReader(readSecurity, resolveSecurity)
}

// secTarget is what a permission's `for` may name: the reference's root,
// the word the object's catalog key uses, the word GRANT ... ON takes, and
// the privileges it has.
type secTarget struct {
	root, what, on string
	privileges     []string
}

var secTargets = map[string]secTarget{
	"schema":       {"schema", "schema", "SCHEMA", []string{"USAGE", "CREATE"}},
	"table":        {"table", "table", "TABLE", secRelationPrivileges},
	"view":         {"view", "view", "TABLE", secRelationPrivileges},
	"materialized": {"materialized", "materialized view", "TABLE", secRelationPrivileges},
	"sequence":     {"sequence", "sequence", "SEQUENCE", []string{"USAGE", "SELECT", "UPDATE"}},
	"function":     {"function", "function", "FUNCTION", []string{"EXECUTE"}},
	"procedure":    {"procedure", "procedure", "PROCEDURE", []string{"EXECUTE"}},
}

var secRelationPrivileges = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"}

const secForHint = "schema.NAME, table.NAME, view.NAME, materialized.NAME, sequence.NAME, function.NAME or procedure.NAME (or KIND.SCHEMA.NAME)"

// secReader reads the blocks of one file.
type secReader struct {
	decls    []ObjectDecl
	problems []string
}

func (r *secReader) problem(rng hcl.Range, where, format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf("%s: %s: %s", posCol(rng), where, fmt.Sprintf(format, args...)))
}

// readSecurity takes the policy, role, user, permission and revoke blocks
// out of body, and the row_security blocks out of its table blocks, and
// returns what they declare. Blocks whose labels the grammar refuses are
// taken out and left to its messages.
func readSecurity(body *hclsyntax.Body) ([]ObjectDecl, []string) {
	r := &secReader{}
	kept := body.Blocks[:0:0]
	for _, b := range body.Blocks {
		switch b.Type {
		case "table":
			r.rowSecurity(b)
		case "policy":
			if len(b.Labels) == 1 {
				r.policy(b)
			}
			continue
		case "role", "user":
			if len(b.Labels) == 1 {
				r.role(b)
			}
			continue
		case "permission", "revoke":
			if len(b.Labels) == 0 {
				r.privilege(b)
			}
			continue
		}
		kept = append(kept, b)
	}
	body.Blocks = kept
	return r.decls, r.problems
}

// rowSecurity takes the row_security block out of a table block.
func (r *secReader) rowSecurity(b *hclsyntax.Block) {
	if len(b.Labels) < 1 || len(b.Labels) > 2 {
		return
	}
	var found []*hclsyntax.Block
	kept := b.Body.Blocks[:0:0]
	for _, sub := range b.Body.Blocks {
		if sub.Type == "row_security" {
			found = append(found, sub)
			continue
		}
		kept = append(kept, sub)
	}
	if len(found) == 0 {
		return
	}
	b.Body.Blocks = kept
	name := b.Labels[len(b.Labels)-1]
	where := fmt.Sprintf("row_security of table %q", name)
	for _, dup := range found[1:] {
		r.problem(dup.TypeRange, where, "the table has a row_security block already (%s): keep one", posCol(found[0].TypeRange))
	}
	rs := found[0]
	if len(rs.Labels) > 0 {
		return // the grammar says so
	}
	schemaName, known := "", false
	if len(b.Labels) == 2 {
		schemaName, known = b.Labels[0], true
	} else if a, ok := b.Body.Attributes["schema"]; ok {
		s, err := tableSchemaRef(a.Expr)
		schemaName, known = s, err == nil
	}
	if !known {
		r.problem(rs.TypeRange, where, "the table block needs its schema: schema = schema.NAME")
		return
	}
	d := ObjectDecl{Kind: secKindRowSecurity, Schema: schemaName, Table: name, Pos: posCol(rs.TypeRange)}
	table := pgsql.QuoteQualified(schemaName, name)
	for _, at := range []struct{ attr, sql string }{
		{"enabled", "ALTER TABLE " + table + " ENABLE ROW LEVEL SECURITY"},
		{"enforced", "ALTER TABLE " + table + " FORCE ROW LEVEL SECURITY"},
	} {
		a, ok := rs.Body.Attributes[at.attr]
		if !ok {
			continue
		}
		v, ok := boolValue(a)
		switch {
		case !ok:
			r.problem(a.Expr.Range(), where, "%s takes true or false", at.attr)
		case v:
			d.SQL = append(d.SQL, at.sql)
		}
	}
	if len(d.SQL) > 0 {
		r.decls = append(r.decls, d)
	}
}

// role reads a role or user block: a role that exists on the server.
func (r *secReader) role(b *hclsyntax.Block) {
	name := b.Labels[0]
	where := fmt.Sprintf("%s %q", b.Type, name)
	external := false
	for _, a := range sortedAttrs(b.Body.Attributes) {
		if a.Name != "external" {
			if contains(secRoleAttrs, a.Name) {
				r.problem(a.NameRange, where, "keel does not create or alter roles (they belong to the whole server, not to a schema): "+
					"remove %s, manage the role outside keel, and declare it with external = true", a.Name)
			}
			continue
		}
		v, ok := boolValue(a)
		if !ok {
			r.problem(a.Expr.Range(), where, "external takes true or false")
			return
		}
		external = v
		if !v {
			r.problem(a.Expr.Range(), where, "keel does not create roles: write external = true for a role that exists on the server (create it outside keel)")
			return
		}
	}
	if name == "" {
		r.problem(b.LabelRanges[0], where, "a role needs a name")
		return
	}
	if !external {
		r.problem(b.TypeRange, where, "keel does not create roles: write external = true for a role that exists on the server (create it outside keel)")
		return
	}
	r.decls = append(r.decls, ObjectDecl{Kind: secKindRole, Name: name, SQL: []string{secRoleCheck(name)}, Pos: posCol(b.TypeRange)})
}

// secRoleCheck is a statement that fails, saying so, when the role does
// not exist on the server.
func secRoleCheck(name string) string {
	msg := fmt.Sprintf("role %s does not exist on this server: keel does not create roles; create it (CREATE ROLE %s ...) "+
		"or name a role that exists, then try again", pgsql.QuoteIdent(name), pgsql.QuoteIdent(name))
	body := " BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = " + pgsql.QuoteLiteral(name) +
		") THEN RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = " + pgsql.QuoteLiteral(msg) + "; END IF; END "
	tag := "$keel$"
	for i := 1; strings.Contains(body, tag); i++ {
		tag = fmt.Sprintf("$keel%d$", i)
	}
	return "DO " + tag + body + tag
}

// secRef is a reference as written: ROOT.NAME or ROOT.SCHEMA.NAME, each
// part also as ["..."].
type secRef struct {
	Root  string   `json:"r"`
	Parts []string `json:"p"`
	// Pos is where it is written.
	Pos string `json:"w"`
}

func (x secRef) String() string {
	var b strings.Builder
	b.WriteString(x.Root)
	for _, p := range x.Parts {
		if hclsyntax.ValidIdentifier(p) {
			b.WriteString("." + p)
		} else {
			fmt.Fprintf(&b, "[%q]", p)
		}
	}
	return b.String()
}

func (x secRef) name() string { return x.Parts[len(x.Parts)-1] }

// secReadRef reads a reference with one of the roots.
func secReadRef(e hclsyntax.Expression, roots ...string) (secRef, bool) {
	t, ok := e.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(t.Traversal) < 2 || !contains(roots, t.Traversal.RootName()) {
		return secRef{}, false
	}
	x := secRef{Root: t.Traversal.RootName(), Pos: posCol(e.Range())}
	for _, step := range t.Traversal[1:] {
		switch s := step.(type) {
		case hcl.TraverseAttr:
			x.Parts = append(x.Parts, s.Name)
		case hcl.TraverseIndex:
			if !s.Key.Type().Equals(cty.String) || s.Key.IsNull() {
				return secRef{}, false
			}
			x.Parts = append(x.Parts, s.Key.AsString())
		default:
			return secRef{}, false
		}
	}
	return x, true
}

// secPendingPrefix starts the placeholder of a reference that
// resolveSecurity replaces: a name no statement keel writes holds
// otherwise.
var secPendingPrefix = func() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "keel_pending_" + hex.EncodeToString(b[:]) + "_"
}()

// pending is the placeholder of the reference in a statement: a quoted
// identifier that resolveSecurity replaces with the object's name.
func (x secRef) pending() string {
	b, _ := json.Marshal(x)
	return pgsql.QuoteIdent(secPendingPrefix + hex.EncodeToString(b))
}

// secGrantee reads a policy's or permission's role: PUBLIC (and, in a
// policy, CURRENT_USER, CURRENT_ROLE, SESSION_USER), role.NAME, user.NAME
// or a role's name as a string. It returns the SQL (a keyword or a
// placeholder), the name the privilege's catalog key uses ("PUBLIC" or
// the role's) and the role to check for ("" for a keyword).
func secGrantee(e hclsyntax.Expression, keywords ...string) (sql, key, role string, ok bool) {
	if x, ok := secReadRef(e, "role", "user"); ok {
		if len(x.Parts) != 1 {
			return "", "", "", false
		}
		return x.pending(), x.name(), x.name(), true
	}
	if t, ok := e.(*hclsyntax.ScopeTraversalExpr); ok && len(t.Traversal) == 1 {
		w := strings.ToUpper(t.Traversal.RootName())
		if contains(keywords, w) {
			return w, w, "", true
		}
		return "", "", "", false
	}
	if _, ok := e.(*hclsyntax.TemplateExpr); !ok {
		return "", "", "", false
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String || v.AsString() == "" {
		return "", "", "", false
	}
	return pgsql.QuoteIdent(v.AsString()), v.AsString(), v.AsString(), true
}

// secString reads a string attribute.
func secString(a *hclsyntax.Attribute) (string, bool) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// secExpr reads a policy's using or check expression, and writes it in
// parentheses: one expression, no statement after it.
func secExpr(a *hclsyntax.Attribute) (string, string) {
	s, ok := secString(a)
	if !ok {
		return "", fmt.Sprintf(`%s takes an SQL expression as a string: %s = "tenant_id = current_setting('app.tenant')::int"`, a.Name, a.Name)
	}
	if strings.TrimSpace(s) == "" {
		return "", fmt.Sprintf("%s is empty: write the SQL expression, or leave %s out", a.Name, a.Name)
	}
	toks, err := pgsql.Lex(s)
	if err != nil {
		return "", fmt.Sprintf("%s does not read as SQL: %v", a.Name, err)
	}
	depth, comment := 0, false
	for _, t := range toks {
		switch {
		case t.Kind == pgsql.Semicolon:
			return "", fmt.Sprintf("%s holds a semicolon: write one SQL expression, no statement", a.Name)
		case t.Kind == pgsql.Other && t.Text == "(":
			depth++
		case t.Kind == pgsql.Other && t.Text == ")":
			depth--
		}
		if depth < 0 {
			return "", fmt.Sprintf("%s closes a parenthesis it does not open: write one SQL expression", a.Name)
		}
		comment = t.Kind == pgsql.Comment || t.Kind == pgsql.Space && comment
	}
	if depth != 0 {
		return "", fmt.Sprintf("%s leaves a parenthesis open: write one SQL expression", a.Name)
	}
	if comment {
		s += "\n"
	}
	return "(" + s + ")", ""
}

// policy reads a policy block.
func (r *secReader) policy(b *hclsyntax.Block) {
	name := b.Labels[0]
	where := fmt.Sprintf("policy %q", name)
	bad := len(r.problems)
	attrs := b.Body.Attributes
	if name == "" {
		r.problem(b.LabelRanges[0], where, "a policy needs a name")
	}
	on, ok := attrs["on"]
	var table secRef
	switch {
	case !ok:
		r.problem(b.TypeRange, where, "the policy needs its table: on = table.NAME (or table.SCHEMA.NAME)")
	default:
		var isRef bool
		table, isRef = secReadRef(on.Expr, "table")
		if !isRef || len(table.Parts) > 2 {
			r.problem(on.Expr.Range(), where, "on takes a reference to a table block: on = table.NAME or table.SCHEMA.NAME")
		}
	}
	sql := "CREATE POLICY " + pgsql.QuoteIdent(name) + " ON " + table.pending()
	cmd := "ALL"
	if a, ok := attrs["as"]; ok {
		switch w, _ := wordValue(a); w {
		case "permissive", "restrictive":
			sql += " AS " + strings.ToUpper(w)
		default:
			r.problem(a.Expr.Range(), where, "as takes PERMISSIVE or RESTRICTIVE")
		}
	}
	if a, ok := attrs["for"]; ok {
		switch w, _ := wordValue(a); w {
		case "all", "select", "insert", "update", "delete":
			cmd = strings.ToUpper(w)
			sql += " FOR " + cmd
		default:
			r.problem(a.Expr.Range(), where, "for takes ALL, SELECT, INSERT, UPDATE or DELETE")
		}
	}
	var roles []string
	if a, ok := attrs["to"]; ok {
		list, isList := a.Expr.(*hclsyntax.TupleConsExpr)
		if !isList || len(list.Exprs) == 0 {
			r.problem(a.Expr.Range(), where, `to takes a list of roles: to = [PUBLIC], to = [role.NAME, "NAME", CURRENT_USER]`)
		} else {
			var to []string
			for _, x := range list.Exprs {
				s, _, role, ok := secGrantee(x, "PUBLIC", "CURRENT_USER", "CURRENT_ROLE", "SESSION_USER")
				if !ok {
					r.problem(x.Range(), where, `to lists PUBLIC, CURRENT_USER, CURRENT_ROLE, SESSION_USER, role.NAME, user.NAME or a role's name as a string ("NAME")`)
					continue
				}
				to = append(to, s)
				if role != "" && !contains(roles, role) {
					roles = append(roles, role)
				}
			}
			sql += " TO " + strings.Join(to, ", ")
		}
	}
	for _, c := range []struct{ attr, clause string }{{"using", " USING "}, {"check", " WITH CHECK "}} {
		a, ok := attrs[c.attr]
		if !ok {
			continue
		}
		e, why := secExpr(a)
		switch {
		case why != "":
			r.problem(a.Expr.Range(), where, "%s", why)
		case c.attr == "using" && cmd == "INSERT":
			r.problem(a.NameRange, where, "a policy for INSERT takes no using (PostgreSQL checks new rows with check)")
		case c.attr == "check" && (cmd == "SELECT" || cmd == "DELETE"):
			r.problem(a.NameRange, where, "a policy for %s takes no check (PostgreSQL applies check to new rows only): use using", cmd)
		default:
			sql += c.clause + e
		}
	}
	stmts := secRoleChecks(roles)
	stmts = append(stmts, sql)
	if a, ok := attrs["comment"]; ok {
		if c, ok := secString(a); ok {
			stmts = append(stmts, "COMMENT ON POLICY "+pgsql.QuoteIdent(name)+" ON "+table.pending()+" IS "+pgsql.QuoteLiteral(c))
		} else {
			r.problem(a.Expr.Range(), where, "comment takes a string")
		}
	}
	if len(r.problems) > bad {
		return
	}
	r.decls = append(r.decls, ObjectDecl{Kind: secKindPolicy, Schema: secRefSchema(table), Table: table.name(), Name: name, SQL: stmts, Pos: posCol(b.TypeRange)})
}

func secRoleChecks(roles []string) []string {
	out := make([]string, 0, len(roles)+1)
	for _, r := range roles {
		out = append(out, secRoleCheck(r))
	}
	return out
}

// secRefSchema is the schema a reference names, "" when it names none
// (resolveSecurity finds it).
func secRefSchema(x secRef) string {
	if len(x.Parts) == 2 {
		return x.Parts[0]
	}
	return ""
}

// privilege reads a permission block (GRANT) or a revoke block (REVOKE).
func (r *secReader) privilege(b *hclsyntax.Block) {
	grant := b.Type == "permission"
	who, where := "to", "permission"
	if !grant {
		who, where = "from", "revoke"
	}
	bad := len(r.problems)
	attrs := b.Body.Attributes
	var (
		grantee, key, role string
		target             secTarget
		obj                secRef
		privs              []string
	)
	if a, ok := attrs[who]; !ok {
		r.problem(b.TypeRange, where, "%s needs its grantee: %s = role.NAME, user.NAME or PUBLIC", where, who)
	} else if _, isList := a.Expr.(*hclsyntax.TupleConsExpr); isList {
		r.problem(a.Expr.Range(), where, "%s takes one role: write one %s block for each", who, where)
	} else if s, k, rl, ok := secGrantee(a.Expr, "PUBLIC"); ok {
		grantee, key, role = s, k, rl
	} else {
		r.problem(a.Expr.Range(), where, `%s takes role.NAME, user.NAME, PUBLIC or a role's name as a string ("NAME")`, who)
	}
	if a, ok := attrs["for"]; !ok {
		r.problem(b.TypeRange, where, "%s needs its object: for = %s", where, secForHint)
	} else {
		var roots []string
		for k := range secTargets {
			roots = append(roots, k)
		}
		x, ok := secReadRef(a.Expr, roots...)
		switch {
		case !ok || len(x.Parts) > 2 || x.Root == "schema" && len(x.Parts) != 1:
			r.problem(a.Expr.Range(), where, "for takes %s", secForHint)
		default:
			obj, target = x, secTargets[x.Root]
		}
	}
	if a, ok := attrs["privileges"]; !ok {
		r.problem(b.TypeRange, where, "%s needs its privileges: privileges = [SELECT, INSERT, ...] or [ALL]", where)
	} else if list, isList := a.Expr.(*hclsyntax.TupleConsExpr); !isList || len(list.Exprs) == 0 {
		r.problem(a.Expr.Range(), where, "privileges takes a list: privileges = [SELECT, INSERT, ...] or [ALL]")
	} else {
		for _, x := range list.Exprs {
			w, ok := wordValue(&hclsyntax.Attribute{Name: "privileges", Expr: x})
			w = strings.ToUpper(w)
			switch {
			case !ok || w == "":
				r.problem(x.Range(), where, "privileges lists privilege names: SELECT, INSERT, ... or ALL")
			case contains(privs, w):
				r.problem(x.Range(), where, "privileges lists %s twice", w)
			case w == "ALL" && len(list.Exprs) > 1:
				r.problem(x.Range(), where, "ALL stands alone: privileges = [ALL]")
			case w == "ALL", target.root == "", contains(target.privileges, w):
				privs = append(privs, w)
			default:
				r.problem(x.Range(), where, "%s is no privilege of a %s: it has %s (or ALL)", w, target.what, strings.Join(target.privileges, ", "))
			}
		}
	}
	withGrant := false
	if a, ok := attrs["grantable"]; ok {
		v, ok := boolValue(a)
		switch {
		case !ok:
			r.problem(a.Expr.Range(), where, "grantable takes true or false")
		case v && key == "PUBLIC":
			r.problem(a.NameRange, where, "PostgreSQL grants no grant option to PUBLIC: leave grantable out")
		default:
			withGrant = v
		}
	}
	if len(r.problems) > bad {
		return
	}
	list := strings.Join(privs, ", ")
	if list == "ALL" {
		list = "ALL PRIVILEGES"
	}
	var sql string
	if grant {
		sql = "GRANT " + list + " ON " + target.on + " " + obj.pending() + " TO " + grantee
		if withGrant {
			sql += " WITH GRANT OPTION"
		}
	} else {
		sql = "REVOKE " + list + " ON " + target.on + " " + obj.pending() + " FROM " + grantee
	}
	var roles []string
	if role != "" {
		roles = append(roles, role)
	}
	d := ObjectDecl{Kind: secKindPrivilege, Schema: secRefSchema(obj), Table: target.what + " " + obj.name(), Name: key,
		SQL: append(secRoleChecks(roles), sql), Pos: posCol(b.TypeRange)}
	if obj.Root == "schema" {
		d.Schema, d.Table = obj.name(), "schema"
	}
	r.decls = append(r.decls, d)
}

// secIndex is what the files declare, for resolving references.
type secIndex struct {
	// tables and schemas are the schemas of the table blocks by name,
	// and the schema blocks.
	tables  map[string][]string
	schemas map[string]bool
	// roles are the role and user blocks, by name.
	roles map[string]bool
	// objects are the schemas of the views, materialized views,
	// sequences, functions and procedures declared, by kind and name
	// (once per declaration: a function may be overloaded).
	objects map[[2]string][]string
}

// secObjectKinds maps a reference's root to the Kind of the ObjectDecls
// that declare such objects.
var secObjectKinds = map[string]string{
	"view": "view", "materialized": "materialized view", "sequence": "sequence", "function": "function", "procedure": "procedure",
}

func newSecIndex(decls []ObjectDecl, bodies []*hclsyntax.Body) *secIndex {
	ix := &secIndex{tables: map[string][]string{}, schemas: map[string]bool{}, roles: map[string]bool{}, objects: map[[2]string][]string{}}
	for _, body := range bodies {
		for _, b := range body.Blocks {
			switch {
			case b.Type == "schema" && len(b.Labels) == 1:
				ix.schemas[b.Labels[0]] = true
			case b.Type == "table" && (len(b.Labels) == 1 || len(b.Labels) == 2):
				if key, ok := printedTable(b); ok {
					ix.tables[key.Name] = append(ix.tables[key.Name], key.Schema)
				}
			}
		}
	}
	for _, d := range decls {
		if d.Kind == secKindRole {
			ix.roles[d.Name] = true
			continue
		}
		for root, kind := range secObjectKinds {
			if d.Kind == kind {
				name, _, _ := strings.Cut(d.Name, "(")
				ix.objects[[2]string{root, name}] = append(ix.objects[[2]string{root, name}], d.Schema)
			}
		}
	}
	return ix
}

// resolve finds what a reference names: the SQL that names it and its
// schema, or a problem.
func (ix *secIndex) resolve(x secRef) (sql, schemaName, problem string) {
	name := x.name()
	switch x.Root {
	case "role", "user":
		if !ix.roles[name] {
			return "", "", fmt.Sprintf("%s names a role no role block declares: add role %q { external = true } (a role that exists on the server)", x, name)
		}
		return pgsql.QuoteIdent(name), "", ""
	case "schema":
		if !ix.schemas[name] {
			return "", "", fmt.Sprintf("%s names a schema no schema block declares", x)
		}
		return pgsql.QuoteIdent(name), name, ""
	}
	var found []string
	if x.Root == "table" {
		found = ix.tables[name]
	} else {
		found = ix.objects[[2]string{x.Root, name}]
	}
	if len(x.Parts) == 2 {
		if !ix.schemas[x.Parts[0]] {
			return "", "", fmt.Sprintf("%s names schema %q, which no schema block declares", x, x.Parts[0])
		}
		n := 0
		for _, s := range found {
			if s == x.Parts[0] {
				n++
			}
		}
		if n > 1 && x.Root != "table" {
			return "", "", fmt.Sprintf("%s names %d overloaded %ss: keel grants on a %s by its name alone; give the overloads different names", x, n, x.Root, x.Root)
		}
		// One keel does not declare (a partition declared in another
		// file, a serial column's sequence, an extension's function)
		// the throwaway database finds or not.
		return pgsql.QuoteQualified(x.Parts[0], name), x.Parts[0], ""
	}
	distinct := map[string]bool{}
	for _, s := range found {
		distinct[s] = true
	}
	switch {
	case len(found) == 0 && x.Root == "table":
		return "", "", fmt.Sprintf("%s names a table no table block declares (a partition is referred to with its schema: table.SCHEMA.NAME)", x)
	case len(found) == 0:
		return "", "", fmt.Sprintf("%s names a %s no %s block declares (for one keel does not declare, write %s.SCHEMA.NAME)", x, secTargets[x.Root].what, x.Root, x.Root)
	case len(distinct) > 1:
		var list []string
		for s := range distinct {
			list = append(list, s)
		}
		sort.Strings(list)
		return "", "", fmt.Sprintf("%s names %ss in several schemas (%s): write %s.SCHEMA.NAME", x, secTargets[x.Root].what, strings.Join(list, ", "), x.Root)
	case len(found) > 1 && x.Root != "table":
		return "", "", fmt.Sprintf("%s names %d overloaded %ss: keel grants on a %s by its name alone; give the overloads different names", x, len(found), x.Root, x.Root)
	}
	return pgsql.QuoteQualified(found[0], name), found[0], ""
}

// resolveSecurity replaces the placeholders of the references in the
// policies' and privileges' statements with the names of what they
// refer to, declared in any file, and completes the declarations' schemas;
// it reports the references that name nothing and what is declared twice.
func resolveSecurity(decls []ObjectDecl, bodies []*hclsyntax.Body) []string {
	ix := newSecIndex(decls, bodies)
	var problems []string
	seen := map[string]string{}
	for i := range decls {
		d := &decls[i]
		switch d.Kind {
		case secKindRole:
			if prev, ok := seen["role\x00"+d.Name]; ok {
				problems = append(problems, fmt.Sprintf("%s: role %q is declared already at %s: keep one", d.Pos, d.Name, prev))
			} else {
				seen["role\x00"+d.Name] = d.Pos
			}
			continue
		case secKindPolicy, secKindPrivilege:
		default:
			continue
		}
		ok := true
		for j, stmt := range d.SQL {
			out, schemaName, bad := secReplacePending(stmt, ix)
			problems = append(problems, bad...)
			ok = ok && len(bad) == 0
			d.SQL[j] = out
			if schemaName != "" {
				d.Schema = schemaName
			}
		}
		if !ok || d.Kind != secKindPolicy {
			continue
		}
		key := "policy\x00" + d.Schema + "\x00" + d.Table + "\x00" + d.Name
		if prev, dup := seen[key]; dup {
			problems = append(problems, fmt.Sprintf("%s: policy %q on table %s is declared already at %s: keep one", d.Pos, d.Name, pgsql.QuoteQualified(d.Schema, d.Table), prev))
		} else {
			seen[key] = d.Pos
		}
	}
	return problems
}

// secReplacePending replaces the placeholders of a statement. It returns
// the schema of the last object (not role) it resolved.
func secReplacePending(stmt string, ix *secIndex) (out, schemaName string, problems []string) {
	out = secPendingRE.ReplaceAllStringFunc(stmt, func(m string) string {
		var x secRef
		raw, err := hex.DecodeString(secPendingRE.FindStringSubmatch(m)[1])
		if err != nil || json.Unmarshal(raw, &x) != nil || len(x.Parts) == 0 {
			problems = append(problems, fmt.Sprintf("keel cannot read back its own statement %s", stmt))
			return m
		}
		sql, s, bad := ix.resolve(x)
		if bad != "" {
			problems = append(problems, x.Pos+": "+bad)
			return m
		}
		if x.Root != "role" && x.Root != "user" {
			schemaName = s
		}
		return sql
	})
	return out, schemaName, problems
}

// secPendingRE matches a placeholder: the quoted prefix and the reference
// in hexadecimal.
var secPendingRE = regexp.MustCompile(`"` + regexp.QuoteMeta(secPendingPrefix) + `([0-9a-f]+)"`)

// rowSecurityOf reads a table's catalog description ("table row level
// security force row level security comment '...'") for its row-level
// security switches.
func rowSecurityOf(desc string) (enabled, forced bool) {
	rest, ok := strings.CutPrefix(desc, "partitioned table")
	if !ok {
		if rest, ok = strings.CutPrefix(desc, "table"); !ok {
			return false, false
		}
	}
	rest, enabled = strings.CutPrefix(rest, " row level security")
	_, forced = strings.CutPrefix(rest, " force row level security")
	return enabled, forced
}

// WriteRowSecurity adds a row_security block to the printed table blocks
// (text, the HCL of the same state) of the tables whose catalog
// description says row level security is enabled or forced. A table it
// finds no block of is written as an HCL comment.
func WriteRowSecurity(text []byte, cat Catalog) ([]byte, error) {
	type switches struct{ enabled, forced bool }
	want := map[CatalogKey]switches{}
	for k, desc := range cat {
		if k.Kind != CatalogTable {
			continue
		}
		if en, forced := rowSecurityOf(desc); en || forced {
			want[k] = switches{en, forced}
		}
	}
	if len(want) == 0 {
		return text, nil
	}
	syn, diags := hclsyntax.ParseConfig(text, "state.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("printing the state as HCL: writing the tables' row_security: %s", diags.Error())
	}
	wr, diags := hclwrite.ParseConfig(text, "state.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("printing the state as HCL: writing the tables' row_security: %s", diags.Error())
	}
	sblocks, wblocks := syn.Body.(*hclsyntax.Body).Blocks, wr.Body().Blocks()
	if len(sblocks) != len(wblocks) {
		return nil, fmt.Errorf("printing the state as HCL: writing the tables' row_security: the printed HCL reads as %d and %d blocks", len(sblocks), len(wblocks))
	}
	for i, sb := range sblocks {
		if sb.Type != "table" || len(sb.Labels) < 1 || len(sb.Labels) > 2 {
			continue
		}
		key, ok := printedTable(sb)
		sw, wanted := want[key]
		if !ok || !wanted {
			continue
		}
		body := wblocks[i].Body()
		body.AppendNewline()
		rs := body.AppendNewBlock("row_security", nil).Body()
		rs.SetAttributeValue("enabled", cty.BoolVal(sw.enabled))
		if sw.forced {
			rs.SetAttributeValue("enforced", cty.True)
		}
		delete(want, key)
	}
	var unplaced []string
	for k := range want {
		unplaced = append(unplaced, note(k.String()+" row-level security", cat[k]))
	}
	sort.Strings(unplaced)
	for _, n := range unplaced {
		wr.Body().AppendUnstructuredTokens(commentTokens(n))
	}
	return hclwrite.Format(wr.Bytes()), nil
}
