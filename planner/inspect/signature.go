package inspect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/pg"
	"keel/planner/plan"

	"github.com/jackc/pgx/v5"
)

// managedSchemasTable is where keel records the schemas it manages.
const managedSchemasTable = plan.KeelSchema + ".managed_schemas"

// CatalogSignature is a hash of where every row of the database's own
// catalogs is and which transaction wrote it (xmin and ctid of each row of
// each table in pg_catalog that is not shared between databases), of the
// names of the roles they refer to, by OID, of the rows of
// keel.managed_schemas (which a plan reads too: the schemas it drops), and
// of the session's settings that change how PostgreSQL prints what keel
// reads (the user, the server's version, TimeZone, DateStyle, ...). A row
// version never changes in place for what keel reads: any DDL, GRANT or
// COMMENT that commits writes new row versions, so the signature changes,
// while data changes, ANALYZE and VACUUM (which update statistics in place)
// leave it as it was. Two equal signatures mean that an inspection would
// read the same schema: an apply that plans and runs at once skips
// inspecting again for its staleness check when the signature is still the
// plan's (and checks in full when it is not: any change at all in the
// database's catalogs, a temporary table included, only costs that
// shortcut), and a plan answers from a match record (planner.Options) only
// under the signature the match was verified at.
//
// Each table's rows are combined as the XOR of a 64-bit hash of each row's
// (ctid, xmin), with the count of rows: no sort, half the time of hashing
// them in order. The pairs are distinct within a table, and a commit adds
// pairs with its own new xmin, so a change leaves a table's value as it
// was only by a 64-bit collision. bit_xor is PostgreSQL 14's: on an older
// server the signature cannot be read, the plan has none, and its apply
// checks staleness by inspecting again.
//
// Left out: the statistics (pg_statistic, pg_statistic_ext_data), large
// objects' contents (pg_largeobject), and catalogs the role may not read
// (their content is not inspected either).
func CatalogSignature(ctx context.Context, c *pg.Conn) (string, error) {
	sig, _, err := CatalogSignatures(ctx, c, nil)
	return sig, err
}

// CatalogSignatures reads CatalogSignature and, in the same pass over the
// catalogs, RestSignature of the tables (quoted qualified names; "" when
// there are none).
func CatalogSignatures(ctx context.Context, c *pg.Conn, tables []string) (sig, rest string, err error) {
	var leave map[string]string
	if len(tables) > 0 {
		leave = restLeft
	}
	parts, err := signatureParts(ctx, c, leave, true)
	if err != nil {
		return "", "", err
	}
	// The roles this database's objects can name: those its catalogs
	// depend on (owners, grants, policies: pg_shdepend), and the built-in
	// ones, whose dependencies are not recorded. A role made or dropped
	// for another database leaves the signature as it was.
	parts = append(parts, "SELECT 'roles', "+rolesHash+", NULL "+rolesFrom, "SELECT 'settings', "+settingsHash+", NULL")
	if len(tables) == 0 {
		sig, _, err = signatureOf(ctx, c, "", parts, nil)
		return sig, "", err
	}
	return signatureOf(ctx, c, restAttribution, parts, []any{tables})
}

// rolesHash, over rolesFrom, hashes the roles this database's objects can
// name: those its catalogs depend on (owners, grants, policies:
// pg_shdepend), and the built-in ones, whose dependencies are not
// recorded. A role made or dropped for another database leaves it as it
// was.
const (
	rolesHash = `pg_catalog.md5(COALESCE(pg_catalog.string_agg(r.oid::text || ':' || r.rolname, ',' ORDER BY r.oid), ''))`
	rolesFrom = `FROM pg_catalog.pg_roles r
WHERE r.oid < 16384 OR r.oid IN (SELECT d.refobjid FROM pg_catalog.pg_shdepend d
  WHERE d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
    AND d.dbid = (SELECT db.oid FROM pg_catalog.pg_database db WHERE db.datname = pg_catalog.current_database()))`
)

