package inspect

import (
	"context"
	"fmt"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/pg"
	"keel/planner/plan"
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
	rows, err := c.Pgx().Query(ctx, `
SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ((n.nspname = 'pg_catalog' AND c.relkind = 'r' AND NOT c.relisshared
    AND c.relname NOT IN ('pg_statistic', 'pg_statistic_ext_data', 'pg_largeobject'))
  OR c.oid = pg_catalog.to_regclass('`+managedSchemasTable+`'))
  AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname`)
	if err != nil {
		return "", fmt.Errorf("reading the catalog's signature: %w", pg.ServerError(err))
	}
	var parts []string
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			rows.Close()
			return "", err
		}
		// hashtidextended seeded with the xmin: a third less time than
		// hashing both as text.
		parts = append(parts, fmt.Sprintf(
			"SELECT %s AS n, COALESCE(pg_catalog.bit_xor(pg_catalog.hashtidextended(ctid, xmin::text::bigint)), 0) || ':' || pg_catalog.count(*) AS h FROM %s.%s",
			pgsql.QuoteLiteral(schema+"."+name), pgsql.QuoteIdent(schema), pgsql.QuoteIdent(name)))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("reading the catalog's signature: %w", pg.ServerError(err))
	}
	// The roles this database's objects can name: those its catalogs
	// depend on (owners, grants, policies: pg_shdepend), and the built-in
	// ones, whose dependencies are not recorded. A role made or dropped
	// for another database leaves the signature as it was.
	parts = append(parts, `SELECT 'roles', pg_catalog.md5(COALESCE(pg_catalog.string_agg(r.oid::text || ':' || r.rolname, ',' ORDER BY r.oid), '')) FROM pg_catalog.pg_roles r
WHERE r.oid < 16384 OR r.oid IN (SELECT d.refobjid FROM pg_catalog.pg_shdepend d
  WHERE d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
    AND d.dbid = (SELECT db.oid FROM pg_catalog.pg_database db WHERE db.datname = pg_catalog.current_database()))`)
	// How PostgreSQL prints defaults, bounds and names for this session
	// (search_path is the inspection's own).
	parts = append(parts, `SELECT 'settings', pg_catalog.md5(pg_catalog.concat_ws(',', current_user, pg_catalog.current_database(),
  pg_catalog.current_setting('server_version_num'), pg_catalog.current_setting('TimeZone'), pg_catalog.current_setting('DateStyle'),
  pg_catalog.current_setting('IntervalStyle'), pg_catalog.current_setting('extra_float_digits'), pg_catalog.current_setting('bytea_output'),
  pg_catalog.current_setting('standard_conforming_strings'), pg_catalog.current_setting('quote_all_identifiers'),
  pg_catalog.current_setting('lc_monetary'), pg_catalog.current_setting('lc_numeric')))`)
	var sig string
	q := "SELECT pg_catalog.md5(pg_catalog.string_agg(n || '=' || h, ',' ORDER BY n)) FROM (" + strings.Join(parts, "\nUNION ALL\n") + ") s"
	if err := c.Pgx().QueryRow(ctx, q).Scan(&sig); err != nil {
		return "", fmt.Errorf("reading the catalog's signature: %w", pg.ServerError(err))
	}
	return "md5:" + sig, nil
}
