package source

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/diff"
	"keel/planner/pg"
	"keel/planner/state"

	"github.com/jackc/pgx/v5"
)

// applySettings sets, in the throwaway database, what the desired state
// says that the engine does not model (state.Setting): after the engine
// created the tables and before the catalog is read, so that the
// normalized catalog holds them as PostgreSQL describes them. Constraints
// first (a constraint is made again, once, with all of its options), then
// the tables', columns' and indexes' settings (an index's storage
// parameters after its unique constraint is made again, which loses
// them), and comments on constraints last, once the constraints are as
// they stay.
func applySettings(ctx context.Context, conn *pg.Conn, settings []state.Setting) error {
	ordered := groupConstraintOptions(settings)
	sort.SliceStable(ordered, func(i, j int) bool { return settingPhase(ordered[i][0]) < settingPhase(ordered[j][0]) })
	for _, group := range ordered {
		s := firstWritten(group)
		stmts, err := settingStatements(ctx, conn, group)
		if err != nil {
			return fmt.Errorf("%s: normalizing the desired state: %s: %w", s.Pos, s.What(), err)
		}
		for _, stmt := range stmts {
			if err := pg.ExecStatement(ctx, conn.Pgx().PgConn(), stmt); err != nil {
				return loadFailed("%s: the desired state does not load into PostgreSQL: %s:\n  %s\n%w",
					s.Pos, s.What(), stmt, pg.ServerError(err))
			}
		}
	}
	return nil
}

// groupConstraintOptions puts each setting in a group of its own, but for
// the options of one constraint (timing, validity, MATCH FULL, SET NULL
// columns), which go in one group, where the first of them is written.
func groupConstraintOptions(settings []state.Setting) [][]state.Setting {
	type constraint struct {
		schema, table, name string
		pk                  bool
	}
	var out [][]state.Setting
	at := make(map[constraint]int)
	for _, s := range settings {
		if !state.IsConstraintOption(s.Key.Kind) {
			out = append(out, []state.Setting{s})
			continue
		}
		c := constraint{s.Key.Schema, s.Key.Table, s.Key.Name, s.PrimaryKey}
		if i, ok := at[c]; ok {
			out[i] = append(out[i], s)
			continue
		}
		at[c] = len(out)
		out = append(out, []state.Setting{s})
	}
	return out
}

// firstWritten is the setting of group written first, where an error in
// the group is reported.
func firstWritten(group []state.Setting) state.Setting {
	first := group[0]
	for _, s := range group[1:] {
		if posBefore(s.Pos, first.Pos) {
			first = s
		}
	}
	return first
}

// posBefore reports whether the position a ("file:line:col") comes before
// b in the same file.
func posBefore(a, b string) bool {
	lineCol := func(p string) (string, int, int) {
		rest, col, _ := cutLastNumber(p)
		file, line, _ := cutLastNumber(rest)
		return file, line, col
	}
	fa, la, ca := lineCol(a)
	fb, lb, cb := lineCol(b)
	return fa == fb && (la < lb || la == lb && ca < cb)
}

// cutLastNumber splits "x:12" into "x" and 12.
func cutLastNumber(s string) (string, int, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, 0, false
	}
	n, err := strconv.Atoi(s[i+1:])
	return s[:i], n, err == nil
}

// settingPhase orders settings: constraint options, then the rest, then
// comments on constraints.
func settingPhase(s state.Setting) int {
	switch {
	case state.IsConstraintOption(s.Key.Kind):
		return 0
	case s.Key.Kind == state.CatalogConstraintComment:
		return 2
	}
	return 1
}

// settingStatements returns the statements that give the throwaway
// database the settings of group: one setting, or the options of one
// constraint.
func settingStatements(ctx context.Context, conn *pg.Conn, group []state.Setting) ([]string, error) {
	s := group[0]
	k := s.Key
	if s.PrimaryKey {
		name, err := primaryKeyName(ctx, conn, k.Schema, k.Table)
		if err != nil {
			return nil, err
		}
		k.Name = name
	}
	switch {
	case state.IsConstraintOption(k.Kind):
		var o constraintOptions
		for _, x := range group {
			o.set(x)
		}
		return constraintStatements(ctx, conn, k, o)
	case k.Kind == state.CatalogIndexStorage:
		return indexStorageStatements(ctx, conn, k, s.Value)
	}
	stmt, err := diff.SettingSQL(k, s.Value, "")
	if err != nil {
		return nil, err
	}
	return []string{stmt}, nil
}

