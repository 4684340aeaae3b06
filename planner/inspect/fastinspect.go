package inspect

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"ariga.io/atlas/sql/schema"

	"keel/planner/pg"
)

// fastQuerier implements schema.ExecQuerier over db, rewriting the engine's
// slow inspection queries.
type fastQuerier struct {
	schema.ExecQuerier
}

var _ schema.ExecQuerier = fastQuerier{}

// inspectRewriteEnabled reports whether inspections of d use fastQuerier.
func inspectRewriteEnabled(d *pg.DB) bool {
	if d.EngineQueries() {
		return false
	}
	switch strings.ToLower(os.Getenv("KEEL_INSPECT_REWRITE")) {
	case "off", "0", "false", "no":
		return false
	}
	return true
}

// newFastQuerier wraps db (limited to one connection, see DB.OpenSQL).
func newFastQuerier(ctx context.Context, db schema.ExecQuerier) fastQuerier {
	// JIT exists from PostgreSQL 11 on; on older servers this fails harmlessly.
	_, _ = db.ExecContext(ctx, "SET jit = off")
	return fastQuerier{ExecQuerier: db}
}

// QueryContext runs query, or its faster equivalent when it is one of the
// engine's slow inspection queries.
func (q fastQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if fast, fargs, ok := rewriteInspectQuery(query, args); ok {
		return q.ExecQuerier.QueryContext(ctx, fast, fargs...)
	}
	return q.ExecQuerier.QueryContext(ctx, query, args...)
}

// slowQueries maps the engine's slow queries to their faster forms. An
// engine query is known by the sha256 of its text with its list of table
// parameters ("$2, $3, ...") replaced by "%s": ariga.io/atlas v1.3.0's
// columnsQuery, and its indexesQueryTmpl in the variant of each server
// version.
var slowQueries = func() map[string]string {
	const included = "(a.attname <> '' AND idx.indnatts > idx.indnkeyatts AND idx.ord > idx.indnkeyatts)"
	return map[string]string{
		"735f36205f936d630b9cdabf31328855924d47243e85e52e467e3e9a873903f2": fastColumnsQuery,
		// PostgreSQL 10; 11 to 14; 15 and later.
		"bdfd166e330d0e20ab1de1895938396d0fd8236f47601a88ebb0645a4c7c65f4": fmt.Sprintf(fastIndexesQueryTmpl, "false", "false"),
		"a72ec75e7f19fea4b595e1fe1bf2cf588b9759d21c98c1cd5c86bcfa11997cc3": fmt.Sprintf(fastIndexesQueryTmpl, included, "false"),
		"c5cc939eeb9301e8784729d0d6469a127839225c2f761952aedb2d0ce4b1aa9c": fmt.Sprintf(fastIndexesQueryTmpl, included, "idx.indnullsnotdistinct"),
		// fksQuery.
		"3c95aea55c97612aadde609642040b475e1bddddf95927041f43d9ebdfb82cae": foreignKeysQuery,
	}
}()

// rewriteInspectQuery returns the faster form of query and its arguments:
// the schema name, then the table names as one text[]. ok is false when the
// query is not one of slowQueries, sent as the engine sends it ($1 the
// schema, $2... the tables, all strings).
func rewriteInspectQuery(query string, args []any) (string, []any, bool) {
	if len(args) < 2 || !strings.Contains(query, "IN (") {
		return "", nil, false
	}
	list := "IN (" + paramList(2, len(args)) + ")"
	if strings.Count(query, list) != 1 {
		return "", nil, false
	}
	sum := sha256.Sum256([]byte(strings.Replace(query, list, "IN (%s)", 1)))
	fast, ok := slowQueries[hex.EncodeToString(sum[:])]
	if !ok {
		return "", nil, false
	}
	schemaName, ok := args[0].(string)
	if !ok {
		return "", nil, false
	}
	tables := make([]string, 0, len(args)-1)
	for _, a := range args[1:] {
		t, ok := a.(string)
		if !ok {
			return "", nil, false
		}
		tables = append(tables, t)
	}
	return fast, []any{schemaName, tables}, true
}

