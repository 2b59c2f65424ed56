package resolve

import (
	"fmt"
	"slices"
	"strings"
)

// normalizeName lower-cases a host name, drops one trailing dot and checks
// that it is a plain DNS name, so that nothing else (a space, a '#', a
// newline) can ever reach the hosts file.
func normalizeName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	if n == "" {
		return "", fmt.Errorf("name %q: empty: give a host name such as shop.test", name)
	}
	if len(n) > 253 {
		return "", fmt.Errorf("name %q: longer than 253 characters", name)
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("name %q: each dot-separated label must be 1 to 63 characters", name)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("name %q: a label may not start or end with '-'", name)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("name %q: only letters, digits, '-' and '_' are allowed", name)
			}
		}
	}
	return n, nil
}

// normalizeNames normalizes, sorts and de-duplicates names.
func normalizeNames(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, name := range names {
		n, err := normalizeName(name)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// normalizeTLD turns "test", ".test" or "test." into the fully qualified
// form "test." that DNS messages carry.
func normalizeTLD(tld string) (string, error) {
	n, err := normalizeName(strings.TrimPrefix(strings.TrimSpace(tld), "."))
	if err != nil {
		return "", fmt.Errorf("TLD: %w", err)
	}
	return n + ".", nil
}

// underTLD reports whether the fully qualified, lower-case name fqdn lies
// strictly under the fully qualified tld ("shop.test." under "test.").
func underTLD(fqdn, tld string) bool {
	return len(fqdn) > len(tld) && strings.HasSuffix(fqdn, "."+tld)
}
