package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"keel/internal/pgsql"
)

// RefusedError says keel refused to apply; nothing was executed.
type RefusedError struct {
	Reason string
}

func (e *RefusedError) Error() string { return e.Reason + "; nothing was executed" }

// Digest is a hash of the plan's content: "sha256:" and hex.
func (p *Plan) Digest() string {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // a Plan always marshals
	}
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// CheckStatements refuses a plan in which a step is not exactly one
// statement: what runs must be what the reviewer read, statement by
// statement.
func (p *Plan) CheckStatements() error {
	for i, st := range p.Steps {
		if err := pgsql.OneStatement(st.SQL); err != nil {
			return &RefusedError{Reason: fmt.Sprintf("statement %d of %d (%s) is not exactly one statement: %v:\n  %s",
				i+1, len(p.Steps), st.Object, err, st.SQL)}
		}
	}
	return nil
}