// RewriteInspectQuery returns the faster form keel runs for one of the
// engine's inspection queries, and false for any other query. Tests use it
// to compare both forms' rows.
func RewriteInspectQuery(query string, args []any) (string, []any, bool) {
	return rewriteInspectQuery(query, args)
}

// paramList is "$from, $from+1, ..., $to", as the engine writes it.
func paramList(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		if i > from {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(i))
	}
	return b.String()
}

// fastColumnsQuery is the engine's columns query with identity_last read from the
// column's own sequence instead of a scan of pg_sequences for every identity
// column, the nullability the column's own (not its domain's), and the
// tables as one text[] argument.
const fastColumnsQuery = `
SELECT
	t1.table_name,
	t1.column_name,
	t1.data_type,
	pg_catalog.format_type(a.atttypid, a.atttypmod) AS format_type,
	-- The column's own NOT NULL: information_schema counts a domain's.
	CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
	t1.column_default,
	t1.character_maximum_length,
	t1.numeric_precision,
	t1.datetime_precision,
	t1.numeric_scale,
	t1.interval_type,
	t1.character_set_name,
	-- The column's own collation, not its domain's.
	CASE WHEN a.attcollation <> t4.typcollation THEN t1.collation_name END AS collation_name,
	t1.is_identity,
	t1.identity_start,
	t1.identity_increment,
	(CASE WHEN t1.is_identity = 'YES' THEN (SELECT CASE WHEN pg_catalog.has_sequence_privilege(sq.oid, 'SELECT,USAGE') THEN pg_catalog.pg_sequence_last_value(sq.oid) END FROM (SELECT pg_catalog.pg_get_serial_sequence(quote_ident(t1.table_schema) || '.' || quote_ident(t1.table_name), t1.column_name)::regclass::oid AS oid) AS sq) END) AS identity_last,
	t1.identity_generation,
	t1.generation_expression,
	col_description(t3.oid, "ordinal_position") AS comment,
	t4.typtype,
	t4.typelem,
	t4.oid,
	a.attnum
FROM
	"information_schema"."columns" AS t1
	JOIN pg_catalog.pg_namespace AS t2 ON t2.nspname = t1.table_schema
	JOIN pg_catalog.pg_class AS t3 ON t3.relnamespace = t2.oid AND t3.relname = t1.table_name
	JOIN pg_catalog.pg_attribute AS a ON a.attrelid = t3.oid AND a.attname = t1.column_name
	LEFT JOIN pg_catalog.pg_type AS t4 ON t4.oid = a.atttypid
WHERE
	t1.table_schema = $1 AND t1.table_name = ANY($2::text[])
ORDER BY
	t1.table_name, t1.ordinal_position
`

