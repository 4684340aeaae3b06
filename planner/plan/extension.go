package plan

// Extension is a PostgreSQL extension, as declared by an `extension` block or
// found in pg_extension.
type Extension struct {
	// Name as in CREATE EXTENSION, for example "uuid-ossp".
	Name string `json:"name"`
	// Schema the extension's objects live in. Empty means the server decides
	// (the first schema of search_path) when it is created.
	Schema string `json:"schema,omitempty"`
	// Version pinned by the desired state; empty means any version.
	Version string `json:"version,omitempty"`
	// Comment on the extension; empty in a desired state means "not managed".
	Comment string `json:"comment,omitempty"`
	// Pos is where the extension was declared ("schema.hcl:3"), if it was.
	Pos string `json:"-"`
}
