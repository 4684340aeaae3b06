package planner

// SetManyTables sets the size from which a plan reads the target's catalog
// on a second connection, and returns the function that puts it back. Only
// tests that do not run in parallel may call it.
func SetManyTables(n int) (restore func()) {
	old := manyTables
	manyTables = n
	return func() { manyTables = old }
}

// CatalogsReadApart is how many catalogs plans read on a second connection.
func CatalogsReadApart() int64 { return catalogsReadApart.Load() }

// SignatureConnsTaken is how many signatures' connections plans handed
// over to read the catalog again.
func SignatureConnsTaken() int64 { return signatureConnsTaken.Load() }

// SignaturesReadApart is how many catalog signatures plans read on a
// connection of their own.
func SignaturesReadApart() int64 { return signaturesReadApart.Load() }

// SetAfterSignature sets what runs once a plan has read (or taken the
// snapshot of) the catalog's signature, before it reads anything else, and
// returns the function that removes it. Only tests that do not run in
// parallel may call it.
func SetAfterSignature(fn func()) (restore func()) {
	afterSignature = fn
	return func() { afterSignature = nil }
}
