package state

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const partitionedEvents = `schema "public" {}
table "events" {
  schema = schema.public
  column "at" {
    type = date
  }
  column "region" {
    type = text
  }
  partition {
    type    = RANGE
    columns = [column.at]
  }
}
`

// A partition's mistakes are errors at file:line:column that say what to
// write instead.
func TestPartitionGrammar(t *testing.T) {
	src := partitionedEvents + `table "plain" {
  schema = schema.public
  column "a" {
    type = int
  }
}
table "events_2026" {
  schema       = schema.public
  partition_of = table.events
  bound        = "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
  column "x" {
    type = int
  }
  index "events_2026_x" {
    columns = [column.x]
  }
}
table "events_nobound" {
  schema       = schema.public
  partition_of = table.events
}
table "events_noparent" {
  schema = schema.public
  bound  = "DEFAULT"
}
table "events_two" {
  schema       = schema.public
  partition_of = table.events
  bound        = "FOR VALUES FROM ('2028-01-01') TO ('2029-01-01'); DROP TABLE events"
}
table "plain_p" {
  schema       = schema.public
  partition_of = table.plain
  bound        = "DEFAULT"
}
table "events_missing" {
  schema       = schema.public
  partition_of = table.nothing
  bound        = "DEFAULT"
}
`
	_, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(src)})
	var se *SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a SchemaError", err)
	}
	for _, w := range []string{
		`s.hcl:25:3: partition "events_2026": a partition gets its columns, keys and indexes from the partitioned table: declare them there`,
		`s.hcl:28:3: partition "events_2026": a partition gets its columns, keys and indexes from the partitioned table: declare them there`,
		`s.hcl:34:3: partition "events_nobound": partition_of needs bound`,
		`s.hcl:38:3: partition "events_noparent": bound needs partition_of`,
		`s.hcl:43:18: partition "events_two": bound holds a semicolon`,
		`s.hcl:47:18: partition "plain_p": partition_of = table.plain names a table that is not partitioned: give table public.plain (s.hcl:15:1) a partition block`,
		`s.hcl:52:18: partition "events_missing": partition_of = table.nothing names no table block`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error lacks %q:\n%v", w, err)
		}
	}
}

// Partitions read as keel's, parents before their sub-partitions, with
// their own partition key as PARTITION BY takes it; the engine sees none of
// them, and the partitioned table's partition block is the engine's.
func TestPartitionsRead(t *testing.T) {
	src := partitionedEvents + `table "events_eu" {
  schema       = schema.public
  partition_of = table.events_2026
  bound        = "FOR VALUES IN ('eu')"
}
table "events_2026" {
  schema       = schema.public
  partition_of = table.public.events
  bound        = "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
  comment      = "this year"
  partition {
    type = LIST
    by {
      expr = "lower(region)"
    }
  }
}
table "events_other" {
  schema       = schema.public
  partition_of = table.events
  bound        = "default"
}
`
	st, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	want := []Partition{
		{Schema: "public", Name: "events_2026", ParentSchema: "public", Parent: "events", Bound: "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
			Key: "LIST ((lower(region)))", Comment: "this year", Pos: "s.hcl:20:1"},
		{Schema: "public", Name: "events_other", ParentSchema: "public", Parent: "events", Bound: "default", Pos: "s.hcl:32:1"},
		{Schema: "public", Name: "events_eu", ParentSchema: "public", Parent: "events_2026", Bound: "FOR VALUES IN ('eu')", Pos: "s.hcl:15:1"},
	}
	if !reflect.DeepEqual(st.Partitions, want) {
		t.Fatalf("partitions\n%+v\nwant\n%+v", st.Partitions, want)
	}
	if s := st.Realm.Schemas[0]; len(s.Tables) != 1 || s.Tables[0].Name != "events" {
		t.Fatalf("the engine's tables: %+v, want events alone", s.Tables)
	}
	if got := want[0].CreateSQL(); got != `CREATE TABLE "public"."events_2026" PARTITION OF "public"."events" FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY LIST ((lower(region)))` {
		t.Fatalf("CreateSQL: %s", got)
	}
}
