//go:build unix && !linux

package stacks

import "testing"

// assertServerNotRoot reads /proc, which only Linux has.
func assertServerNotRoot(t *testing.T, _ Runner, _ string) {
	t.Helper()
	requireLinux(t)
}