// fastIndexesQueryTmpl is the engine's indexes query with the rows of the
// schema's tables selected first and the constraints of only their indexes
// aggregated once (the original's plan aggregated pg_constraint again for every
// index column), and the tables as one text[] argument. The two %s are the
// same as the original's first two.
const fastIndexesQueryTmpl = `
WITH idx AS MATERIALIZED (
	SELECT
		i.*,
		generate_series(1,array_length(i.indkey,1)) AS ord,
		unnest(i.indkey) AS key
	FROM pg_index i
	JOIN pg_class t ON t.oid = i.indrelid
	JOIN pg_namespace n ON n.oid = t.relnamespace
	WHERE n.nspname = $1 AND t.relname = ANY($2::text[])
), con AS MATERIALIZED (
	SELECT conindid, jsonb_object_agg(conname, contype) AS nametypes
	FROM pg_constraint
	WHERE conindid IN (SELECT indexrelid FROM idx)
	GROUP BY conindid
)
SELECT
	t.relname AS table_name,
	i.relname AS index_name,
	am.amname AS index_type,
	a.attname AS column_name,
	%s AS included,
	idx.indisprimary AS primary,
	idx.indisunique AS unique,
	(CASE WHEN idx.indisexclusion THEN (SELECT conexclop[idx.ord]::regoper FROM pg_constraint WHERE conindid = idx.indexrelid) END) AS excoper,
	con.nametypes AS constraints,
	pg_get_expr(idx.indpred, idx.indrelid) AS predicate,
	pg_get_indexdef(idx.indexrelid, idx.ord, false) AS expression,
	pg_index_column_has_property(idx.indexrelid, idx.ord, 'desc') AS isdesc,
	pg_index_column_has_property(idx.indexrelid, idx.ord, 'nulls_first') AS nulls_first,
	pg_index_column_has_property(idx.indexrelid, idx.ord, 'nulls_last') AS nulls_last,
	obj_description(i.oid, 'pg_class') AS comment,
	-- The engine reads autosummarize only as true or false; PostgreSQL
	-- keeps it as written (on, yes, 1, ...).
	(SELECT array_agg(CASE WHEN o LIKE 'autosummarize=%%' THEN 'autosummarize=' ||
	   CASE WHEN lower(substr(o, 15)) IN ('on', 'true', 'yes', '1', 't', 'y', 'tr', 'tru', 'ye') THEN 'true' ELSE 'false' END ELSE o END ORDER BY n)
	 FROM unnest(i.reloptions) WITH ORDINALITY AS r(o, n)) AS options,
	op.opcname AS opclass_name,
	op.opcnamespace::regnamespace::text AS opclass_schema,
	op.opcdefault AS opclass_default,
	a2.attoptions AS opclass_params,
    %s AS indnullsnotdistinct
FROM
	idx
	JOIN pg_class i ON i.oid = idx.indexrelid
	JOIN pg_class t ON t.oid = idx.indrelid
	LEFT JOIN con ON con.conindid = idx.indexrelid
	LEFT JOIN pg_attribute a ON (a.attrelid, a.attnum) = (idx.indrelid, idx.key)
	JOIN pg_am am ON am.oid = i.relam
	LEFT JOIN pg_opclass op ON op.oid = idx.indclass[idx.ord-1]
	LEFT JOIN pg_attribute a2 ON (a2.attrelid, a2.attnum) = (idx.indexrelid, idx.ord)
ORDER BY
	table_name, index_name, idx.ord
`

// foreignKeysQuery lists the foreign keys of the tables, one row per
// column pair, as the engine's query does, without the copies PostgreSQL
// keeps of a foreign key to a partitioned table (one per partition, under
// the key's name, on the same table): the engine would read them as
// references to the partitions, which it does not see, and fail ("missing
// reference for column").
const foreignKeysQuery = `
SELECT con.conname AS constraint_name, t1.relname AS table_name, a1.attname AS column_name, ns1.nspname AS schema_name,
  t2.relname AS referenced_table_name, a2.attname AS referenced_column_name, ns2.nspname AS referenced_schema_name,
  con.confupdtype, con.confdeltype
FROM pg_constraint con
JOIN pg_class t1 ON t1.oid = con.conrelid
JOIN pg_namespace ns1 ON ns1.oid = t1.relnamespace
JOIN pg_class t2 ON t2.oid = con.confrelid
JOIN pg_namespace ns2 ON ns2.oid = t2.relnamespace
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(conkey, confkey, ord)
JOIN pg_attribute a1 ON a1.attrelid = con.conrelid AND a1.attnum = k.conkey
JOIN pg_attribute a2 ON a2.attrelid = con.confrelid AND a2.attnum = k.confkey
WHERE ns1.nspname = $1 AND t1.relname = ANY($2) AND con.contype = 'f'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint pc WHERE pc.oid = con.conparentid AND pc.conrelid = con.conrelid)
ORDER BY con.conrelid, con.conname, k.ord
`