// settingsHash hashes how PostgreSQL prints defaults, bounds and names for
// this session (search_path is the inspection's own).
const settingsHash = `pg_catalog.md5(pg_catalog.concat_ws(',', current_user, pg_catalog.current_database(),
  pg_catalog.current_setting('server_version_num'), pg_catalog.current_setting('TimeZone'), pg_catalog.current_setting('DateStyle'),
  pg_catalog.current_setting('IntervalStyle'), pg_catalog.current_setting('extra_float_digits'), pg_catalog.current_setting('bytea_output'),
  pg_catalog.current_setting('standard_conforming_strings'), pg_catalog.current_setting('quote_all_identifiers'),
  pg_catalog.current_setting('lc_monetary'), pg_catalog.current_setting('lc_numeric')))`

// byClass are the catalogs whose rows CatalogSignature hashes in groups,
// each a part of its own named by the catalog and the group (that
// expression of the row): dependencies and comments by the catalog of the
// object they are of, and schemas apart from keel's own (whose row
// changes when the first apply into a database makes it).
var byClass = map[string]string{"pg_catalog.pg_depend": "classid", "pg_catalog.pg_description": "classoid",
	"pg_catalog.pg_namespace": "CASE WHEN nspname = " + pgsql.QuoteLiteral(plan.KeelSchema) + " THEN 'keel' ELSE 'other' END"}

// keelParts are the parts of CatalogSignature that only keel's own objects
// are in: its schema's row and the rows of keel.managed_schemas (which a
// plan reads anew each time). SignatureBeyondTables leaves them out: a
// target record is kept while only keel's own objects changed
// (TableSignatures says whether they did alone).
var keelParts = `'{pg_catalog.pg_namespace/keel,` + managedSchemasTable + `}'::text[]`

// tableParts are the parts of CatalogSignature that rows of a table (as
// TableSignatures attributes them) are in: a change to any other part is
// not a change to tables alone. The OIDs of pg_class, pg_type,
// pg_attrdef, pg_constraint and pg_trigger are fixed.
const tableParts = `'{pg_catalog.pg_class,pg_catalog.pg_attribute,pg_catalog.pg_attrdef,pg_catalog.pg_constraint,` +
	`pg_catalog.pg_index,pg_catalog.pg_trigger,pg_catalog.pg_type,pg_catalog.pg_sequence,` +
	`pg_catalog.pg_depend/1259,pg_catalog.pg_depend/1247,pg_catalog.pg_depend/2604,pg_catalog.pg_depend/2606,pg_catalog.pg_depend/2620,` +
	`pg_catalog.pg_description/1259,pg_catalog.pg_description/1247,pg_catalog.pg_description/2604,pg_catalog.pg_description/2606,pg_catalog.pg_description/2620}'::text[]`

// SignatureBeyondTables is the part of a signature CatalogSignature read
// that covers the rows that belong to no table (as TableSignatures
// attributes them) and not to keel's own schema for certain: two
// signatures whose parts differ differ by more than tables' rows and
// keel's own.
func SignatureBeyondTables(sig string) string {
	_, others, _ := strings.Cut(sig, ".")
	return others
}

// signatureOf combines the parts (queries of a name n, a hash h of all
// rows and a hash r of the rows not left out, or NULL) into two hashes;
// with, if not empty, starts the query (its WITH clause), args are its
// arguments.
func signatureOf(ctx context.Context, c *pg.Conn, with string, parts []string, args []any) (sig, rest string, err error) {
	q := with + "SELECT pg_catalog.md5(COALESCE(pg_catalog.string_agg(n || '=' || h, ',' ORDER BY n), '')), " +
		"pg_catalog.md5(COALESCE(pg_catalog.string_agg(n || '=' || r, ',' ORDER BY n), '')), " +
		"pg_catalog.md5(COALESCE(pg_catalog.string_agg(n || '=' || h, ',' ORDER BY n) FILTER (WHERE NOT n = ANY (" + tableParts + ") AND NOT n = ANY (" + keelParts + ")), '')) " +
		"FROM (" + strings.Join(parts, "\nUNION ALL\n") + ") s"
	var others string
	if err := c.Pgx().QueryRow(ctx, q, args...).Scan(&sig, &rest, &others); err != nil {
		return "", "", fmt.Errorf("reading the catalog's signature: %w", pg.ServerError(err))
	}
	// The signature ends with the hash of the parts beyond tables
	// (SignatureBeyondTables).
	return "md5:" + sig + "." + others, "md5:" + rest, nil
}

