package stacks

import (
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// TestDataNoOrphanAfterEngineKill starts PostgreSQL (a postmaster and its
// helpers) and MariaDB from a process that plays the engine, SIGKILLs it,
// and checks that nothing of either is left: with a supervisor, and
// without one, where only the parent-death signal reaches the server (as
// root, setpriv must keep it across the change of account, which clears
// it).
func TestDataNoOrphanAfterEngineKill(t *testing.T) {
	tests := []struct {
		name       string
		stack      string
		server     string // the name of the server's processes
		supervised bool
	}{
		{name: "postgres under the supervisor", stack: stackdef.Postgres, server: "postgres", supervised: true},
		{name: "mariadb without a supervisor", stack: stackdef.MariaDB, server: "mariadbd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireStack(t, tc.stack)
			beSubreaper(t)
			spec := dataSpec(t, tc.stack)
			spec.StopTimeout = 2 * time.Second
			h := startEngineHelper(t, engineHelperConfig{Specs: []Spec{spec}, Supervised: tc.supervised})
			var tree []procEntry
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				tree = treeOf(t, h.cmd.Process.Pid)
				if slices.ContainsFunc(tree, func(p procEntry) bool { return strings.Contains(p.cmd, tc.server) }) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no %s below the engine:%s", tc.server, describe(tree))
				}
			}
			tree = slices.DeleteFunc(tree, func(p procEntry) bool { return p.pid == h.cmd.Process.Pid })
			t.Cleanup(func() { killTree(tree) })
			t.Logf("the engine's processes:%s", describe(tree))

			killed := time.Now()
			if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = h.cmd.Wait()
			var pids []int
			for _, p := range tree {
				pids = append(pids, p.pid)
			}
			for within := 8 * time.Second; ; time.Sleep(20 * time.Millisecond) {
				reap(pids)
				left := survivors(tree)
				if len(left) == 0 {
					t.Logf("nothing left %s after the engine was killed", time.Since(killed).Round(time.Millisecond))
					break
				}
				if time.Since(killed) > within {
					t.Fatalf("%d processes still run %s after the engine was killed:%s", len(left), within, describe(left))
				}
			}
		})
	}
}
