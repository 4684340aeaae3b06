package state

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// benchHCL is a file of n tables shaped as scripts/bench.sh's, in the
// layout keel inspect prints.
func benchHCL(n int) []byte {
	var b strings.Builder
	b.WriteString("extension \"uuid-ossp\" {\n  schema  = schema.public\n}\n")
	for i := range n {
		fmt.Fprintf(&b, `table "t%04d" {
  schema = schema.public
  column "id" {
    null = false
    type = bigint
    identity {
      generated = BY_DEFAULT
    }
  }
  column "uid" {
    null    = false
    type    = uuid
    default = sql("public.uuid_generate_v4()")
  }
  column "name" {
    null = false
    type = text
  }
  column "st" {
    null    = false
    type    = enum.status
    default = "new"
  }
  column "amount" {
    null = true
    type = numeric(10,2)
  }
  column "parent_id" {
    null = true
    type = bigint
  }
  primary_key {
    columns = [column.id]
  }
`, i)
		if i > 0 {
			fmt.Fprintf(&b, `  foreign_key "t%04[1]d_parent_id_fkey" {
    columns     = [column.parent_id]
    ref_columns = [table.t%04[2]d.column.id]
    on_update   = NO_ACTION
    on_delete   = CASCADE
  }
`, i, i-1)
		}
		fmt.Fprintf(&b, `  index "t%04[1]d_uid" {
    unique  = true
    columns = [column.uid]
  }
  check "t%04[1]d_amount_check" {
    expr = "(amount >= (0)::numeric)"
  }
}
`, i)
	}
	b.WriteString("enum \"status\" {\n  schema = schema.public\n  values = [\"new\", \"open\", \"closed\"]\n}\nschema \"public\" {}\n")
	return []byte(b.String())
}

// benchParseTables is KEEL_BENCH_TABLES, default 1,000.
func benchParseTables() int {
	if n, err := strconv.Atoi(os.Getenv("KEEL_BENCH_TABLES")); err == nil && n > 0 {
		return n
	}
	return 1000
}

// BenchmarkParseHCL reads a file of KEEL_BENCH_TABLES tables (default
// 1,000) into a state: the part of an empty-cache plan before anything is
// loaded into PostgreSQL.
//
//	KEEL_BENCH_TABLES=5000 go test ./planner/state -run '^$' -bench ParseHCL -benchmem
func BenchmarkParseHCL(b *testing.B) {
	src := benchHCL(benchParseTables())
	if _, err := ParseHCL([]string{"schema.hcl"}, [][]byte{src}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for range b.N {
		if _, err := ParseHCL([]string{"schema.hcl"}, [][]byte{src}); err != nil {
			b.Fatal(err)
		}
	}
}
