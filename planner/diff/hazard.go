package diff

import (
	"fmt"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/plan"
	"keel/planner/state"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// Facts is what the hazard analysis knows about an existing table.
type Facts interface {
	// Size returns the row estimate and bytes of a table, if it exists.
	Size(t *schema.Table) (rows, bytes *int64)
	// Count runs a count query on the target when the table is small enough
	// for it to be cheap; nil when it is not, or it failed.
	Count(t *schema.Table, query string) *int64
	// Volatile reports whether a default expression calls a volatile function.
	Volatile(expr string) bool
	// Dependents lists the views and materialized views outside the
	// managed schemas that use a table, or one of its columns when column
	// is not empty (keel drops and creates again those inside).
	Dependents(t *schema.Table, column string) []string
	// Attached lists the objects keel does not manage that PostgreSQL drops
	// with a table, without asking: its rules ("rule public.accounts.r").
	Attached(t *schema.Table) []string
	// Converts reports whether PostgreSQL converts a column's values from
	// one type to another on its own (ALTER COLUMN ... TYPE without USING:
	// an implicit or assignment cast); nil when it cannot tell.
	Converts(from, to string) *bool
	// Descendants lists the partitions and children of a table, at any
	// depth ("public.events_2026_01").
	Descendants(t *schema.Table) []string
	// Updates reports whether the server has a path of update scripts
	// that takes an extension from one version to another (ALTER
	// EXTENSION ... UPDATE TO); nil when it cannot tell.
	Updates(extension, from, to string) *bool
}

// andBelow adds to a drop's message the partitions and children of t whose
// rows it takes too.
func andBelow(msg string, t *schema.Table, facts Facts) string {
	below := facts.Descendants(t)
	if len(below) == 0 {
		return msg
	}
	more := ""
	if len(below) > 5 {
		below, more = below[:5], fmt.Sprintf(" and %d more", len(below)-5)
	}
	return msg + ", in the table and in its partitions or children " + strings.Join(below, ", ") + more
}

// blockedBy is the hazard of a drop or type change that views keel does
// not manage depend on: PostgreSQL refuses it, and the plan rolls back.
func blockedBy(obj string, views []string) []plan.Hazard {
	if len(views) == 0 {
		return nil
	}
	verb := "depend"
	if len(views) == 1 {
		verb = "depends"
	}
	return []plan.Hazard{{Code: plan.HazardMayFail, Severity: plan.SeverityDanger, Object: obj,
		Message: fmt.Sprintf("%s %s on it, %s: PostgreSQL would refuse this; drop or change them first",
			strings.Join(views, ", "), verb, UnmanagedDependents)}}
}

// UnmanagedDependents is in the message of the hazard of a statement that
// objects keel does not manage depend on (blockedBy): a plan with one is
// not applied.
const UnmanagedDependents = "in schemas keel does not manage"

// Blockers lists, as differences keel cannot plan, the objects of steps
// that objects keel does not manage depend on: PostgreSQL would refuse
// their statements, so the plan is refused before anything runs.
func Blockers(steps []plan.Step) []plan.Difference {
	var out []plan.Difference
	for _, st := range steps {
		for _, h := range st.Hazards {
			if h.Code == plan.HazardMayFail && strings.Contains(h.Message, UnmanagedDependents) {
				out = append(out, plan.Difference{Object: h.Object, Desired: "changed by this plan: " + plan.OneLine(st.SQL), Live: "used by objects keel does not manage", Why: h.Message})
			}
		}
	}
	return out
}

// hazardsOf derives the hazards of the engine changes behind one statement.
func hazardsOf(changes []schema.Change, facts Facts) []plan.Hazard {
	var hs []plan.Hazard
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.DropTable:
			rows, bytes := facts.Size(c.T)
			hs = append(hs,
				plan.Hazard{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: "table " + state.TableName(c.T), Message: andBelow("drops the table and all its rows", c.T, facts), Rows: rows, Bytes: bytes},
				plan.Hazard{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: "table " + state.TableName(c.T), Message: "code that uses the table breaks"})
			hs = append(hs, blockedBy("table "+state.TableName(c.T), facts.Dependents(c.T, ""))...)
			for _, o := range facts.Attached(c.T) {
				hs = append(hs, plan.Hazard{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: o,
					Message: "dropped with its table; keel does not manage it and will not create it again"})
			}
		case *schema.DropObject:
			if e, ok := c.O.(*schema.EnumType); ok {
				hs = append(hs, plan.Hazard{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: objectName(e), Message: "drops the enum type"})
			}
		case *schema.RenameTable:
			hs = append(hs, plan.Hazard{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: "table " + state.TableName(c.From), Message: "renames the table: code that uses the old name breaks"})
		case *schema.ModifyTable:
			for _, sub := range c.Changes {
				hs = append(hs, modifyHazards(c.T, sub, facts)...)
			}
		}
	}
	return hs
}

