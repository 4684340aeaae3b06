package source_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/source"
	"keel/planner/state"
)

// settingsSQL makes a database with every setting keel writes as an
// attribute of its own.
var settingsSQL = []string{
	`CREATE TABLE p (id int PRIMARY KEY, a int)`,
	`CREATE UNLOGGED TABLE t (
  id int GENERATED ALWAYS AS IDENTITY (MAXVALUE 1000 CACHE 10 CYCLE) PRIMARY KEY,
  body text COMPRESSION lz4,
  n int,
  pid int,
  CONSTRAINT t_pid_fk FOREIGN KEY (pid) REFERENCES t (id) DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT t_n_key UNIQUE (n) DEFERRABLE,
  CONSTRAINT t_n_chk CHECK (n > 0)
) WITH (fillfactor = 70, toast.autovacuum_enabled = false)`,
	`ALTER TABLE t ALTER COLUMN body SET STORAGE EXTERNAL`,
	`ALTER TABLE t REPLICA IDENTITY FULL`,
	`ALTER TABLE t ALTER COLUMN n SET STATISTICS 500`,
	`CREATE UNIQUE INDEX p_a_idx ON p (a)`,
	`ALTER TABLE p ALTER COLUMN a SET NOT NULL`,
	`ALTER TABLE p REPLICA IDENTITY USING INDEX p_a_idx`,
	`COMMENT ON CONSTRAINT t_n_chk ON t IS 'n is positive'`,
	`COMMENT ON CONSTRAINT t_pid_fk ON t IS 'the parent row, checked at commit'`,
	`COMMENT ON CONSTRAINT t_pkey ON t IS 'it''s the key; ${not a template}'`,
	// Constraint options and index storage parameters.
	`CREATE TABLE p2 (id int, x int, PRIMARY KEY (id, x))`,
	`CREATE TABLE f (a int, b int, c text, "D e" int)`,
	`ALTER TABLE f ADD CONSTRAINT f_ab_fk FOREIGN KEY (a, "D e") REFERENCES p2 (id, x) MATCH FULL ON DELETE SET NULL ("D e") DEFERRABLE NOT VALID`,
	`ALTER TABLE f ADD CONSTRAINT f_b_fk FOREIGN KEY (b, a) REFERENCES p2 (id, x) ON DELETE SET DEFAULT (b)`,
	`ALTER TABLE f ADD CONSTRAINT f_a_chk CHECK (a > 0) NOT VALID`,
	`COMMENT ON CONSTRAINT f_a_chk ON f IS 'not checked on old rows'`,
	`CREATE INDEX f_c_idx ON f (c) WITH (fillfactor = 50, deduplicate_items = off)`,
	`CREATE INDEX f_b_brin ON f USING brin (b) WITH (autosummarize = true, pages_per_range = 32)`,
	`CREATE INDEX f_c_gin ON f USING gin (to_tsvector('simple', c)) WITH (fastupdate = false, gin_pending_list_limit = 128)`,
	`ALTER TABLE f ADD CONSTRAINT f_c_key UNIQUE (c) WITH (fillfactor = 70) DEFERRABLE`,
	`COMMENT ON INDEX f_c_key IS 'the key''s index'`,
}

// settingsOf keeps the objects of a catalog that keel's settings say: the
// setting kinds, the constraints (whose timing, validity, MATCH FULL and
// SET NULL columns are in their description) and the indexes (whose
// storage parameters are).
func settingsOf(c state.Catalog) state.Catalog {
	out := make(state.Catalog)
	for k, v := range c {
		switch k.Kind {
		case state.CatalogConstraint, state.CatalogIndex, state.CatalogPersistence, state.CatalogStorageParameter, state.CatalogReplicaIdentity,
			state.CatalogColumnStorage, state.CatalogColumnCompression, state.CatalogColumnStatistics,
			state.CatalogIdentityOptions, state.CatalogConstraintComment:
			out[k] = v
		}
	}
	return out
}