// signedCatalogs lists the catalogs CatalogSignature covers: the tables of
// pg_catalog that are not shared between databases (less statistics and
// large objects) and keel.managed_schemas, those the role may read (the
// privilege asked of those only: of every relation, it took 40 ms at
// 1,000 tables).
const signedCatalogs = `SELECT nspname, relname FROM (SELECT c.oid, n.nspname, c.relname
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE (n.nspname = 'pg_catalog' AND c.relkind = 'r' AND NOT c.relisshared
      AND c.relname NOT IN ('pg_statistic', 'pg_statistic_ext_data', 'pg_largeobject'))
    OR c.oid = (SELECT pg_catalog.to_regclass('` + managedSchemasTable + `'))
  OFFSET 0) x
WHERE pg_catalog.has_table_privilege(x.oid, 'SELECT')
ORDER BY nspname, relname`

// signatureParts lists the catalogs CatalogSignature covers and returns a
// query for each: its name n, the XOR of its rows' hashes with their count
// h, and r, the same of the rows that leave does not leave out: leave, when
// not nil, gives for a catalog (pg_catalog.NAME) the condition of the rows
// left out of it (r is NULL when leave is nil); h is NULL when total is
// false and leave is not nil.
func signatureParts(ctx context.Context, c *pg.Conn, leave map[string]string, total bool) ([]string, error) {
	catalogs, err := signedCatalogList(ctx, c)
	if err != nil {
		return nil, err
	}
	var parts []string
	for _, cat := range catalogs {
		schema, name := cat[0], cat[1]
		// hashtidextended seeded with the xmin: a third less time than
		// hashing both as text.
		const hash = "pg_catalog.hashtidextended(ctid, xmin::text::bigint)"
		table := pgsql.QuoteIdent(schema) + "." + pgsql.QuoteIdent(name)
		from := "(SELECT " + hash + " AS x FROM " + table + ") s"
		h, r := "COALESCE(pg_catalog.bit_xor(x), 0) || ':' || pg_catalog.count(*)", "NULL"
		if leave != nil {
			r = h
			if cond, ok := leave[schema+"."+name]; ok {
				// Each row's hash and whether it is left out, once
				// (OFFSET 0 keeps the subquery from being merged into
				// the aggregates, which would compute them for each).
				from = "(SELECT " + hash + " AS x, " + cond + " AS l FROM " + table + " OFFSET 0) s"
				r = "COALESCE(pg_catalog.bit_xor(x) FILTER (WHERE NOT l), 0) || ':' || pg_catalog.count(*) FILTER (WHERE NOT l)"
			}
			if !total {
				h = "NULL"
			}
		}
		// Dependencies and comments by the catalog of the object they are
		// of (a comment on a schema tells apart from one on a table), and
		// schemas apart from keel's own (see byClass).
		if class, ok := byClass[schema+"."+name]; ok {
			// A class all of whose rows are left out is no part, as one
			// with no rows at all.
			if r != "NULL" {
				r = "NULLIF(" + r + ", '0:0')"
			}
			from = strings.Replace(from, " AS x", " AS x, "+class+" AS grp", 1) + " GROUP BY grp"
			parts = append(parts, fmt.Sprintf("SELECT %s || '/' || grp AS n, %s AS h, %s AS r FROM %s", pgsql.QuoteLiteral(schema+"."+name), h, r, from))
			continue
		}
		parts = append(parts, fmt.Sprintf("SELECT %s AS n, %s AS h, %s AS r FROM %s", pgsql.QuoteLiteral(schema+"."+name), h, r, from))
	}
	return parts, nil
}

