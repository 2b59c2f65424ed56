// Package pathprefix holds the one rule for a route's path prefix, which
// the store (devport add, devport route) and devport.toml's validation both
// apply, so that a prefix one accepts the other never refuses.
package pathprefix

import "strings"

// Problem says why p is not a path prefix, or "" when it is one: "" (meaning
// "/"), "/" or a clean absolute path without a trailing slash such as "/api"
// or "/api/v1". The reason completes a sentence about p ("must start with
// "/"").
func Problem(p string) string {
	switch {
	case p == "" || p == "/":
		return ""
	case !strings.HasPrefix(p, "/"):
		return `must start with "/"`
	case strings.HasSuffix(p, "/"):
		return `must not end with "/"`
	case strings.Contains(p, "//"):
		return `must not contain "//"`
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f || r == '?' || r == '#' || r == '\\' {
			return `may not contain spaces, control characters, "?", "#" or "\"`
		}
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			return `must not contain "." or ".." segments`
		}
	}
	return ""
}
