package state

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// settingsHCL uses every setting attribute keel reads.
const settingsHCL = `schema "public" {}
schema "app" {}
table "p" {
  schema = schema.public
  column "id" {
    type = int
  }
  primary_key {
    columns            = [column.id]
    deferrable         = true
    initially_deferred = false
    comment            = "the key"
  }
}
table "app" "t" {
  schema           = schema.app
  unlogged         = true
  storage_params   = { fillfactor = 70, autovacuum_enabled = false, "toast.autovacuum_enabled" = false, autovacuum_vacuum_scale_factor = 0.2, log_autovacuum_min_duration = "250" }
  replica_identity = index.t_n_key
  column "id" {
    type = int
    identity {
      generated = ALWAYS
      start     = 10
      min_value = 5
      max_value = 1000
      cache     = 10
      cycle     = true
    }
  }
  column "body" {
    type        = text
    storage     = EXTERNAL
    compression = "LZ4"
    statistics  = 500
  }
  column "n" {
    type        = int
    storage     = "main"
    compression = pglz
    statistics  = -1
  }
  column "pid" {
    type = int
  }
  foreign_key "t_pid_fk" {
    columns            = [column.pid]
    ref_columns        = [table.p.column.id]
    deferrable         = true
    initially_deferred = true
    comment            = "to p"
  }
  unique "t_n_key" {
    columns    = [column.n]
    deferrable = false
  }
  unique "t_pid_key" {
    columns    = [column.pid]
    deferrable = true
  }
  check "t_n_chk" {
    expr    = "n > 0"
    comment = "positive"
  }
}
table "q" {
  schema           = schema.public
  unlogged         = false
  replica_identity = FULL
  column "id" {
    type = int
  }
}
table "r" {
  schema           = schema.public
  replica_identity = "nothing"
  column "id" {
    type = int
  }
}
`

// Every setting attribute is read into the state's settings, in the
// catalog's value format, at its position; the engine does not see them.
func TestSettingsAttributes(t *testing.T) {
	st, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(settingsHCL)})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Kind, Schema, Table, Name, Value, Pos string
		PK                                    bool
	}
	var got []row
	for _, s := range st.Settings {
		got = append(got, row{s.Key.Kind, s.Key.Schema, s.Key.Table, s.Key.Name, s.Value, s.Pos, s.PrimaryKey})
	}
	want := []row{
		{CatalogConstraintTiming, "public", "p", "", "DEFERRABLE", "s.hcl:10:5", true},
		{CatalogConstraintComment, "public", "p", "", "the key", "s.hcl:12:5", true},
		{CatalogPersistence, "app", "t", "", "unlogged", "s.hcl:17:3", false},
		{CatalogStorageParameter, "app", "t", "autovacuum_enabled", "false", "s.hcl:18:3", false},
		{CatalogStorageParameter, "app", "t", "autovacuum_vacuum_scale_factor", "0.2", "s.hcl:18:3", false},
		{CatalogStorageParameter, "app", "t", "fillfactor", "70", "s.hcl:18:3", false},
		{CatalogStorageParameter, "app", "t", "log_autovacuum_min_duration", "250", "s.hcl:18:3", false},
		{CatalogStorageParameter, "app", "t", "toast.autovacuum_enabled", "false", "s.hcl:18:3", false},
		{CatalogReplicaIdentity, "app", "t", "", "index t_n_key", "s.hcl:19:3", false},
		{CatalogIdentityOptions, "app", "t", "id", "minvalue 5 maxvalue 1000 cache 10 cycle", "s.hcl:25:7", false},
		{CatalogColumnStorage, "app", "t", "body", "external", "s.hcl:33:5", false},
		{CatalogColumnCompression, "app", "t", "body", "lz4", "s.hcl:34:5", false},
		{CatalogColumnStatistics, "app", "t", "body", "500", "s.hcl:35:5", false},
		{CatalogColumnStorage, "app", "t", "n", "main", "s.hcl:39:5", false},
		{CatalogColumnCompression, "app", "t", "n", "pglz", "s.hcl:40:5", false},
		{CatalogConstraintTiming, "app", "t", "t_pid_fk", "DEFERRABLE INITIALLY DEFERRED", "s.hcl:49:5", false},
		{CatalogConstraintComment, "app", "t", "t_pid_fk", "to p", "s.hcl:51:5", false},
		{CatalogConstraintTiming, "app", "t", "t_pid_key", "DEFERRABLE", "s.hcl:59:5", false},
		{CatalogConstraintComment, "app", "t", "t_n_chk", "positive", "s.hcl:63:5", false},
		{CatalogReplicaIdentity, "public", "q", "", "full", "s.hcl:69:3", false},
		{CatalogReplicaIdentity, "public", "r", "", "nothing", "s.hcl:76:3", false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings:\n got %v\nwant %v", got, want)
	}
	// The engine evaluated the rest: the tables are there, with their
	// identity's start.
	s, _ := st.Realm.Schema("app")
	if tb, ok := s.Table("t"); !ok || len(tb.Columns) != 4 || len(tb.ForeignKeys) != 1 {
		t.Fatalf("table app.t is not as written: %+v", tb)
	}
}