// signedCatalogList lists signedCatalogs: {schema, name} of each.
func signedCatalogList(ctx context.Context, c *pg.Conn) ([][2]string, error) {
	rows, err := c.Pgx().Query(ctx, signedCatalogs)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog's signature: %w", pg.ServerError(err))
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var k [2]string
		err := r.Scan(&k[0], &k[1])
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the catalog's signature: %w", pg.ServerError(err))
	}
	return list, nil
}

// restAttribution defines, for RestSignature, the objects that belong to
// the tables $1 (quoted qualified names, looked up when the query runs, so
// that a table the statements create or drop counts where it exists; see
// attribution).
var restAttribution = attribution(`SELECT c.oid, c.oid AS t FROM pg_catalog.pg_class c
  WHERE c.oid = ANY (ARRAY(SELECT pg_catalog.to_regclass(x)::pg_catalog.oid FROM pg_catalog.unnest($1::text[]) x))`)

// restLeft are the rows RestSignature leaves out, by catalog: those of
// the objects restAttribution defines. Every other row of every catalog
// CatalogSignature covers is in.
var restLeft = map[string]string{
	"pg_catalog.pg_class":       "oid IN (SELECT oid FROM rel)",
	"pg_catalog.pg_attribute":   "attrelid IN (SELECT oid FROM rel)",
	"pg_catalog.pg_attrdef":     "oid IN (SELECT oid FROM def)",
	"pg_catalog.pg_constraint":  "oid IN (SELECT oid FROM con)",
	"pg_catalog.pg_index":       "indexrelid IN (SELECT oid FROM rel)",
	"pg_catalog.pg_trigger":     "oid IN (SELECT oid FROM trg)",
	"pg_catalog.pg_type":        "oid IN (SELECT oid FROM typ)",
	"pg_catalog.pg_sequence":    "seqrelid IN (SELECT oid FROM rel)",
	"pg_catalog.pg_depend":      "(classid, objid) IN (SELECT classid, objid FROM obj)",
	"pg_catalog.pg_description": "(classoid, objoid) IN (SELECT classid, objid FROM obj)",
}

// RestSignature is a hash of where every row of the database's catalogs
// that does not belong to the given tables (quoted qualified names) is
// and which transaction wrote it: CatalogSignature's, over the rows of the
// same catalogs, less those of the tables, their indexes, constraints,
// defaults, sequences, internal triggers and row types (restAttribution).
// Read before and after statements in one transaction, equal values mean
// that the statements wrote, and removed, no row of the catalogs but the
// tables' own: what PostgreSQL's catalog says of everything else is what
// it said before. Any other row written (a comment on another table, a
// view's dependency, the flag of a table a new foreign key refers to)
// changes it.
func RestSignature(ctx context.Context, c *pg.Conn, tables []string) (string, error) {
	parts, err := signatureParts(ctx, c, restLeft, false)
	if err != nil {
		return "", err
	}
	_, rest, err := signatureOf(ctx, c, restAttribution, parts, []any{tables})
	return rest, err
}

// tableAttribution is restAttribution for every table (and partitioned
// table) of the schemas $1, each object with the table it belongs to (t):
// a foreign key's internal triggers on the table it refers to belong to
// both tables.
// The tables of keel's own schema are among them (TableSignatures leaves
// them out of what it returns).
var tableAttribution = attribution(`SELECT c.oid, c.oid AS t FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE (n.nspname = ANY ($1::text[]) OR n.nspname = ` + pgsql.QuoteLiteral(plan.KeelSchema) + `) AND c.relkind IN ('r', 'p')`)

// keelOwnUsed is, over tableAttribution, whether anything outside keel's
// own tables (and what belongs to them) depends on them or on keel's
// schema: a view over keel.history, a foreign key to it, a function or
// type in schema keel. Then what they print can change with keel's own
// rows, and TableSignatures counts those in rest.
var keelOwnUsed = `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
  WHERE (d.classid, d.objid) NOT IN (SELECT classid, objid FROM kobj)
    AND ((d.refclassid, d.refobjid) IN (SELECT classid, objid FROM kobj)
      OR (d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.refobjid = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ` + pgsql.QuoteLiteral(plan.KeelSchema) + `))))`

