package inspect

import (
	"bytes"
	"context"

	"keel/planner/pg"
	"keel/planner/state"
)

// An objectPrinter prints (with search_path set to pg_catalog), as top-level HCL blocks in Atlas Pro's syntax
// (the blocks state.ParseHCL reads back), the objects of one family that
// the schemas hold beside tables (views, functions, triggers, ...), none
// that belongs to an extension. Each family's printer registers itself.
type objectPrinter func(ctx context.Context, c *pg.Conn, schemas []string) ([]byte, error)

var objectPrinters []objectPrinter

func registerObjectPrinter(p objectPrinter) { objectPrinters = append(objectPrinters, p) }

// ObjectsHCL prints the objects of the schemas that the engine does not
// model, as keel inspect shows them after the tables. The printers run
// with search_path set to pg_catalog, so that pg_get_viewdef, format_type
// and the like print every other name qualified, and the printed SQL
// means the same from any schema.
func ObjectsHCL(ctx context.Context, c *pg.Conn, schemas []string) ([]byte, error) {
	var out bytes.Buffer
	err := withCatalogPath(ctx, c, "printing the objects of", func() error {
		for _, p := range objectPrinters {
			b, err := p(ctx, c, schemas)
			if err != nil {
				return err
			}
			if len(b) > 0 {
				out.WriteString("\n")
				out.Write(b)
			}
		}
		return nil
	})
	return out.Bytes(), err
}

// PrintHCL is what keel inspect prints of the schemas on c (all but the
// system ones when schemas is empty): the tables, enums and extensions as
// state.MarshalHCL prints them, with keel's attributes from the catalog,
// then the objects beside tables (ObjectsHCL). It returns the state
// inspected too (with its catalog).
func PrintHCL(ctx context.Context, c *pg.Conn, schemas []string) ([]byte, *state.State, error) {
	st, err := Inspect(ctx, c, schemas)
	if err != nil {
		return nil, nil, err
	}
	// The catalog says what the engine does not model (storage
	// parameters, deferrable constraints, ...): MarshalHCL prints it as
	// keel's attributes.
	if st.Catalog, err = ReadCatalog(ctx, c, st.SchemaNames()); err != nil {
		return nil, nil, err
	}
	out, err := state.MarshalHCL(st)
	if err != nil {
		return nil, nil, err
	}
	// Views, functions, triggers, ...: the engine does not model them.
	objs, err := ObjectsHCL(ctx, c, st.SchemaNames())
	if err != nil {
		return nil, nil, err
	}
	return append(out, objs...), st, nil
}
