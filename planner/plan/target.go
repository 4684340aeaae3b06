package plan

import (
	"fmt"
)

// Target names a database without its password: host, port, database, user.
type Target struct {
	Host     string `json:"host"`
	Port     uint16 `json:"port"`
	Database string `json:"database"`
	User     string `json:"user"`
}

func (t Target) String() string {
	return fmt.Sprintf("database %q on %s:%d as user %q", t.Database, t.Host, t.Port, t.User)
}

// KeelSchema is keel's own schema on a target, holding the history of
// applies. It is never part of a plan.
const KeelSchema = "keel"
