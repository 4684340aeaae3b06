package source

import (
	"context"

	"keel/internal/pgsql"
	"keel/planner/pg"
	"keel/planner/plan"
	"keel/planner/state"
)

// createPartitions creates, in the throwaway database, the partitions an
// HCL desired state declares (the engine does not see them), parents
// before their sub-partitions as ParseHCL orders them, after the engine
// made the partitioned tables: the catalog read afterwards has them as
// PostgreSQL describes them, and the planner plans them from it.
func createPartitions(ctx context.Context, conn *pg.Conn, parts []state.Partition) error {
	for _, p := range parts {
		stmts := []string{p.CreateSQL()}
		if p.Comment != "" {
			stmts = append(stmts, "COMMENT ON TABLE "+pgsql.QuoteQualified(p.Schema, p.Name)+" IS "+pgsql.QuoteLiteral(p.Comment))
		}
		for _, stmt := range stmts {
			if err := pg.ExecStatement(ctx, conn.Pgx().PgConn(), stmt); err != nil {
				return loadFailed("%s: the desired state does not load into PostgreSQL: partition %s:\n  %s\n%w",
					p.Pos, plan.DisplayName(p.Schema, p.Name), stmt, pg.ServerError(err))
			}
		}
	}
	return nil
}
