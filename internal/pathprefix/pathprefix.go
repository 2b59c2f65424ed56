// Package pathprefix holds the one rule for a route's path prefix, which
// the store (devport add, devport route) and devport.toml's validation both
// apply, so that a prefix one accepts the other never refuses.
//
// The rule is what every consumer of a prefix can carry without quoting
// tricks: Apache's config for a chain (stacks' linkPrefixRe), uWSGI's
// --mount PREFIX=APP, uvicorn's --root-path and gunicorn's SCRIPT_NAME on a
// command line or in compose's sh -c, and nginx's location. Segments are
// unreserved URL characters only (RFC 3986 section 2.3).
package pathprefix

import (
	"fmt"
	"strings"
)

// MaxLen is the longest prefix accepted.
const MaxLen = 255

// Problem says why p is not a path prefix, or "" when it is one: "" (meaning
// "/"), "/" or an absolute path without a trailing slash such as "/api" or
// "/api/v1", whose segments are letters, digits, ".", "_", "~" and "-", and
// none of them "." or "..". The reason completes a sentence about p ("must
// start with "/"").
func Problem(p string) string {
	switch {
	case p == "" || p == "/":
		return ""
	case !strings.HasPrefix(p, "/"):
		return `must start with "/"`
	case len(p) > MaxLen:
		return fmt.Sprintf("must be at most %d characters", MaxLen)
	}
	for i := 0; i < len(p); i++ {
		if !Allowed(p[i]) && p[i] != '/' {
			return `may only contain letters, digits, ".", "_", "~" and "-" between the slashes`
		}
	}
	switch {
	case strings.HasSuffix(p, "/"):
		return `must not end with "/"`
	case strings.Contains(p, "//"):
		return `must not contain "//"`
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			return `must not contain "." or ".." segments`
		}
	}
	return ""
}

// Allowed reports whether c may appear in a segment of a prefix.
func Allowed(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '~' || c == '-'
}
