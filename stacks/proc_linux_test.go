package stacks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// groupMembers lists every process, zombies included, whose process group is
// pgid, as "pid state (comm)".
func groupMembers(t *testing.T, pgid int) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range stats {
		state, g, ok := procStat(p)
		if ok && g == pgid {
			b, _ := os.ReadFile(p)
			out = append(out, string(state)+" "+strings.TrimSpace(string(b[:min(len(b), 40)])))
		}
	}
	return out
}

// assertGroupGone fails when any process of group pgid is left.
func assertGroupGone(t *testing.T, pgid int) {
	t.Helper()
	if left := groupMembers(t, pgid); len(left) > 0 {
		t.Errorf("process group %d still has %d processes: %v", pgid, len(left), left)
	}
}

// runningPgid finds the process group of the live process whose command
// line mentions sock.
func runningPgid(t *testing.T, sock string) int {
	t.Helper()
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), sock) {
			continue
		}
		if state, g, ok := procStat(filepath.Join(filepath.Dir(p), "stat")); ok && state != 'Z' {
			return g
		}
	}
	return 0
}