// dev returns a dev database on the test server, opened.
func dev(t *testing.T, cache *source.Cache) source.DevDatabase {
	t.Helper()
	server, err := pg.ParseURL(pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	d, done, err := source.DevDatabase{Server: server, Cache: cache}.Open(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(done)
	return d
}

func writeHCL(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "schema.hcl")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A database's settings, printed as HCL by inspect and loaded back as the
// desired state, give the same catalog: every setting, every constraint's
// timing and every constraint comment survives the round trip, also
// through the normalization cache.
func TestSettingsInspectRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, settingsSQL...)
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Open(ctx, "keel test")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	live, err := inspect.Inspect(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if live.Catalog, err = inspect.ReadCatalog(ctx, conn, live.SchemaNames()); err != nil {
		t.Fatal(err)
	}
	text, err := state.MarshalHCL(live)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"unlogged = true\n", "fillfactor                 = 70\n", `"toast.autovacuum_enabled" = false`,
		"replica_identity = FULL\n", "replica_identity = index.p_a_idx\n",
		"storage     = EXTERNAL\n", "compression = lz4\n", "statistics = 500\n",
		"max_value = 1000\n", "cache     = 10\n", "cycle     = true\n",
		"deferrable         = true\n", "initially_deferred = true\n", `comment            = "the parent row, checked at commit"`,
		"deferrable = true\n", `comment = "n is positive"`, `comment = "it's the key; $${not a template}"`,
		"match                 = FULL\n", `on_delete_set_columns = [column["D e"]]`, "on_delete_set_columns = [column.b]\n",
		"not_valid = true\n", "not_valid             = true\n",
		"fillfactor        = 50\n", `deduplicate_items = "off"`, "autosummarize = true\n", "page_per_range = 32\n",
		"fastupdate             = false\n", "gin_pending_list_limit = 128\n", "fillfactor = 70\n",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the inspected HCL lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(string(text), "keel cannot write") {
		t.Errorf("the inspected HCL leaves a setting out:\n%s", text)
	}
	path := writeHCL(t, string(text))
	cache := &source.Cache{Dir: t.TempDir()}
	for _, how := range []string{"normalized", "from the cache"} {
		h, err := source.LoadHCL(path)
		if err != nil {
			t.Fatalf("%s: the inspected HCL does not read: %v\n%s", how, err, text)
		}
		want, err := h.Load(ctx, dev(t, cache))
		if err != nil {
			t.Fatalf("%s: the inspected HCL does not load: %v\n%s", how, err, text)
		}
		got, have := settingsOf(want.Catalog), settingsOf(live.Catalog)
		if !reflect.DeepEqual(got, have) {
			t.Errorf("%s: the catalogs differ:\n%v\nHCL:\n%s", how, state.PlanDifferences(got.Differences(have)), text)
		}
		if len(got) < 30 {
			t.Errorf("%s: the catalog holds %d settings and constraints, want them all: %v", how, len(got), got)
		}
		if entries, _ := filepath.Glob(filepath.Join(cache.Dir, "*.json")); len(entries) != 1 {
			t.Fatalf("%s: want one cache entry, found %v", how, entries)
		}
	}
}

// A setting the throwaway database refuses is an error at the setting's
// file:line:col, with the statement.
func TestSettingsLoadErrorsNameTheirPosition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, hcl, want string }{
		{"partial index as replica identity", `schema "public" {}
table "t" {
  schema = schema.public
  column "a" {
    type = int
  }
  index "t_a_idx" {
    unique  = true
    columns = [column.a]
    where   = "a > 0"
  }
  replica_identity = index.t_a_idx
}
`, `schema.hcl:12:3: the desired state does not load into PostgreSQL: replica identity public.t:
  ALTER TABLE "public"."t" REPLICA IDENTITY USING INDEX "t_a_idx"`},
		{"deferrable key that a foreign key uses", `schema "public" {}
table "p" {
  schema = schema.public
  column "id" {
    type = int
  }
  primary_key {
    columns    = [column.id]
    deferrable = true
  }
}
table "c" {
  schema = schema.public
  column "pid" {
    type = int
  }
  foreign_key "c_pid_fk" {
    columns     = [column.pid]
    ref_columns = [table.p.column.id]
  }
}
`, `schema.hcl:9:5: the desired state does not load into PostgreSQL: constraint timing of the primary key of public.p:
  ALTER TABLE "public"."p" DROP CONSTRAINT "p_pkey", ADD CONSTRAINT "p_pkey" PRIMARY KEY (id) DEFERRABLE`},
		{"compression of an integer", `schema "public" {}
table "t" {
  schema = schema.public
  column "a" {
    type        = int
    compression = lz4
  }
}
`, `schema.hcl:6:5: the desired state does not load into PostgreSQL: column compression public.t.a:
  ALTER TABLE "public"."t" ALTER COLUMN "a" SET COMPRESSION lz4`},
		{"a storage parameter the index method does not take", `schema "public" {}
table "t" {
  schema = schema.public
  column "a" {
    type = int
  }
  index "t_a_idx" {
    columns        = [column.a]
    type           = BRIN
    storage_params = { autosummarize = true, fillfactor = 50 }
  }
}
`, `schema.hcl:10:5: the desired state does not load into PostgreSQL: index storage parameters public.t.t_a_idx:
  ALTER INDEX "public"."t_a_idx" SET (autosummarize = 'true', fillfactor = '50')`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := source.LoadHCL(writeHCL(t, tc.hcl))
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.Load(context.Background(), dev(t, nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "SQLSTATE") {
				t.Fatalf("error:\n%v\nwant it to hold:\n%s\nand the SQLSTATE", err, tc.want)
			}
		})
	}
}