// attribution is the WITH clause of the objects that belong to the tables
// tbl selects (oid, and t, the table: its own OID): the tables, their
// indexes, TOAST tables and their indexes, the sequences they own (OWNED
// BY, identity), their constraints (con), column defaults (def), internal
// triggers (trg: those of their foreign keys, also on the tables they
// refer to, belong to both tables), and the row types of all these
// relations with their array types (typ); obj lists them all by catalog
// (classid) and OID (objid). rel holds the relations.
func attribution(tbl string) string {
	return `WITH tbl AS (` + tbl + `),
rel AS (SELECT oid, t FROM tbl
  UNION ALL SELECT x.indexrelid, x.indrelid FROM pg_catalog.pg_index x JOIN tbl ON tbl.oid = x.indrelid
  UNION ALL SELECT c.reltoastrelid, c.oid FROM pg_catalog.pg_class c JOIN tbl ON tbl.oid = c.oid WHERE c.reltoastrelid <> 0
  UNION ALL SELECT x.indexrelid, c.oid FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class c ON c.reltoastrelid = x.indrelid JOIN tbl ON tbl.oid = c.oid
  UNION ALL SELECT d.objid, d.refobjid FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN tbl ON tbl.oid = d.refobjid
    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.deptype IN ('a', 'i')),
con AS (SELECT k.oid, k.conrelid AS t FROM pg_catalog.pg_constraint k JOIN tbl ON tbl.oid = k.conrelid),
def AS (SELECT a.oid, a.adrelid AS t FROM pg_catalog.pg_attrdef a JOIN tbl ON tbl.oid = a.adrelid),
trg AS (SELECT g.oid, g.tgrelid AS t FROM pg_catalog.pg_trigger g JOIN tbl ON tbl.oid = g.tgrelid WHERE g.tgisinternal
  UNION SELECT g.oid, con.t FROM pg_catalog.pg_trigger g JOIN con ON con.oid = g.tgconstraint WHERE g.tgisinternal),
typ AS (SELECT y.oid, rel.t FROM pg_catalog.pg_type y JOIN rel ON rel.oid = y.typrelid
  UNION ALL SELECT y.typarray, rel.t FROM pg_catalog.pg_type y JOIN rel ON rel.oid = y.typrelid WHERE y.typarray <> 0),
obj AS (SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid AS classid, oid AS objid, t FROM rel
  UNION ALL SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass::pg_catalog.oid, oid, t FROM con
  UNION ALL SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass::pg_catalog.oid, oid, t FROM def
  UNION ALL SELECT 'pg_catalog.pg_trigger'::pg_catalog.regclass::pg_catalog.oid, oid, t FROM trg
  UNION ALL SELECT 'pg_catalog.pg_type'::pg_catalog.regclass::pg_catalog.oid, oid, t FROM typ)
`
}

// tableOwned is, for each catalog whose rows restAttribution attributes,
// how a row of it joins the object it belongs to (o) in tableAttribution.
var tableOwned = map[string]string{
	"pg_catalog.pg_class":       "rel o ON o.oid = s.oid",
	"pg_catalog.pg_attribute":   "rel o ON o.oid = s.attrelid",
	"pg_catalog.pg_attrdef":     "def o ON o.oid = s.oid",
	"pg_catalog.pg_constraint":  "con o ON o.oid = s.oid",
	"pg_catalog.pg_index":       "rel o ON o.oid = s.indexrelid",
	"pg_catalog.pg_trigger":     "trg o ON o.oid = s.oid",
	"pg_catalog.pg_type":        "typ o ON o.oid = s.oid",
	"pg_catalog.pg_sequence":    "rel o ON o.oid = s.seqrelid",
	"pg_catalog.pg_depend":      "obj o ON o.classid = s.classid AND o.objid = s.objid",
	"pg_catalog.pg_description": "obj o ON o.classid = s.classoid AND o.objid = s.objoid",
}

