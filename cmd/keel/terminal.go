package main

import (
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether f is a terminal, so that a person can answer
// a question on it.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
