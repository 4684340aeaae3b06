package planner

import (
	"context"
	"testing"

	"keel/internal/pgtest"
	"keel/planner/apply"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/source"
	"keel/planner/state"
)

// The realm hash of a database that converged equals the normalized desired
// state's (rows and identity values do not count), and differs as soon as a
// definition does.
func TestRealmHashOfConvergedDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, _ := pgtest.NewDatabase(t)
	db, err := pg.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Open(ctx, "keel test")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	desired, err := source.LoadHCL("../schema.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Normalize(ctx, conn, desired, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Diff(ctx, conn, want, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.Apply(ctx, conn, p, want, "test", apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, u,
		"INSERT INTO users (display_name) VALUES ('Kim')",
		"INSERT INTO orders (user_id, total_cents) SELECT id, 100 FROM users")
	live := func() string {
		t.Helper()
		st, err := inspect.Inspect(ctx, conn, []string{"public"})
		if err != nil {
			t.Fatal(err)
		}
		return state.RealmHash(st.Realm)
	}
	if got, w := live(), want.RealmHash(); got != w {
		t.Fatalf("converged database hashes %s, the desired state %s", got, w)
	}
	pgtest.Exec(t, u, "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'x'")
	if live() == want.RealmHash() {
		t.Fatal("a changed default does not change the hash")
	}
}