func columnName(t *schema.Table, c *schema.Column) string {
	return "column " + state.TableName(t) + "." + plan.DisplayPart(c.Name)
}

func modifyHazards(t *schema.Table, c schema.Change, facts Facts) []plan.Hazard {
	rows, bytes := facts.Size(t)
	q := state.QuoteTable(t)
	switch c := c.(type) {
	case *schema.DropColumn:
		return append([]plan.Hazard{
			{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: columnName(t, c.C), Message: andBelow("drops the column and its values", t, facts), Rows: rows, Bytes: bytes},
			{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: columnName(t, c.C), Message: "code that reads or writes the column breaks"},
		}, blockedBy(columnName(t, c.C), facts.Dependents(t, c.C.Name))...)
	case *schema.AddColumn:
		var hs []plan.Hazard
		switch {
		case hasAttr[*postgres.Identity](c.C.Attrs) || hasAttr[*schema.GeneratedExpr](c.C.Attrs):
			hs = append(hs, plan.Hazard{Code: plan.HazardTableRewrite, Severity: plan.SeverityWarning, Object: columnName(t, c.C), Message: "adding an identity or generated column fills every row", Rows: rows, Bytes: bytes})
		case c.C.Default != nil && facts.Volatile(exprText(c.C.Default)):
			hs = append(hs, plan.Hazard{Code: plan.HazardTableRewrite, Severity: plan.SeverityWarning, Object: columnName(t, c.C), Message: "the default calls a volatile function, so every row is rewritten", Rows: rows, Bytes: bytes})
		}
		if !c.C.Type.Null && c.C.Default == nil && !hasAttr[*postgres.Identity](c.C.Attrs) && !hasAttr[*schema.GeneratedExpr](c.C.Attrs) {
			n := facts.Count(t, "SELECT count(*) FROM "+q)
			hs = append(hs, mayFail(columnName(t, c.C), "NOT NULL without a default fails if the table has rows", n, rows))
		}
		return hs
	case *schema.ModifyColumn:
		var hs []plan.Hazard
		obj := columnName(t, c.To)
		if c.Change.Is(schema.ChangeType) {
			rewrite, narrow := typeChange(c.From.Type.Type, c.To.Type.Type)
			if rewrite {
				hs = append(hs, plan.Hazard{Code: plan.HazardTableRewrite, Severity: plan.SeverityWarning, Object: obj,
					Message: fmt.Sprintf("changing the type from %s to %s rewrites the table", typeString(c.From.Type.Type), typeString(c.To.Type.Type)), Rows: rows, Bytes: bytes})
			}
			if narrow {
				hs = append(hs, plan.Hazard{Code: plan.HazardDataLoss, Severity: plan.SeverityDanger, Object: obj,
					Message: fmt.Sprintf("narrows the type from %s to %s: values may be cut or rejected", typeString(c.From.Type.Type), typeString(c.To.Type.Type)), Rows: rows, Bytes: bytes})
			}
			if using := usersConversion(t, c); using != "" || !enumChange(c.From.Type.Type, c.To.Type.Type) {
				if ok := facts.Converts(typeString(c.From.Type.Type), typeString(c.To.Type.Type)); ok != nil && !*ok {
					hs = append(hs, conversionHazard(obj, c, using))
				}
			}
			hs = append(hs, plan.Hazard{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: obj, Message: "changes the column's type: code that expects the old type may break"})
			hs = append(hs, blockedBy(obj, facts.Dependents(t, c.From.Name))...)
		}
		if c.Change.Is(schema.ChangeNull) && c.From.Type.Null && !c.To.Type.Null {
			n := facts.Count(t, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s IS NULL", q, pgsql.QuoteIdent(c.To.Name)))
			hs = append(hs,
				plan.Hazard{Code: plan.HazardBlockingLock, Severity: plan.SeverityWarning, Object: obj, Message: "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock", Rows: rows, Bytes: bytes},
				mayFail(obj, "SET NOT NULL fails on rows where the column is NULL", n, rows))
		}
		return hs
	case *schema.RenameColumn:
		return []plan.Hazard{{Code: plan.HazardBackwardIncompatible, Severity: plan.SeverityWarning, Object: columnName(t, c.From), Message: "renames the column: code that uses the old name breaks"}}
	case *schema.AddIndex:
		obj := "index " + state.TableName(t) + "." + plan.DisplayPart(c.I.Name)
		var hs []plan.Hazard
		if hasClause[*postgres.Concurrently](c.Extra) {
			hs = append(hs, plan.Hazard{Code: plan.HazardNonTransactional, Severity: plan.SeverityInfo, Object: obj, Message: "built CONCURRENTLY after the transaction commits: reads and writes go on; a failed build leaves an INVALID index that the next plan rebuilds", Rows: rows, Bytes: bytes})
		} else {
			hs = append(hs, plan.Hazard{Code: plan.HazardBlockingLock, Severity: plan.SeverityWarning, Object: obj, Message: "building the index blocks writes to the table until it is done", Rows: rows, Bytes: bytes})
		}
		if c.I.Unique {
			n := facts.Count(t, duplicatesQuery(t, c.I))
			hs = append(hs, mayFail(obj, "a unique index fails if the rows hold duplicates", n, rows))
		}
		return hs
	case *schema.DropIndex:
		if hasClause[*postgres.Concurrently](c.Extra) {
			return []plan.Hazard{{Code: plan.HazardNonTransactional, Severity: plan.SeverityInfo, Object: "index " + state.TableName(t) + "." + plan.DisplayPart(c.I.Name), Message: "dropped CONCURRENTLY after the transaction commits"}}
		}
	case *schema.AddForeignKey:
		obj := "foreign key " + state.TableName(t) + "." + plan.DisplayPart(c.F.Symbol)
		if hasClause[*postgres.NotValid](c.Extra) {
			return nil
		}
		n := facts.Count(t, orphansQuery(c.F))
		return []plan.Hazard{
			{Code: plan.HazardBlockingLock, Severity: plan.SeverityWarning, Object: obj, Message: "validating the foreign key scans the table and blocks writes to both tables", Rows: rows, Bytes: bytes},
			mayFail(obj, "fails on rows that reference no row of "+state.TableName(c.F.RefTable), n, rows),
		}
	case *schema.AddCheck:
		obj := "check " + state.TableName(t) + "." + plan.DisplayPart(c.C.Name)
		if hasClause[*postgres.NotValid](c.Extra) {
			return nil
		}
		n := facts.Count(t, fmt.Sprintf("SELECT count(*) FROM %s WHERE NOT (%s)", q, c.C.Expr))
		return []plan.Hazard{
			{Code: plan.HazardBlockingLock, Severity: plan.SeverityWarning, Object: obj, Message: "validating the check scans the table under an ACCESS EXCLUSIVE lock", Rows: rows, Bytes: bytes},
			mayFail(obj, "fails on rows that violate the check", n, rows),
		}
	case *schema.ModifyCheck:
		obj := "check " + state.TableName(t) + "." + plan.DisplayPart(c.To.Name)
		n := facts.Count(t, fmt.Sprintf("SELECT count(*) FROM %s WHERE NOT (%s)", q, c.To.Expr))
		return []plan.Hazard{
			{Code: plan.HazardBlockingLock, Severity: plan.SeverityWarning, Object: obj, Message: "re-validating the check scans the table under an ACCESS EXCLUSIVE lock", Rows: rows, Bytes: bytes},
			mayFail(obj, "fails on rows that violate the new check", n, rows),
		}
	case *schema.AddPrimaryKey:
		obj := "primary key " + state.TableName(t)
		n := facts.Count(t, duplicatesQuery(t, c.P))
		return []plan.Hazard{
			{Code: plan.HazardBlockingLock, Severity: plan.SeverityWarning, Object: obj, Message: "building the primary key blocks the table until it is done", Rows: rows, Bytes: bytes},
			mayFail(obj, "fails if the key columns hold duplicates or NULLs", n, rows),
		}
	}
	return nil
}

// conversionHazard is the risk of a type change that PostgreSQL does not
// convert on its own: without a conversion (using, the column's `using`
// attribute: USING expr) the statement fails; with one, it fails on a
// value the expression cannot convert. Either way the plan rolls back.
func conversionHazard(obj string, c *schema.ModifyColumn, using string) plan.Hazard {
	from, to := typeString(c.From.Type.Type), typeString(c.To.Type.Type)
	if using != "" {
		return plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj,
			Message: fmt.Sprintf("PostgreSQL has no automatic conversion from %s to %s: the values are converted with the column's using expression (USING %s), and a value it cannot convert fails the statement and the plan rolls back",
				from, to, using)}
	}
	return plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityDanger, Object: obj,
		Message: fmt.Sprintf("PostgreSQL has no automatic conversion from %s to %s: the statement fails (SQLSTATE 42804) and the plan rolls back; give the column a using attribute with the conversion (using = \"%s::%s\", or another expression)",
			from, to, pgsql.QuoteIdent(c.To.Name), to)}
}