// A setting with a wrong type or value is an error at file:line:col that
// names the attribute and says what it takes; all are reported at once.
func TestSettingsRejected(t *testing.T) {
	src := `schema "public" {}
table "t" {
  schema           = schema.public
  unlogged         = "yes"
  storage_params   = { "fill factor" = 70, autovacuum_enabled = [1] }
  replica_identity = index.nope
  column "a" {
    type        = text
    storage     = COMPRESSED
    compression = zstd
    statistics  = 20000
    identity {
      cache     = 0
      min_value = 1.5
      cycle     = "yes"
    }
  }
  column "b" {
    type       = int
    statistics = "high"
  }
  primary_key {
    columns            = [column.a]
    initially_deferred = true
  }
  unique "t_b_key" {
    columns    = [column.b]
    deferrable = 1
  }
  foreign_key "t_b_fk" {
    columns            = [column.b]
    ref_columns        = [table.u.column.id]
    deferrable         = false
    initially_deferred = true
    comment            = 5
  }
  check {
    expr    = "b > 0"
    comment = "unnamed"
  }
}
table "u" {
  schema           = schema.public
  storage_params   = 70
  replica_identity = INDEX
  column "id" {
    type = int
  }
  index "u_id" {
    columns     = [column.id]
    deferrable  = true
    compression = lz4
  }
}
`
	_, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(src)})
	var se *SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a SchemaError", err)
	}
	for _, want := range []string{
		`s.hcl:4:3: unlogged in table "t" takes true or false`,
		`s.hcl:5:3: storage_params in table "t" names "fill factor", which is not a storage parameter's name`,
		`s.hcl:5:3: storage_params in table "t" gives "autovacuum_enabled" a value that is not a number, true or false, or a string`,
		`s.hcl:6:3: replica_identity in table "t" refers to index "nope", which the table has no index, unique or primary_key block for`,
		`s.hcl:9:5: storage in table "t", column "a" takes PLAIN, EXTERNAL, MAIN or EXTENDED`,
		`s.hcl:10:5: compression in table "t", column "a" takes pglz or lz4`,
		`s.hcl:11:5: statistics in table "t", column "a" takes an integer from 0 to 10000`,
		`s.hcl:13:7: cache in table "t", column "a", identity takes an integer of at least 1`,
		`s.hcl:14:7: min_value in table "t", column "a", identity takes an integer`,
		`s.hcl:15:7: cycle in table "t", column "a", identity takes true or false`,
		`s.hcl:20:5: statistics in table "t", column "b" takes an integer from 0 to 10000`,
		`s.hcl:24:5: initially_deferred in table "t", primary_key needs deferrable = true`,
		`s.hcl:28:5: deferrable in table "t", unique "t_b_key" takes true or false`,
		`s.hcl:34:5: initially_deferred in table "t", foreign_key "t_b_fk" needs deferrable = true`,
		`s.hcl:35:5: comment in table "t", foreign_key "t_b_fk" takes a string`,
		`s.hcl:39:5: comment in table "t", check needs the constraint's name`,
		`s.hcl:44:3: storage_params in table "u" takes an object of storage parameters`,
		`s.hcl:45:3: replica_identity in table "u" takes FULL, NOTHING, DEFAULT or index.NAME`,
		// Where keel's attributes do not belong, they are unknown.
		`s.hcl:51:5: unknown attribute "deferrable" in table "u", index "u_id"`,
		`s.hcl:52:5: unknown attribute "compression" in table "u", index "u_id"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
}

// A table written with two labels, "schema" "table", is the table of
// that schema; a setting never goes to a table the engine does not have.
func TestSettingsTableNames(t *testing.T) {
	st, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(`schema "a" {}
schema "b" {}
table "a" "t" {
  schema   = schema.a
  unlogged = true
  column "x" {
    type = int
  }
}
table "t" {
  schema = schema["b"]
  column "x" {
    type       = int
    statistics = 10
  }
}
`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Settings) != 2 || st.Settings[0].Key != (CatalogKey{Kind: CatalogPersistence, Schema: "a", Table: "t"}) ||
		st.Settings[1].Key != (CatalogKey{Kind: CatalogColumnStatistics, Schema: "b", Table: "t", Name: "x"}) {
		t.Fatalf("settings %+v, want a.t unlogged and b.t.x statistics", st.Settings)
	}
	if only := st.Only([]string{"b"}); len(only.Settings) != 1 || only.Settings[0].Key.Schema != "b" {
		t.Fatalf("Only(b) keeps %+v", only.Settings)
	}
}

// optionsHCL uses not_valid, match, on_delete_set_columns, storage_params
// of indexes and using.
const optionsHCL = `schema "public" {}
table "p" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "x" {
    type = int
  }
  primary_key {
    columns = [column.id, column.x]
  }
}
table "t" {
  schema = schema.public
  column "a" {
    type = int
  }
  column "b" {
    type  = text
    using = " trim(b)::integer "
  }
  foreign_key "t_ab_fk" {
    columns               = [column.a, column.b]
    ref_columns           = [table.p.column.id, table.p.column.x]
    on_delete             = SET_NULL
    not_valid             = true
    deferrable            = true
    on_delete_set_columns = [column.b]
    match                 = FULL
  }
  foreign_key "t_a_fk" {
    columns     = [column.a, column.b]
    ref_columns = [table.p.column.id, table.p.column.x]
    match       = SIMPLE
    not_valid   = false
  }
  check "t_a_chk" {
    expr      = "a > 0"
    not_valid = true
  }
  index "t_b_idx" {
    columns        = [column.b]
    storage_params = { FillFactor = 50, deduplicate_items = false, "buffering" = "auto" }
  }
  unique "t_a_key" {
    columns        = [column.a]
    storage_params = { fillfactor = 70 }
  }
}
`

// not_valid, match, on_delete_set_columns and storage_params are read
// into settings in the form the throwaway database takes them, each at
// its position; using into the state's conversions. The engine sees none
// of them.
func TestConstraintAndIndexOptions(t *testing.T) {
	st, err := ParseHCL([]string{"o.hcl"}, [][]byte{[]byte(optionsHCL)})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Kind, Table, Name, Value, Pos string }
	var got []row
	for _, s := range st.Settings {
		got = append(got, row{s.Key.Kind, s.Key.Table, s.Key.Name, s.Value, s.Pos})
	}
	want := []row{
		{CatalogConstraintTiming, "t", "t_ab_fk", "DEFERRABLE", "o.hcl:28:5"},
		{CatalogConstraintMatch, "t", "t_ab_fk", "MATCH FULL", "o.hcl:30:5"},
		{CatalogConstraintSetColumns, "t", "t_ab_fk", `"b"`, "o.hcl:29:5"},
		{CatalogConstraintValidity, "t", "t_ab_fk", "NOT VALID", "o.hcl:27:5"},
		{CatalogConstraintValidity, "t", "t_a_chk", "NOT VALID", "o.hcl:40:5"},
		{CatalogIndexStorage, "t", "t_b_idx", "fillfactor = '50', deduplicate_items = 'false', buffering = 'auto'", "o.hcl:44:5"},
		{CatalogIndexStorage, "t", "t_a_key", "fillfactor = '70'", "o.hcl:48:5"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings:\n got %v\nwant %v", got, want)
	}
	conv := st.Using[CatalogKey{Kind: CatalogColumn, Schema: "public", Table: "t", Name: "b"}]
	if len(st.Using) != 1 || conv != (Conversion{Expr: "trim(b)::integer", Pos: "o.hcl:21:5"}) {
		t.Errorf("using: %v", st.Using)
	}
	if only := st.Only([]string{"other"}); len(only.Using) != 0 {
		t.Errorf("Only keeps the conversions of other schemas: %v", only.Using)
	}
	s, _ := st.Realm.Schema("public")
	if tb, ok := s.Table("t"); !ok || len(tb.ForeignKeys) != 2 || len(tb.Indexes) != 2 {
		t.Fatalf("table public.t is not as written: %+v", tb)
	}
}

// A wrong using, not_valid, match, on_delete_set_columns or storage_params
// is an error at file:line:col that says what the attribute takes.
func TestOptionsRejected(t *testing.T) {
	src := `schema "public" {}
