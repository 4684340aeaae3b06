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

// fastColumnsQuery is the engine's columns query read from pg_catalog
// instead of information_schema.columns (whose view computes every column of
// the database before the schema and tables are picked: it took as long as
// pg_dump at 1,000 tables), with the view's expressions for the columns the
// engine reads, and the same visibility (the role's tables, or those it has
// a privilege on); identity_last read from the column's own sequence
// instead of a scan of pg_sequences for every identity column (the sequence
// joined once, not looked up by name for each: 89 to 23 ms at 1,000
// tables); the comment joined (col_description, a SQL function called for
// each column, took 66-102 ms there; the join 15); the nullability the
// column's own (not its domain's); and the tables as one text[] argument.
const fastColumnsQuery = `
SELECT
	c.relname::text AS table_name,
	a.attname::text AS column_name,
	CASE WHEN t.typtype = 'd' THEN
		CASE WHEN bt.typelem <> 0 AND bt.typlen = -1 THEN 'ARRAY'
			WHEN nbt.nspname = 'pg_catalog' THEN pg_catalog.format_type(t.typbasetype, NULL)
			ELSE 'USER-DEFINED' END
	ELSE
		CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN 'ARRAY'
			WHEN nt.nspname = 'pg_catalog' THEN pg_catalog.format_type(a.atttypid, NULL)
			ELSE 'USER-DEFINED' END
	END AS data_type,
	pg_catalog.format_type(a.atttypid, a.atttypmod) AS format_type,
	-- The column's own NOT NULL: information_schema counts a domain's.
	CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
	CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END AS column_default,
	-- information_schema's _pg_char_max_length, _pg_numeric_precision,
	-- _pg_datetime_precision, _pg_numeric_scale and _pg_interval_type of
	-- the column's true type (a domain's base type), written out: called
	-- for every column, the functions were half of the query's time.
	CASE WHEN tt.tmod = -1 THEN NULL WHEN tt.tid IN (1042, 1043) THEN tt.tmod - 4 WHEN tt.tid IN (1560, 1562) THEN tt.tmod END AS character_maximum_length,
	CASE tt.tid WHEN 21 THEN 16 WHEN 23 THEN 32 WHEN 20 THEN 64
		WHEN 1700 THEN CASE WHEN tt.tmod = -1 THEN NULL ELSE ((tt.tmod - 4) >> 16) & 65535 END
		WHEN 700 THEN 24 WHEN 701 THEN 53 END AS numeric_precision,
	CASE WHEN tt.tid = 1082 THEN 0
		WHEN tt.tid IN (1083, 1114, 1184, 1266) THEN CASE WHEN tt.tmod < 0 THEN 6 ELSE tt.tmod END
		WHEN tt.tid = 1186 THEN CASE WHEN tt.tmod < 0 OR tt.tmod & 65535 = 65535 THEN 6 ELSE tt.tmod & 65535 END END AS datetime_precision,
	CASE WHEN tt.tid IN (21, 23, 20) THEN 0
		WHEN tt.tid = 1700 THEN CASE WHEN tt.tmod = -1 THEN NULL ELSE (tt.tmod - 4) & 65535 END END AS numeric_scale,
	CASE WHEN tt.tid = 1186 THEN upper(substring(pg_catalog.format_type(tt.tid, tt.tmod) similar 'interval[()0-9]* #"%#"' escape '#')) END AS interval_type,
	NULL::text AS character_set_name,
	-- The column's own collation, not its domain's.
	CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END AS collation_name,
	CASE WHEN a.attidentity IN ('a', 'd') THEN 'YES' ELSE 'NO' END AS is_identity,
	seq.seqstart::text AS identity_start,
	seq.seqincrement::text AS identity_increment,
	CASE WHEN a.attidentity IN ('a', 'd') AND pg_catalog.has_sequence_privilege(seq.seqrelid, 'SELECT,USAGE') THEN pg_catalog.pg_sequence_last_value(seq.seqrelid) END AS identity_last,
	CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END AS identity_generation,
	CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END AS generation_expression,
	dsc.description AS comment,
	t.typtype,
	t.typelem,
	t.oid,
	a.attnum
FROM
	pg_catalog.pg_attribute AS a
	JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
	JOIN pg_catalog.pg_namespace AS nc ON nc.oid = c.relnamespace
	JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
	JOIN pg_catalog.pg_namespace AS nt ON nt.oid = t.typnamespace
	CROSS JOIN LATERAL (SELECT
		CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END AS tid,
		CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS tmod) AS tt
	LEFT JOIN (pg_catalog.pg_type AS bt JOIN pg_catalog.pg_namespace AS nbt ON nbt.oid = bt.typnamespace)
		ON t.typtype = 'd' AND t.typbasetype = bt.oid
	LEFT JOIN pg_catalog.pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	LEFT JOIN (pg_catalog.pg_collation AS co JOIN pg_catalog.pg_namespace AS nco ON nco.oid = co.collnamespace)
		ON a.attcollation = co.oid AND (nco.nspname <> 'pg_catalog' OR co.collname <> 'default')
	LEFT JOIN (pg_catalog.pg_depend AS dep JOIN pg_catalog.pg_sequence AS seq
		ON dep.classid = 'pg_catalog.pg_class'::regclass AND dep.objid = seq.seqrelid AND dep.deptype = 'i')
		ON dep.refclassid = 'pg_catalog.pg_class'::regclass AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum
	LEFT JOIN pg_catalog.pg_description AS dsc
		ON dsc.classoid = 'pg_catalog.pg_class'::regclass AND dsc.objoid = c.oid AND dsc.objsubid = a.attnum
WHERE
	nc.nspname = $1 AND c.relname = ANY($2::text[])
	AND NOT pg_catalog.pg_is_other_temp_schema(nc.oid) AND a.attnum > 0 AND NOT a.attisdropped
	AND c.relkind IN ('r', 'v', 'f', 'p')
	-- The columns information_schema shows: the role's own tables', or
	-- those it has a privilege on.
	AND (pg_catalog.pg_has_role(c.relowner, 'USAGE') OR pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))
ORDER BY
	c.relname, a.attnum
`

