package main

import (
	"os"
	"testing"

	"keel/internal/pgtest"
)

// TestMain gives the tests scratch databases of their own (pgtest.Main).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
