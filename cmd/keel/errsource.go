package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// filePos finds "FILE:LINE:" or "FILE:LINE:COL:" in an error's line.
var filePos = regexp.MustCompile(`(?:^|[\s(])([^\s:()]+):(\d+)(?::(\d+))?:`)

// maxShown is how many positions of one error get their source line shown.
const maxShown = 10

// withSource shows, under each line of an error message that names a
// position in a file (file:line or file:line:column), that line of the file
// and a caret under the column, as compilers do:
//
//	keel: schema.hcl:4:17: unknown attribute "typ" in table "t", column "id"
//	   4 |   column "id" { typ = int }
//	     |                 ^
//
// Positions in files that cannot be read are left as they are.
func withSource(msg string) string {
	var (
		b     strings.Builder
		files = make(map[string][]string)
		shown int
	)
	for i, line := range strings.Split(msg, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
		m := filePos.FindStringSubmatch(line)
		if m == nil || shown == maxShown {
			continue
		}
		lines, ok := files[m[1]]
		if !ok {
			lines = readLines(m[1])
			files[m[1]] = lines
		}
		n, _ := strconv.Atoi(m[2])
		if n < 1 || n > len(lines) {
			continue
		}
		src := strings.TrimRight(lines[n-1], "\r")
		col := 0
		if m[3] != "" {
			col, _ = strconv.Atoi(m[3])
		} else {
			// No column: point at the line's first character.
			col = utf8.RuneCountInString(src) - utf8.RuneCountInString(strings.TrimLeft(src, " \t")) + 1
		}
		num := strconv.Itoa(n)
		fmt.Fprintf(&b, "\n  %s | %s\n  %s | %s^", num, src, strings.Repeat(" ", len(num)), caretIndent(src, col))
		shown++
	}
	return b.String()
}

// readLines reads a regular file's lines, or none.
func readLines(path string) []string {
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() || fi.Size() > 16<<20 {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil || !utf8.Valid(data) {
		return nil
	}
	return strings.Split(string(data), "\n")
}

// caretIndent is the blank that puts a caret under column col (in
// characters, 1-based) of src, keeping src's tabs so that it lines up.
func caretIndent(src string, col int) string {
	var b strings.Builder
	i := 1
	for _, r := range src {
		if i >= col {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		i++
	}
	return b.String()
}
