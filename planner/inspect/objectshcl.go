package inspect

import (
	"bytes"
	"context"

	"keel/planner/pg"
)

// An objectPrinter prints, as top-level HCL blocks in Atlas Pro's syntax
// (the blocks state.ParseHCL reads back), the objects of one family that
// the schemas hold beside tables (views, functions, triggers, ...), none
// that belongs to an extension. Each family's printer registers itself.
type objectPrinter func(ctx context.Context, c *pg.Conn, schemas []string) ([]byte, error)

var objectPrinters []objectPrinter

func registerObjectPrinter(p objectPrinter) { objectPrinters = append(objectPrinters, p) }

// ObjectsHCL prints the objects of the schemas that the engine does not
// model, as keel inspect shows them after the tables.
func ObjectsHCL(ctx context.Context, c *pg.Conn, schemas []string) ([]byte, error) {
	var out bytes.Buffer
	for _, p := range objectPrinters {
		b, err := p(ctx, c, schemas)
		if err != nil {
			return nil, err
		}
		if len(b) > 0 {
			out.WriteString("\n")
			out.Write(b)
		}
	}
	return out.Bytes(), nil
}
