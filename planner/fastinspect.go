package planner

import (
	"keel/planner/inspect"

	"ariga.io/atlas/sql/schema"
)

// Faster inspection queries.
//
// The Atlas engine inspects a schema with one query per kind of object, each
// listing the schema's tables as `t.relname IN ($2, ..., $N)`. Two of them
// grow much faster than the schema on PostgreSQL: the columns query reads
// identity_last by scanning pg_sequences once per identity column (quadratic
// in the number of identity columns), and the plan PostgreSQL picks for the
// indexes query aggregates pg_constraint again for every index column. On a
// schema of 1,000 tables each took 5 to 7 s.
//
// fastQuerier sits between the engine and the connection: it recognizes
// those two queries by a hash of their exact text and runs an equivalent form that
// returns the same rows (same columns, same values, same order), and passes
// every other query through unchanged. If a new engine version changes the
// text, the queries no longer match and run as the engine wrote them. It also
// turns JIT compilation off for the session: on these catalog queries it
// costs more than it saves.
//
// It is on by default; set KEEL_INSPECT_REWRITE=off, or use
// DB.WithEngineQueries, to inspect with the engine's queries as they are.
// TestFastInspectionIsEquivalent checks that both give identical states.

var _ schema.ExecQuerier = inspect.FastQuerier{}