// usersConversion is the USING expression of a column change of table t
// that came from the column's `using` attribute: "" when there is none, or
// it is keel's own cast to an enum through text (see fixColumnChanges).
func usersConversion(t *schema.Table, c *schema.ModifyColumn) string {
	for _, x := range c.Extra {
		cu, ok := x.(*postgres.ConvertUsing)
		if !ok {
			continue
		}
		if e, ok := c.To.Type.Type.(*schema.EnumType); ok && cu.X == pgsql.QuoteIdent(c.To.Name)+"::text::"+enumName(e, t) {
			return ""
		}
		return cu.X
	}
	return ""
}

// enumChange reports whether either type is an enum: keel converts those
// through text itself (USING col::text::type).
func enumChange(from, to schema.Type) bool {
	_, f := from.(*schema.EnumType)
	_, t := to.(*schema.EnumType)
	return f || t
}

func mayFail(obj, msg string, offending, rows *int64) plan.Hazard {
	h := plan.Hazard{Code: plan.HazardMayFail, Severity: plan.SeverityWarning, Object: obj, Message: msg, Offending: offending, Rows: rows}
	switch {
	case offending != nil && *offending > 0:
		h.Severity = plan.SeverityDanger
		h.Message += fmt.Sprintf(": %d rows do now", *offending)
	case offending != nil:
		h.Message += ": no rows do now"
	}
	return h
}