// primaryKeyName is the name of the table's primary key in the database.
func primaryKeyName(ctx context.Context, conn *pg.Conn, schema, table string) (string, error) {
	var name string
	err := conn.QueryRow(ctx, `SELECT k.conname FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND k.contype = 'p'`, schema, table).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errors.New("the table has no primary key: give its primary_key block columns")
	}
	if err != nil {
		return "", pg.ServerError(err)
	}
	return name, nil
}

// constraintOptions are what the settings of one constraint say of it.
type constraintOptions struct {
	timing, notValid, match, setColumns string
}

func (o *constraintOptions) set(s state.Setting) {
	switch s.Key.Kind {
	case state.CatalogConstraintTiming:
		o.timing = s.Value
	case state.CatalogConstraintValidity:
		o.notValid = s.Value
	case state.CatalogConstraintMatch:
		o.match = s.Value
	case state.CatalogConstraintSetColumns:
		o.setColumns = s.Value
	}
}

// constraintStatements give the constraint k the options o: a foreign key
// that only becomes deferrable is altered; otherwise, as PostgreSQL cannot
// alter the rest, the constraint is dropped and added again from its own
// definition with the options where pg_get_constraintdef prints them
// (MATCH FULL after the referenced columns, the columns after ON DELETE
// SET NULL, the timing, then NOT VALID). A primary key's or unique
// constraint's index keeps its comment; its storage parameters are set
// afterwards (see settingPhase).
func constraintStatements(ctx context.Context, conn *pg.Conn, k state.CatalogKey, o constraintOptions) ([]string, error) {
	var typ, def, indexComment string
	err := conn.QueryRow(ctx, `SELECT k.contype::text, pg_catalog.pg_get_constraintdef(k.oid),
  coalesce(pg_catalog.obj_description(k.conindid, 'pg_class'), '')
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND k.conname = $3`, k.Schema, k.Table, k.Name).Scan(&typ, &def, &indexComment)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("the engine created no constraint %s on the table", pgsql.QuoteIdent(k.Name))
	}
	if err != nil {
		return nil, pg.ServerError(err)
	}
	table := "ALTER TABLE " + pgsql.QuoteQualified(k.Schema, k.Table)
	switch {
	case typ == "f" && o.notValid == "" && o.match == "" && o.setColumns == "":
		clause := "DEFERRABLE INITIALLY IMMEDIATE"
		if o.timing == "DEFERRABLE INITIALLY DEFERRED" {
			clause = o.timing
		}
		return []string{table + " ALTER CONSTRAINT " + pgsql.QuoteIdent(k.Name) + " " + clause}, nil
	case typ != "f" && (o.match != "" || o.setColumns != ""):
		return nil, errors.New("only a foreign key has MATCH FULL or ON DELETE SET NULL (columns)")
	case typ != "f" && typ != "c" && o.notValid != "":
		return nil, errors.New("only foreign keys and checks can be NOT VALID")
	case typ == "c" && o.timing != "":
		return nil, errors.New("a check cannot be deferrable")
	case typ != "f" && typ != "c" && typ != "p" && typ != "u":
		return nil, errors.New("only foreign keys, primary keys and unique constraints can be deferrable")
	}
	def = strings.TrimSuffix(def, " NOT VALID")
	def = strings.TrimSuffix(strings.TrimSuffix(def, " DEFERRABLE INITIALLY DEFERRED"), " DEFERRABLE")
	if o.match != "" {
		at, ok := afterReferences(def)
		if !ok {
			return nil, fmt.Errorf("cannot find where MATCH FULL goes in the engine's definition %s", def)
		}
		def = def[:at] + " " + o.match + def[at:]
	}
	if o.setColumns != "" {
		at, ok := afterSetAction(def)
		if !ok {
			return nil, fmt.Errorf("the foreign key has no ON DELETE SET NULL or SET DEFAULT for the columns to go with: %s", def)
		}
		def = def[:at] + " (" + o.setColumns + ")" + def[at:]
	}
	for _, opt := range []string{o.timing, o.notValid} {
		if opt != "" {
			def += " " + opt
		}
	}
	stmts := []string{table + " DROP CONSTRAINT " + pgsql.QuoteIdent(k.Name) + ", ADD CONSTRAINT " + pgsql.QuoteIdent(k.Name) + " " + def}
	if indexComment != "" && (typ == "p" || typ == "u") {
		stmts = append(stmts, "COMMENT ON INDEX "+pgsql.QuoteQualified(k.Schema, k.Name)+" IS "+pgsql.QuoteLiteral(indexComment))
	}
	return stmts, nil
}

