package state

import (
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Objects the schema engine does not model at all (views, functions,
// triggers, sequences, domains, policies, privileges, ...) are declared in
// Atlas Pro's HCL blocks. keel reads each block into the SQL statements
// that create the object (an ObjectDecl) and runs them in the throwaway
// database after the engine's tables (or before, for what tables use:
// domains, types, sequences, collations, functions); the catalog read
// afterwards describes them as PostgreSQL prints them, and the planner
// plans from that catalog. The readers of each kind register themselves
// (registerObjectReader) with the grammar of their blocks (registerBlock).

// An ObjectDecl is an object a desired state read from HCL declares that
// the engine does not model.
type ObjectDecl struct {
	// Kind is the catalog kind of the object: "view", "materialized
	// view", "function", "procedure", "trigger", "sequence", "domain",
	// "type", "collation", "statistics", "policy", "privilege", "row
	// security".
	Kind string
	// Schema and Name name it as written (a trigger's or policy's Name is
	// its own; Table is its table's).
	Schema, Table, Name string
	// SQL are the statements that create it, in order: each one
	// statement, every name quoted. Its comment (COMMENT ON) is one of
	// them.
	SQL []string
	// Early objects are created before the engine's tables (what columns
	// and defaults use: domains, composite types, sequences, collations,
	// functions, whose bodies are not checked then); the others after.
	// One that fails early for want of a table is tried again after them.
	Early bool
	// Pos is where the block is written: "schema.hcl:12:1".
	Pos string
}

// An objectReader takes the blocks it reads out of one file's body, before
// the engine evaluates the rest, and returns them as ObjectDecls with the
// problems it found (each "file:line:col: ..."). It may also rewrite what
// the engine reads (a column's `type = domain.x`).
type objectReader func(body *hclsyntax.Body) ([]ObjectDecl, []string)

// An objectResolver checks the declarations of all files together (a
// trigger's function is declared in another file) once every file is read,
// and may complete them; it returns the problems found.
type objectResolver func(decls []ObjectDecl, bodies []*hclsyntax.Body) []string

var (
	objectReaders   []objectReader
	objectResolvers []objectResolver
)

// registerObjectReader adds a reader of object blocks, and its resolver
// (nil when it has none).
func registerObjectReader(r objectReader, res objectResolver) {
	objectReaders = append(objectReaders, r)
	if res != nil {
		objectResolvers = append(objectResolvers, res)
	}
}

// registerBlock makes a top-level block kind part of keel's grammar (it is
// no longer "not supported yet").
func registerBlock(name string, spec *blockSpec) {
	topLevel.blocks[name] = spec
	delete(topLevel.unsupported, name)
}

// registerTableBlock makes a block kind inside table blocks part of keel's
// grammar (row_security).
func registerTableBlock(name string, spec *blockSpec) {
	t := topLevel.blocks["table"]
	t.blocks[name] = spec
	delete(t.unsupported, name)
}

// readObjects runs the registered readers on one file's body.
func readObjects(body *hclsyntax.Body) (decls []ObjectDecl, problems []string) {
	for _, r := range objectReaders {
		d, bad := r(body)
		decls, problems = append(decls, d...), append(problems, bad...)
	}
	return decls, problems
}

// resolveObjects runs the registered resolvers on the declarations of all
// files.
func resolveObjects(decls []ObjectDecl, bodies []*hclsyntax.Body) (problems []string) {
	for _, r := range objectResolvers {
		problems = append(problems, r(decls, bodies)...)
	}
	return problems
}
