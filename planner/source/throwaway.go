package source

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"keel/internal/pgsql"

	"github.com/jackc/pgx/v5"
)

// throwawayComment marks a database as a throwaway one of keel's: the sweep
// drops only databases that have both the name and this comment.
const throwawayComment = "keel throwaway database: the desired state is normalized here, and it is dropped afterwards"

// staleThrowaway is how old a throwaway database must be before another
// keel run drops it. Normalizing takes seconds to minutes; an hour leaves
// room for a slow one and for clocks that disagree a little.
const staleThrowaway = time.Hour

// throwawayName is prefix, the creation time in Unix seconds and a random
// part: keel_tmp_1764172398_3fa9c2e1b7d0.
func throwawayName(prefix string, now time.Time) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%d_%s", prefix, now.Unix(), hex.EncodeToString(b[:])), nil
}

// sweepThrowaways drops throwaway databases that a keel killed with -9 (or
// whose server connection was cut) could not drop: those named as
// throwawayName names them with this prefix, marked with throwawayComment,
// created more than staleThrowaway ago and with no session connected. It is
// best effort: a database it may not or cannot drop is left for later.
func sweepThrowaways(ctx context.Context, admin *pgx.Conn, prefix string, now time.Time) []string {
	pattern := regexp.MustCompile("^" + regexp.QuoteMeta(prefix) + `([0-9]{9,11})_[0-9a-f]{12}$`)
	rows, err := admin.Query(ctx, `
SELECT d.datname FROM pg_catalog.pg_database d
WHERE starts_with(d.datname, $1) AND pg_catalog.shobj_description(d.oid, 'pg_database') = $2
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.datid = d.oid)`, prefix, throwawayComment)
	if err != nil {
		return nil
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil
	}
	var dropped []string
	for _, name := range names {
		m := pattern.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		sec, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || now.Sub(time.Unix(sec, 0)) < staleThrowaway {
			continue
		}
		// Without FORCE: a session that connected since is left alone.
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgsql.QuoteIdent(name)); err == nil {
			dropped = append(dropped, name)
		}
	}
	return dropped
}
