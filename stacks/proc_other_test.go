//go:build !linux

package stacks

import "testing"

// The /proc helpers exist only on Linux; the tests that use them call
// requireLinux first.

func groupMembers(t *testing.T, _ int) []string { t.Skip("reads /proc"); return nil }

func assertGroupGone(t *testing.T, _ int) { t.Skip("reads /proc") }

func runningPgid(t *testing.T, _ string) int { t.Skip("reads /proc"); return 0 }
