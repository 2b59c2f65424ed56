package shellquote

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestQuoteRoundTrip: sh reads every quoted word back as it was.
func TestQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err) // dash is Essential on Debian
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", "/usr/bin/devport", "/usr/bin/devport"},
		{"empty", "", "''"},
		{"space", "a b", "'a b'"},
		{"single quote", "it's", `'it'\''s'`},
		{"command substitution", "$(id)", "'$(id)'"},
		{"newline", "a\nb", "'a\nb'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quote(tc.in); got != tc.want {
				t.Errorf("Quote(%q) = %q, want %q", tc.in, got, tc.want)
			}
			out, err := exec.Command(sh, "-c", "printf '%s\\0' "+Join([]string{tc.in, "x"})).Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"); !slices.Equal(got, []string{tc.in, "x"}) {
				t.Errorf("sh read %q back as %q", tc.in, got)
			}
		})
	}
}
