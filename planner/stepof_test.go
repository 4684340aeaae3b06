package planner_test

import (
	"testing"

	"keel/planner/diff"
	"keel/planner/plan"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
)

// A step whose engine change does not name its object (none, or a change
// of an object kind keel does not name) is named from its statement, never
// as a Go type or "<nil>"; the engine's comments read as keel's.
func TestStepsNameTheirObjects(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		change *migrate.Change
		action plan.Action
		want   string
		cmt    string
	}{
		{&migrate.Change{Cmd: `ALTER TYPE "public"."st" ADD VALUE 'c'`, Source: &schema.ModifyObject{}, Comment: `add value to enum type: "st"`},
			plan.ActionAlter, "enum public.st", `add a value to enum type "st"`},
		{&migrate.Change{Cmd: `ALTER TYPE "public"."st" ADD VALUE 'd'`}, plan.ActionAlter, "enum public.st", ""},
		{&migrate.Change{Cmd: `CREATE INDEX "i" ON "public"."t" ("c")`, Source: &schema.AddTable{T: schema.NewTable("t").SetSchema(schema.New("public"))},
			Comment: `create index "i" to table: "t"`}, plan.ActionCreate, "table public.t", `create index "i" on table "t"`},
	} {
		st := diff.StepOf(c.change)
		if st.Action != c.action || st.Object != c.want || st.Comment != c.cmt {
			t.Errorf("%s: action %q object %q comment %q; want %q %q %q", c.change.Cmd, st.Action, st.Object, st.Comment, c.action, c.want, c.cmt)
		}
	}
}