// byObject are the catalogs of tableOwned with many rows for an object
// (of a table: its columns; of any object: its dependencies and comments).
var byObject = map[string]bool{"pg_catalog.pg_attribute": true, "pg_catalog.pg_depend": true, "pg_catalog.pg_description": true}

// tableOwnedColumns are the columns of each catalog tableOwned joins on.
var tableOwnedColumns = map[string]string{
	"pg_catalog.pg_class":       "oid",
	"pg_catalog.pg_attribute":   "attrelid",
	"pg_catalog.pg_attrdef":     "oid",
	"pg_catalog.pg_constraint":  "oid",
	"pg_catalog.pg_index":       "indexrelid",
	"pg_catalog.pg_trigger":     "oid",
	"pg_catalog.pg_type":        "oid",
	"pg_catalog.pg_sequence":    "seqrelid",
	"pg_catalog.pg_depend":      "classid, objid",
	"pg_catalog.pg_description": "classoid, objoid",
}

// TableSignatures reads, in one pass over the catalogs CatalogSignature
// covers, a hash of the rows that belong to each table of the schemas (as
// RestSignature attributes rows to tables: the table's pg_class and
// pg_attribute rows, its indexes, TOAST table, owned sequences,
// constraints, defaults, internal triggers and row types, their
// dependencies and comments) and rest, a hash of every other row, of the
// roles the catalogs name and of the session's printing settings. A table
// whose hash is the same as before, while rest is too, inspects as it did
// then: nothing PostgreSQL holds of it, nor anything it names, changed
// (what a foreign key to another table prints of that table is that
// table's: the caller reads a table that refers to a changed one again).
// The hashes are of (ctid, xmin) of each row, seeded with its catalog's
// OID, XORed, with the count of rows. tables is keyed by {schema, table}.
//
// keel's own schema (its history, which the first apply into a database
// makes, and keel.managed_schemas) is neither in tables nor in rest while
// nothing else depends on its objects or on the schema (keelOwnUsed): no
// managed object can then print differently when they change, and
// inspection names everything outside pg_catalog with its schema, so a
// new schema hides no name. When something does depend on them, rest
// covers them too.
func TableSignatures(ctx context.Context, c *pg.Conn, schemas []string) (tables map[[2]string]string, rest string, err error) {
	catalogs, err := signedCatalogList(ctx, c)
	if err != nil {
		return nil, "", err
	}
	// Each row once, with the table it belongs to (NULL: none; twice when
	// it belongs to two), hashed with its catalog's OID as seed: rows of
	// two catalogs at the same place, written by one transaction, differ.
	// keel's schema's row belongs to one of its tables, and the rows of
	// keel.managed_schemas to that table.
	//
	// Rows are XORed (with their count) as early as they can be: a catalog
	// of no table's rows whole, and the rows of pg_attribute, pg_depend and
	// pg_description by the object they are of, before they are joined to
	// it: XOR and count add up the same, and the joins and the grouping
	// see a third of the rows (at 1,000 tables, 112,000 rows).
	var each []string
	for _, k := range catalogs {
		table, name := pgsql.QuoteIdent(k[0])+"."+pgsql.QuoteIdent(k[1]), k[0]+"."+k[1]
		hash := "pg_catalog.hashtidextended(ctid, xmin::text::bigint | (" + pgsql.QuoteLiteral(table) + "::pg_catalog.regclass::pg_catalog.oid::bigint << 32))"
		const sum = "pg_catalog.bit_xor(%s) AS x, pg_catalog.count(*) AS c"
		switch on, ok := tableOwned[name]; {
		case ok && byObject[name]:
			each = append(each, fmt.Sprintf("SELECT %s AS n, o.t, s.x, s.c FROM (SELECT "+sum+", %s FROM %s GROUP BY %s) s LEFT JOIN %s",
				pgsql.QuoteLiteral(name), hash, tableOwnedColumns[name], table, tableOwnedColumns[name], on))
		case ok:
			each = append(each, fmt.Sprintf("SELECT %s AS n, o.t, s.x, 1 FROM (SELECT %s AS x, %s FROM %s) s LEFT JOIN %s",
				pgsql.QuoteLiteral(name), hash, tableOwnedColumns[name], table, on))
		case name == "pg_catalog.pg_namespace":
			each = append(each, fmt.Sprintf(`SELECT %s, CASE WHEN s.nspname = %s THEN (SELECT pg_catalog.min(k.oid) FROM tbl k
  JOIN pg_catalog.pg_class kc ON kc.oid = k.oid WHERE kc.relnamespace = s.oid) END, s.x, 1 FROM (SELECT %s AS x, oid, nspname FROM %s) s`,
				pgsql.QuoteLiteral(name), pgsql.QuoteLiteral(plan.KeelSchema), hash, table))
		case name == managedSchemasTable:
			each = append(each, fmt.Sprintf("SELECT %s, %s::pg_catalog.regclass::pg_catalog.oid, "+sum+" FROM %s HAVING pg_catalog.count(*) > 0",
				pgsql.QuoteLiteral(name), pgsql.QuoteLiteral(table), hash, table))
		default:
			each = append(each, fmt.Sprintf("SELECT %s, NULL::pg_catalog.oid, "+sum+" FROM %s HAVING pg_catalog.count(*) > 0", pgsql.QuoteLiteral(name), hash, table))
		}
	}
	// One pass: the rows of no table grouped by catalog, the others by
	// table; then whether anything depends on keel's own objects.
	q := tableAttribution + `, kobj AS (SELECT o.classid, o.objid FROM obj o JOIN pg_catalog.pg_class c ON c.oid = o.t
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ` + pgsql.QuoteLiteral(plan.KeelSchema) + `),
x (n, t, x, c) AS (` + strings.Join(each, "\nUNION ALL\n") + `),
g AS (SELECT n, t, t IS NULL AS free, COALESCE(pg_catalog.bit_xor(x), 0) || ':' || pg_catalog.sum(c) AS h FROM x
  GROUP BY GROUPING SETS ((n, t IS NULL), (t)))
SELECT NULL, NULL, pg_catalog.md5(COALESCE(pg_catalog.string_agg(n || '=' || h, ',' ORDER BY n), '')) FROM (
  SELECT n, h FROM g WHERE n IS NOT NULL AND free
  UNION ALL SELECT 'roles', ` + rolesHash + ` ` + rolesFrom + `
  UNION ALL SELECT 'settings', ` + settingsHash + `) s
UNION ALL
SELECT n.nspname, c.relname, g.h FROM g JOIN pg_catalog.pg_class c ON c.oid = g.t JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE g.n IS NULL
UNION ALL
SELECT NULL, 'keel used', (` + keelOwnUsed + `)::text`
	rows, err := c.Pgx().Query(ctx, q, schemas)
	if err != nil {
		return nil, "", fmt.Errorf("reading the tables' signatures: %w", pg.ServerError(err))
	}
	defer rows.Close()
	tables = make(map[[2]string]string)
	var own []string // keel's own tables' hashes, as "name=hash"
	used := ""
	for rows.Next() {
		var sch, name *string
		var h string
		if err := rows.Scan(&sch, &name, &h); err != nil {
			return nil, "", err
		}
		switch {
		case sch == nil && name == nil:
			rest = "md5:" + h
		case sch == nil:
			used = h
		case *sch == plan.KeelSchema && !slices.Contains(schemas, plan.KeelSchema):
			own = append(own, *name+"="+h)
		default:
			tables[[2]string{*sch, *name}] = h
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("reading the tables' signatures: %w", pg.ServerError(err))
	}
	if rest == "" || used == "" {
		return nil, "", fmt.Errorf("reading the tables' signatures: no rest")
	}
	if used == "true" {
		slices.Sort(own)
		rest += ";keel:" + strings.Join(own, ",")
	}
	return tables, rest, nil
}