func hasAttr[T any](attrs []schema.Attr) bool {
	for _, a := range attrs {
		if _, ok := a.(T); ok {
			return true
		}
	}
	return false
}

func hasClause[T any](cs []schema.Clause) bool {
	for _, c := range cs {
		if _, ok := c.(T); ok {
			return true
		}
	}
	return false
}

func exprText(x schema.Expr) string {
	switch x := x.(type) {
	case *schema.RawExpr:
		return x.X
	case *schema.Literal:
		return x.V
	}
	return ""
}

// duplicatesQuery counts groups of rows that share the index's key.
func duplicatesQuery(t *schema.Table, idx *schema.Index) string {
	keys := make([]string, 0, len(idx.Parts))
	notNull := make([]string, 0, len(idx.Parts))
	for _, p := range idx.Parts {
		k := ""
		switch {
		case p.C != nil:
			k = pgsql.QuoteIdent(p.C.Name)
		case p.X != nil:
			k = "(" + exprText(p.X) + ")"
		}
		if k == "" || k == "()" {
			return ""
		}
		keys = append(keys, k)
		notNull = append(notNull, k+" IS NOT NULL")
	}
	where := strings.Join(notNull, " AND ")
	for _, a := range idx.Attrs {
		if p, ok := a.(*postgres.IndexPredicate); ok {
			where += " AND (" + p.P + ")"
		}
	}
	return fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s GROUP BY %s HAVING count(*) > 1) d",
		state.QuoteTable(t), where, strings.Join(keys, ", "))
}

// orphansQuery counts rows whose foreign key matches no referenced row.
func orphansQuery(fk *schema.ForeignKey) string {
	var notNull, match []string
	for i, c := range fk.Columns {
		if i >= len(fk.RefColumns) {
			return ""
		}
		notNull = append(notNull, "c."+pgsql.QuoteIdent(c.Name)+" IS NOT NULL")
		match = append(match, "r."+pgsql.QuoteIdent(fk.RefColumns[i].Name)+" = c."+pgsql.QuoteIdent(c.Name))
	}
	return fmt.Sprintf("SELECT count(*) FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s r WHERE %s)",
		state.QuoteTable(fk.Table), strings.Join(notNull, " AND "), state.QuoteTable(fk.RefTable), strings.Join(match, " AND "))
}

// NoFacts answers every question of the hazard analysis with "not known":
// for steps whose hazards nobody reads (the check of an apply's result).
type NoFacts struct{}

// Size implements Facts.
func (NoFacts) Size(*schema.Table) (rows, bytes *int64) { return nil, nil }

// Descendants implements Facts.
func (NoFacts) Descendants(*schema.Table) []string { return nil }

// Count implements Facts.
func (NoFacts) Count(*schema.Table, string) *int64 { return nil }

// Volatile implements Facts.
func (NoFacts) Volatile(string) bool { return false }

// Dependents implements Facts.
func (NoFacts) Dependents(*schema.Table, string) []string { return nil }

// Attached implements Facts.
func (NoFacts) Attached(*schema.Table) []string { return nil }

// Converts implements Facts.
func (NoFacts) Converts(string, string) *bool { return nil }

// Updates implements Facts.
func (NoFacts) Updates(string, string, string) *bool { return nil }
