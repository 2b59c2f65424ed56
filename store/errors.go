package store

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned (wrapped) when a project does not exist.
var ErrNotFound = errors.New("not found")

// ErrNewerSchema is returned (wrapped) by Open when the database was migrated
// by a newer devport than this one: its schema is left untouched.
var ErrNewerSchema = errors.New("database schema is newer than this devport")

// ValidationError reports input the store refuses. It names the field (for
// example "name", "domain", "folder", "service", "stack", "path prefix" or
// "url"), the bad value, why it is refused and how to fix it. Error() is one
// line, for example:
//
//	domain "Shop.com": must end in .test or .localhost; use --domain shop.test
type ValidationError struct {
	Field  string // what was wrong, in the words a user knows
	Value  string // the value as the user gave it
	Reason string // why it is refused
	Fix    string // what to do instead; may be empty
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q: %s", e.Field, e.Value, oneLine(e.Reason))
	if e.Fix != "" {
		b.WriteString("; ")
		b.WriteString(oneLine(e.Fix))
	}
	return b.String()
}

// oneLine keeps a message on one line whatever went into it.
func oneLine(s string) string {
	return lineBreaks.Replace(s)
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")
