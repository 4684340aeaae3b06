package plan

import (
	"sort"
)

// Fingerprint identifies a schema state: a hash of the whole state, and a
// hash per object so that two fingerprints can say what differs.
type Fingerprint struct {
	// Hash is "sha256:" and the hex digest of the whole state.
	Hash string `json:"hash"`
	// Objects maps each object ("table public.users", "extension uuid-ossp")
	// to a short hash of its definition.
	Objects map[string]string `json:"objects,omitempty"`
}

// Changes lists, one line each, what differs from f to other: objects
// added, removed and changed.
func (f Fingerprint) Changes(other Fingerprint) []string {
	var out []string
	for k, v := range other.Objects {
		old, ok := f.Objects[k]
		switch {
		case !ok:
			out = append(out, "+ "+k+" (added)")
		case old != v:
			out = append(out, "~ "+k+" (changed)")
		}
	}
	for k := range f.Objects {
		if _, ok := other.Objects[k]; !ok {
			out = append(out, "- "+k+" (removed)")
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][2:] < out[j][2:] })
	return out
}
