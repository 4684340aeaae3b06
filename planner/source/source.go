// Package source reads desired states: Atlas HCL files (parsed strictly),
// SQL files and other databases, and normalizes them in a throwaway
// database on a dev server into the form the server reports back, with a
// cache of normalized HCL states on disk.
package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"keel/internal/connstr"
	"keel/internal/pgsql"
	"keel/planner/inspect"
	"keel/planner/pg"
	"keel/planner/state"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// OpenDesired opens the desired state at path, whatever its kind:
//   - a postgres:// or postgresql:// URL, or a keyword/value connection
//     string ("host=... dbname=..."): that database's current state;
//   - a .sql file, or a directory of .sql files: the state they create;
//   - an .hcl file, or a directory of .hcl files: Atlas HCL.
//
// A directory holding both .sql and .hcl files is refused as ambiguous. Its
// errors show path redacted: it may be a connection string with a password.
func OpenDesired(path string) (Desired, error) {
	if connstr.IsURL(path) || connstr.IsKeywordValue(path) {
		db, err := pg.ParseURL(path)
		if err != nil {
			return nil, fmt.Errorf("desired state: %w", err)
		}
		return &Database{DB: db}, nil
	}
	shown := connstr.Redact(path)
	if err := connstr.Check(path); err != nil {
		return nil, fmt.Errorf("desired state: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // its message repeats the path
		}
		return nil, fmt.Errorf("reading desired state %s: %w", shown, err)
	}
	if !fi.IsDir() {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".sql":
			return &SQLFiles{Files: []string{path}}, nil
		case ".hcl":
			return OpenHCL(path)
		default:
			return nil, fmt.Errorf("reading desired state: %s is neither .hcl nor .sql; pass an .hcl or .sql file, a directory of them, or a postgres:// URL", shown)
		}
	}
	sqls, _ := filepath.Glob(filepath.Join(path, "*.sql"))
	hcls, _ := filepath.Glob(filepath.Join(path, "*.hcl"))
	switch {
	case len(sqls) > 0 && len(hcls) > 0:
		return nil, fmt.Errorf("reading desired state: directory %s holds both .sql and .hcl files; keep one kind per directory", shown)
	case len(sqls) > 0:
		sort.Strings(sqls)
		return &SQLFiles{Files: sqls}, nil
	case len(hcls) > 0:
		return OpenHCL(path)
	}
	return nil, fmt.Errorf("reading desired state: directory %s holds no .hcl or .sql file", shown)
}

// LoadError is a desired state that PostgreSQL refuses to load in the
// throwaway database: a mistake in the files (the error names the file and
// line), not a problem of the target database.
type LoadError struct{ Err error }

func (e *LoadError) Error() string { return e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }

// loadFailed is a LoadError with the message of fmt.Errorf.
func loadFailed(format string, args ...any) error {
	return &LoadError{Err: fmt.Errorf(format, args...)}
}

// SQLFiles is a desired state written as SQL: the files are run in order in
// a throwaway database, each statement on its own as psql would, and the
// result is inspected. It manages all the schemas that exist afterwards
// except the system ones and keel's own.
type SQLFiles struct {
	Files []string
}

// Load implements Desired.
func (s *SQLFiles) Load(ctx context.Context, dev DevDatabase) (st *state.State, err error) {
	err = dev.With(ctx, func(db *pg.DB) error {
		if err := RunSQLFiles(ctx, db, s.Files); err != nil {
			var le *LoadError
			if errors.As(err, &le) {
				return loadFailed("loading the desired state: %w", le.Err)
			}
			return fmt.Errorf("loading the desired state: %w", err)
		}
		conn, err := db.Open(ctx, "keel normalize")
		if err != nil {
			return err
		}
		defer conn.Close()
		if st, err = inspect.All(ctx, conn, true); err != nil {
			return err
		}
		st.Catalog, err = inspect.ReadCatalog(ctx, conn, st.SchemaNames())
		return err
	})
	return st, err
}

// Database is a desired state read from another database, as it is now.
type Database struct {
	DB *pg.DB
}

// Load implements Desired; it needs no throwaway database, as the state is
// already in the form the server reports.
func (d *Database) Load(ctx context.Context, _ DevDatabase) (*state.State, error) {
	conn, err := d.DB.Open(ctx, "keel desired state")
	if err != nil {
		return nil, fmt.Errorf("reading the desired state: %w", err)
	}
	defer conn.Close()
	st, err := inspect.All(ctx, conn, false)
	if err == nil {
		st.Catalog, err = inspect.ReadCatalog(ctx, conn, st.SchemaNames())
	}
	if err != nil {
		return nil, fmt.Errorf("reading the desired state from %s: %w", d.DB, err)
	}
	return st, nil
}

// RunSQLFiles runs SQL files in order on db, each on its own connection and
// each statement on its own (autocommit), as `psql -v ON_ERROR_STOP=1 -f`
// would. It stops at the first failing statement; the error names the file,
// the line, the SQLSTATE and the server's message.
func RunSQLFiles(ctx context.Context, db *pg.DB, files []string) error {
	for _, f := range files {
		if err := runSQLFile(ctx, db, f); err != nil {
			return err
		}
	}
	return nil
}

func runSQLFile(ctx context.Context, db *pg.DB, file string) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	stmts, err := pgsql.Split(string(src))
	if err != nil {
		return loadFailed("%s:%w", file, err)
	}
	lines := strings.Split(string(src), "\n")
	conn, err := db.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, st := range stmts {
		if _, err := conn.Exec(ctx, st.Text, pgx.QueryExecModeSimpleProtocol); err != nil {
			if line, col := errorPos(st, err, lines); col > 0 {
				return loadFailed("%s:%d:%d: %w", file, line, col, pg.ServerError(err))
			}
			return loadFailed("%s:%d: %w\n  in: %s", file, st.Line, pg.ServerError(err), firstLine(st.Text))
		}
	}
	return nil
}

// errorPos is the file line and column (in characters, 1-based) the
// server's error points at, from its position within the statement; col is
// 0 when the error has no position.
func errorPos(st pgsql.Statement, err error, lines []string) (line, col int) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Position <= 0 {
		return st.Line, 0
	}
	r := []rune(st.Text)
	before := string(r[:min(int(pe.Position)-1, len(r))])
	line = st.Line + strings.Count(before, "\n")
	if i := strings.LastIndexByte(before, '\n'); i >= 0 {
		return line, utf8.RuneCountInString(before[i+1:]) + 1
	}
	// On the statement's first line, which may start after another
	// statement on the same line of the file.
	start := 0
	if st.Line-1 < len(lines) {
		if i := strings.Index(lines[st.Line-1], strings.SplitN(st.Text, "\n", 2)[0]); i > 0 {
			start = utf8.RuneCountInString(lines[st.Line-1][:i])
		}
	}
	return line, start + utf8.RuneCountInString(before) + 1
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// HCLOf returns the HCL behind a desired state, if it is one.
func HCLOf(d Desired) (*HCL, bool) {
	for {
		switch v := d.(type) {
		case *HCL:
			return v, true
		case interface{ Unwrap() Desired }:
			d = v.Unwrap()
		default:
			return nil, false
		}
	}
}