// fastIndexesQueryTmpl is the engine's indexes query with the rows of the
// schema's tables selected first and the constraints of only their indexes
// aggregated once (the original's plan aggregated pg_constraint again for every
// index column), the index's comment joined (obj_description, a SQL
// function called for each row, took 45 ms at 1,000 tables; the join 5),
// and the tables as one text[] argument. The two %s are the same as the
// original's first two.
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
	dsc.description AS comment,
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
	-- Looked up for each key (a lateral subquery, kept apart by OFFSET 0):
	-- joined, the planner hashed all of pg_attribute twice, 31 ms of an
	-- inspection of two tables among 1,000, 9 ms looked up.
	LEFT JOIN LATERAL (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = idx.indrelid AND a.attnum = idx.key OFFSET 0) a ON true
	JOIN pg_am am ON am.oid = i.relam
	LEFT JOIN pg_opclass op ON op.oid = idx.indclass[idx.ord-1]
	LEFT JOIN LATERAL (SELECT a2.attoptions FROM pg_attribute a2 WHERE a2.attrelid = idx.indexrelid AND a2.attnum = idx.ord OFFSET 0) a2 ON true
	LEFT JOIN pg_description dsc ON dsc.classoid = 'pg_class'::regclass AND dsc.objoid = i.oid AND dsc.objsubid = 0
ORDER BY
	table_name, index_name, idx.ord
`

// foreignKeysQuery lists the foreign keys of the tables, one row per
// column pair, as the engine's query does, without the copies PostgreSQL
// keeps of a foreign key to a partitioned table (one per partition, under
// the key's name, on the same table): the engine would read them as
// references to the partitions, which it does not see, and fail ("missing
// reference for column"). The columns' and the referenced schema's names
// are looked up per row: with them as joins, planning the query took 14-19
// ms on a new connection (5 ms with the lookups), as long as running it at
// 1,000 tables, and every plan runs it on new connections.
const foreignKeysQuery = `
SELECT con.conname AS constraint_name, t1.relname AS table_name,
  (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = k.conkey) AS column_name,
  ns1.nspname AS schema_name, t2.relname AS referenced_table_name,
  (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = con.confrelid AND a.attnum = k.confkey) AS referenced_column_name,
  (SELECT n.nspname FROM pg_namespace n WHERE n.oid = t2.relnamespace) AS referenced_schema_name,
  con.confupdtype, con.confdeltype
FROM pg_constraint con
JOIN pg_class t1 ON t1.oid = con.conrelid
JOIN pg_namespace ns1 ON ns1.oid = t1.relnamespace
JOIN pg_class t2 ON t2.oid = con.confrelid
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(conkey, confkey, ord)
WHERE ns1.nspname = $1 AND t1.relname = ANY($2) AND con.contype = 'f'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint pc WHERE pc.oid = con.conparentid AND pc.conrelid = con.conrelid)
ORDER BY con.conrelid, con.conname, k.ord
`
