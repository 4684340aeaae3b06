package pg

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsLockTimeout reports whether err is PostgreSQL's lock_timeout.
func IsLockTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == LockNotAvailable
}

// Backoff is the wait before retry number attempt: exponential from 250 ms,
// jittered by ±50%.
func Backoff(attempt int) time.Duration {
	return time.Duration(float64(250*time.Millisecond) * float64(int(1)<<(attempt-1)) * (0.5 + rand.Float64()))
}

// LockNotAvailable is the SQLSTATE of a lock_timeout.
const LockNotAvailable = "55P03"
