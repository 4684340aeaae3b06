package state

import (
	"ariga.io/atlas/sql/schema"

	"keel/internal/pgsql"
)

// TableName is the table's schema-qualified name for display: each part
// quoted when it is not a plain name.
func TableName(t *schema.Table) string { return DisplayName(t.Schema, t.Name) }

// QuoteTable is the table's schema-qualified name for SQL, quoted by keel.
func QuoteTable(t *schema.Table) string {
	if t.Schema != nil {
		return pgsql.QuoteQualified(t.Schema.Name, t.Name)
	}
	return pgsql.QuoteIdent(t.Name)
}
