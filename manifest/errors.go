package manifest

import (
	"fmt"
	"strings"
)

// Error is one problem in a manifest, at a line and a key.
type Error struct {
	File string // the file as given to Parse
	Line int    // 1-based; 0 when unknown (a File built in code)
	Key  string // dotted key, e.g. "services.api.stack"; "" for a syntax error
	Msg  string // what is wrong and how to fix it
}

// Error renders "FILE:LINE: KEY: MSG", leaving out the parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	file := e.File
	if file == "" {
		file = FileName
	}
	b.WriteString(file)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// closest returns the candidate within edit distance 2 of s, or "".
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := distance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b (bytes).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