// A setting is part of the desired state's fingerprint: a plan made for
// the state without it does not pass for the state with it.
func TestSettingsChangeTheFingerprint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fingerprint := func(extra string) string {
		h, err := source.LoadHCL(writeHCL(t, `schema "public" {}
table "t" {
  schema = schema.public
  column "a" {
    type = int
  }
  column "b" {
    type = int
  }
  foreign_key "t_b_fk" {
    columns     = [column.b]
    ref_columns = [column.a]
`+extra+`
  }
  primary_key {
    columns = [column.a]
  }
}
`))
		if err != nil {
			t.Fatal(err)
		}
		st, err := h.Load(ctx, dev(t, nil))
		if err != nil {
			t.Fatal(err)
		}
		fp, err := st.Fingerprint()
		if err != nil {
			t.Fatal(err)
		}
		return fp.Hash
	}
	plain := fingerprint("")
	seen := map[string]string{plain: "none"}
	for _, extra := range []string{"deferrable = true", "deferrable = true\ninitially_deferred = true", `comment = "c"`,
		"not_valid = true", "match = FULL", "match = FULL\nnot_valid = true"} {
		fp := fingerprint(extra)
		if prev, ok := seen[fp]; ok {
			t.Errorf("%q fingerprints as %s", extra, prev)
		}
		seen[fp] = extra
	}
	if again := fingerprint(""); again != plain {
		t.Errorf("the same state fingerprints as %s and %s", plain, again)
	}
}

// What keel's attributes cannot say is printed as a comment where it
// belongs: the storage parameters of a primary key's index.
func TestInspectNotesIndexStorageItCannotWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	pgtest.Exec(t, u, `CREATE TABLE k (id int, CONSTRAINT k_pkey PRIMARY KEY (id) WITH (fillfactor = 80))`)
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Open(ctx, "keel test")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	live, err := inspect.Inspect(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if live.Catalog, err = inspect.ReadCatalog(ctx, conn, live.SchemaNames()); err != nil {
		t.Fatal(err)
	}
	text, err := state.MarshalHCL(live)
	if err != nil {
		t.Fatal(err)
	}
	want := `# keel cannot write this here: index public.k.k_pkey is "storage parameters { fillfactor = 80 }"`
	if !strings.Contains(string(text), want) || strings.Contains(string(text), "storage_params") {
		t.Fatalf("the inspected HCL lacks %q, or writes storage_params:\n%s", want, text)
	}
}
