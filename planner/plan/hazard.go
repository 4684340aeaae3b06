package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// HazardCode names a kind of risk a step carries.
type HazardCode string

// The hazard codes, as they appear in JSON, markdown and profiles.
const (
	HazardDataLoss             HazardCode = "data-loss"
	HazardTableRewrite         HazardCode = "table-rewrite"
	HazardBlockingLock         HazardCode = "blocking-lock"
	HazardMayFail              HazardCode = "may-fail"
	HazardBackwardIncompatible HazardCode = "backward-incompatible"
	HazardExtension            HazardCode = "extension"
	HazardNonTransactional     HazardCode = "non-transactional"
)

// HazardCodes lists every code with its one-line explanation.
var HazardCodes = map[HazardCode]string{
	HazardDataLoss:             "drops a table, column, schema, enum or extension, or narrows a type: data is lost",
	HazardTableRewrite:         "rewrites the whole table under an ACCESS EXCLUSIVE lock",
	HazardBlockingLock:         "blocks reads or writes for longer than a catalog update (a scan or a build)",
	HazardMayFail:              "can fail on rows the table already holds",
	HazardBackwardIncompatible: "breaks code that reads or writes the old shape",
	HazardExtension:            "installs, upgrades or drops an extension",
	HazardNonTransactional:     "runs outside the plan's transaction: if it fails, what ran before it stays",
}

// Severity ranks a hazard.
type Severity string

// The severities, mildest first.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityDanger  Severity = "danger"
)

// Hazard is one risk of one step.
type Hazard struct {
	Code     HazardCode `json:"code"`
	Severity Severity   `json:"severity"`
	// Object is what the hazard is about: "column public.users.email".
	Object string `json:"object"`
	// Message explains the hazard in one line.
	Message string `json:"message"`
	// Rows is the table's row estimate (pg_class.reltuples), when it matters.
	Rows *int64 `json:"rows,omitempty"`
	// RowsNote says where Rows comes from when a reader should know:
	// "counted", "never analyzed", "from statistics 40 days old", "from
	// statistics of unknown age".
	RowsNote string `json:"rows_note,omitempty"`
	// Bytes is the table's size with indexes and TOAST, when it matters.
	Bytes *int64 `json:"bytes,omitempty"`
	// Offending is how many existing rows would make the step fail, when it
	// was cheap to count.
	Offending *int64 `json:"offending_rows,omitempty"`
}

// ParseHazardCode checks a code given by a user or a profile.
func ParseHazardCode(s string) (HazardCode, error) {
	c := HazardCode(s)
	if _, ok := HazardCodes[c]; !ok {
		codes := make([]string, 0, len(HazardCodes))
		for k := range HazardCodes {
			codes = append(codes, string(k))
		}
		sort.Strings(codes)
		return "", fmt.Errorf("unknown hazard %q: the hazards are %s", s, strings.Join(codes, ", "))
	}
	return c, nil
}

// Hazards returns every hazard of the plan, in step order.
func (p *Plan) Hazards() []Hazard {
	var hs []Hazard
	for _, s := range p.Steps {
		hs = append(hs, s.Hazards...)
	}
	return hs
}

// Denied returns the plan's hazards whose codes are in deny and not in the
// plan's allowances.
func (p *Plan) Denied(deny []HazardCode) []Hazard {
	var out []Hazard
	for _, h := range p.Hazards() {
		if slices.Contains(deny, h.Code) && !slices.Contains(p.Allowed, h.Code) {
			out = append(out, h)
		}
	}
	return out
}