table "t" {
  schema = schema.public
  column "a" {
    type  = int
    using = "a::integer; DROP TABLE t"
  }
  column "b" {
    type  = int
    using = "b::integer -- cast"
  }
  column "c" {
    type  = int
    using = "c::integer, ALTER COLUMN a TYPE text"
  }
  column "d" {
    type  = int
    using = "(d::integer"
  }
  column "e" {
    type  = int
    using = 5
  }
  column "f" {
    type  = int
    using = "'unterminated"
  }
  column "g" {
    type  = int
    using = "  "
  }
  column "h" {
    type  = int
    using = "h)::integer + (1"
  }
  foreign_key "t_a_fk" {
    columns               = [column.a]
    ref_columns           = [column.b]
    match                 = PARTIAL
    not_valid             = "yes"
    on_delete_set_columns = [column.a]
  }
  foreign_key "t_b_fk" {
    columns               = [column.b]
    ref_columns           = [column.a]
    on_delete             = SET_DEFAULT
    on_delete_set_columns = [column.c]
  }
  check {
    expr      = "a > 0"
    not_valid = true
  }
  index "t_a_idx" {
    columns        = [column.a]
    storage_params = { pages_per_range = 32, "toast.fillfactor" = 1, fillfactor = [1], "fill factor" = 2 }
  }
  index "t_b_idx" {
    columns        = [column.b]
    storage_params = 50
  }
  primary_key {
    columns        = [column.a]
    not_valid      = true
    storage_params = { fillfactor = 50 }
  }
}
`
	_, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(src)})
	var se *SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a SchemaError", err)
	}
	for _, want := range []string{
		`s.hcl:6:5: using in table "t", column "a" holds a semicolon outside quotes, which would end the statement: it takes one SQL expression`,
		`s.hcl:10:5: using in table "t", column "b" holds a -- comment`,
		`s.hcl:14:5: using in table "t", column "c" holds a comma outside parentheses`,
		`s.hcl:18:5: using in table "t", column "d" leaves a parenthesis or bracket open`,
		`s.hcl:22:5: using in table "t", column "e" takes a string, the SQL expression that converts the column's values`,
		`s.hcl:26:5: using in table "t", column "f" does not read as SQL`,
		`s.hcl:30:5: using in table "t", column "g" is empty`,
		`s.hcl:34:5: using in table "t", column "h" closes a ")" it never opened`,
		`s.hcl:39:5: match in table "t", foreign_key "t_a_fk" takes FULL or SIMPLE`,
		`s.hcl:40:5: not_valid in table "t", foreign_key "t_a_fk" takes true or false`,
		`s.hcl:41:5: on_delete_set_columns in table "t", foreign_key "t_a_fk" needs on_delete = SET_NULL or SET_DEFAULT`,
		`s.hcl:47:5: on_delete_set_columns in table "t", foreign_key "t_b_fk" names column "c", which is not one of the foreign key's columns`,
		`s.hcl:51:5: not_valid in table "t", check needs the constraint's name`,
		`s.hcl:55:5: storage_params in table "t", index "t_a_idx" names pages_per_range, which is the engine's: write page_per_range = 32`,
		`s.hcl:55:5: storage_params in table "t", index "t_a_idx" names "toast.fillfactor", which is not an index storage parameter's name`,
		`s.hcl:55:5: storage_params in table "t", index "t_a_idx" gives "fillfactor" a value that is not a number`,
		`s.hcl:55:5: storage_params in table "t", index "t_a_idx" names "fill factor"`,
		`s.hcl:59:5: storage_params in table "t", index "t_b_idx" takes an object of the index's storage parameters`,
		// Where keel's attributes do not belong, they are unknown.
		`s.hcl:63:5: unknown attribute "not_valid" in table "t", primary_key`,
		`s.hcl:64:5: unknown attribute "storage_params" in table "t", primary_key`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
}

// A using on a column the engine does not have (a table without its
// schema) is an error at the attribute.
func TestUsingNeedsItsTable(t *testing.T) {
	_, err := ParseHCL([]string{"s.hcl"}, [][]byte{[]byte(`schema "public" {}
table "t" {
  column "a" {
    type  = int
    using = "a::integer"
  }
}
`)})
	if err == nil || !strings.Contains(err.Error(), `s.hcl:5:5: using in table "t", column "a" needs the table's schema`) {
		t.Fatalf("error %v, want one at the using", err)
	}
}
