package connstr

import "fmt"

// UnreadableError is Check's refusal of a connection string. Its message
// shows the string redacted (never the host a wrong reading would take) and
// says how to write it.
type UnreadableError struct {
	// Redacted is the string as Redact shows it.
	Redacted string
	// Ambiguous is true for a postgres:// URL whose parts are ambiguous,
	// false for a string shaped like a URL that libpq does not read as one.
	Ambiguous bool
}

func (e *UnreadableError) Error() string {
	if !e.Ambiguous {
		return fmt.Sprintf("the database URL %s is not a PostgreSQL URL: write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE "+
			"(lower case, nothing before it) or as keyword/value pairs (host=HOST dbname=DATABASE ...)", e.Redacted)
	}
	return fmt.Sprintf("the database URL %s is ambiguous: its user and password end at the first '@', so an '@', '/', '?' or '#' "+
		"in the password (or an '@' anywhere else) would connect to another host, as another user or to another database than it names: "+
		"percent-encode them, '@' as %%40, '/' as %%2F, '?' as %%3F, '#' as %%23", e.Redacted)
}

// Check refuses (with an *UnreadableError) a connection string that libpq
// and pgx would read otherwise than its author meant:
//   - a postgres:// URL with an '@' other than the one ending its user and
//     password, or whose user and password hold a '?' or '#', such as
//     "postgres://u:Sec@ret@db:5432/app" (password "Sec" on host "ret@db");
//   - a string shaped like a URL that is not one libpq reads ("POSTGRES://",
//     " postgres://", "postgres:/"), which pgx would take for keyword/value
//     pairs and pass on to the server.
//
// Keyword/value strings quote their values and are never ambiguous; other
// strings (file paths) pass.
func Check(s string) error {
	if IsURL(s) {
		if splitURI(s).ambiguous(s) {
			return &UnreadableError{Redacted: Redact(s), Ambiguous: true}
		}
		return nil
	}
	if schemeEnd(s) >= 0 {
		return &UnreadableError{Redacted: Redact(s)}
	}
	return nil
}
