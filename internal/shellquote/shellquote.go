// Package shellquote writes strings as a POSIX shell reads them back: the
// one rule that command lines shown to users, sh -c scripts in containers
// and the compose export all quote with.
package shellquote

import "strings"

// Quote is s as one shell word: as it is when every byte is safe
// unquoted, else in single quotes, where a single quote of s closes the
// quotes, is escaped with a backslash, and reopens them.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join is argv as a command line a user can paste into a shell.
func Join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

func safe(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,+@%", r)
}