// afterReferences is the offset in a foreign key's definition right after
// REFERENCES table(columns): where MATCH FULL goes.
func afterReferences(def string) (int, bool) {
	toks, err := pgsql.Lex(def)
	if err != nil {
		return 0, false
	}
	depth, refs := 0, false
	for _, t := range toks {
		switch {
		case t.Kind == pgsql.Word && depth == 0 && strings.EqualFold(t.Text, "REFERENCES"):
			refs = true
		case t.Kind == pgsql.Other && t.Text == "(":
			depth++
		case t.Kind == pgsql.Other && t.Text == ")":
			if depth--; depth == 0 && refs {
				return t.Offset + 1, true
			}
		}
	}
	return 0, false
}

// afterSetAction is the offset in a foreign key's definition right after
// ON DELETE SET NULL or ON DELETE SET DEFAULT: where its columns go.
func afterSetAction(def string) (int, bool) {
	toks, err := pgsql.Lex(def)
	if err != nil {
		return 0, false
	}
	var words []pgsql.Token
	depth := 0
	for _, t := range toks {
		switch {
		case t.Kind == pgsql.Other && t.Text == "(":
			depth++
		case t.Kind == pgsql.Other && t.Text == ")":
			depth--
		case t.Kind == pgsql.Word && depth == 0:
			words = append(words, t)
		}
	}
	for i := 0; i+3 < len(words); i++ {
		w := func(j int, s string) bool { return strings.EqualFold(words[i+j].Text, s) }
		if w(0, "ON") && w(1, "DELETE") && w(2, "SET") && (w(3, "NULL") || w(3, "DEFAULT")) {
			return words[i+3].Offset + len(words[i+3].Text), true
		}
	}
	return 0, false
}

// indexStorageStatements set the storage parameters of the index k
// (params, as ALTER INDEX ... SET takes them) in one statement, with those
// the engine set (pages_per_range): PostgreSQL keeps an index's parameters
// in the order they are set, prints them so, and the catalog compares the
// printed definitions. The order is the one written, after the engine's,
// but for autosummarize = 'true', which goes first: the engine writes it
// before pages_per_range when a plan creates the index.
func indexStorageStatements(ctx context.Context, conn *pg.Conn, k state.CatalogKey, params string) ([]string, error) {
	var current []string
	err := conn.QueryRow(ctx, `SELECT coalesce(i.reloptions, '{}') FROM pg_catalog.pg_class i
JOIN pg_catalog.pg_index x ON x.indexrelid = i.oid
JOIN pg_catalog.pg_class c ON c.oid = x.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND i.relname = $3`, k.Schema, k.Table, k.Name).Scan(&current)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("the engine created no index %s on the table", pgsql.QuoteIdent(k.Name))
	}
	if err != nil {
		return nil, pg.ServerError(err)
	}
	written, err := splitParams(params)
	if err != nil {
		return nil, err
	}
	named := make(map[string]bool, len(written))
	var first, rest []string
	for _, p := range written {
		named[p.name] = true
		if p.name == "autosummarize" && p.value == "true" {
			first = append(first, p.text)
		} else {
			rest = append(rest, p.text)
		}
	}
	for _, opt := range current {
		name, value, _ := strings.Cut(opt, "=")
		if !named[name] {
			first = append(first, pgsql.QuoteIdent(name)+" = "+pgsql.QuoteLiteral(value))
		}
	}
	return []string{"ALTER INDEX " + pgsql.QuoteQualified(k.Schema, k.Name) + " SET (" + strings.Join(append(first, rest...), ", ") + ")"}, nil
}

// param is one storage parameter of a list: its name, value, and its text
// in the list ("fillfactor = '50'").
type param struct{ name, value, text string }

// splitParams reads a list of storage parameters as state.Setting holds
// them: name = 'value', ...
func splitParams(list string) ([]param, error) {
	toks, err := pgsql.Lex(list)
	if err != nil {
		return nil, err
	}
	var (
		out  []param
		sig  []pgsql.Token
		from = 0
	)
	flush := func(end int) error {
		if len(sig) != 3 || sig[0].Kind != pgsql.Word || sig[1].Text != "=" || sig[2].Kind != pgsql.String {
			return fmt.Errorf("storage parameters %q do not read as name = 'value', ...", list)
		}
		out = append(out, param{name: sig[0].Text, value: sig[2].Value, text: strings.TrimSpace(list[from:end])})
		sig = nil
		return nil
	}
	for _, t := range toks {
		switch {
		case t.Kind == pgsql.Space:
		case t.Kind == pgsql.Other && t.Text == ",":
			if err := flush(t.Offset); err != nil {
				return nil, err
			}
			from = t.Offset + 1
		default:
			sig = append(sig, t)
		}
	}
	if err := flush(len(list)); err != nil {
		return nil, err
	}
	return out, nil
}
