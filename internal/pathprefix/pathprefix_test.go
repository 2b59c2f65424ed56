package pathprefix

import (
	"regexp"
	"strings"
	"testing"
)

// apacheLinkRe is stacks' linkPrefixRe: what Apache's config carries for
// a chain prefix (stacks/link.go). Every prefix Problem accepts must match
// it, so that a route stored today never fails at start.
var apacheLinkRe = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+/?$`)

func TestProblem(t *testing.T) {
	tests := []struct {
		name, p string
		want    string // a substring of the reason; "" = valid
	}{
		{"empty is /", "", ""},
		{"root", "/", ""},
		{"one segment", "/api", ""},
		{"two segments", "/api/v1", ""},
		{"every allowed character", "/Az09._~-", ""},
		{"dots inside a segment", "/a.b/..c/.d", ""},

		{"relative", "api", `must start with "/"`},
		{"trailing slash", "/api/", `must not end with "/"`},
		{"double slash", "/a//b", `must not contain "//"`},
		{"dot segment", "/a/./b", `"." or ".."`},
		{"dot dot segment", "/a/..", `"." or ".."`},
		{"parenthesis", "/p(y", "may only contain"},
		{"shell variable", "/py${X}", "may only contain"},
		{"command substitution", "/api$(id>/tmp/x)", "may only contain"},
		{"equals (uWSGI --mount)", "/a=b", "may only contain"},
		{"space", "/a b", "may only contain"},
		{"quote", `/a"b`, "may only contain"},
		{"single quote", "/a'b", "may only contain"},
		{"semicolon", "/a;b", "may only contain"},
		{"braces", "/a{b}", "may only contain"},
		{"percent", "/a%20b", "may only contain"},
		{"query", "/a?b", "may only contain"},
		{"fragment", "/a#b", "may only contain"},
		{"backslash", `/a\b`, "may only contain"},
		{"newline", "/a\nb", "may only contain"},
		{"NUL", "/a\x00", "may only contain"},
		{"non-ASCII", "/café", "may only contain"},
		{"too long", "/" + strings.Repeat("a", 256), "at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Problem(tc.p)
			switch {
			case tc.want == "" && got != "":
				t.Errorf("Problem(%q) = %q, want valid", tc.p, got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("Problem(%q) = %q, want it to say %q", tc.p, got, tc.want)
			}
			if got == "" && tc.p != "" && tc.p != "/" && !apacheLinkRe.MatchString(tc.p) {
				t.Errorf("Problem accepts %q, which Apache's config cannot carry", tc.p)
			}
		})
	}
}
