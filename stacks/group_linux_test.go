package stacks

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// TestKillGroups: an engine without supervisors (or whose supervisors were
// killed too) leaves Apache's children and gunicorn's workers running when
// it is SIGKILLed; the next engine kills them from the groups the first
// one recorded, and nothing else.
func TestKillGroups(t *testing.T) {
	requireLinux(t)
	requireStack(t, stackdef.PHP)
	requireStack(t, stackdef.Gunicorn)
	beSubreaper(t)

	php := testSpec(t, stackdef.PHP, map[string]string{"index.php": "<?php echo 1;"})
	gunicorn := pyServerSpec(t, pyServerCases[0], nil)
	h := startEngineHelper(t, engineHelperConfig{Specs: []Spec{php, gunicorn}})
	if len(h.report.Groups) != 2 {
		t.Fatalf("groups = %+v, want 2", h.report.Groups)
	}
	var tree []procEntry
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		tree = treeOf(t, h.cmd.Process.Pid)
		if len(tree) >= 7 || time.Now().After(deadline) { // the helper, Apache and 2 children, gunicorn and 2 workers
			break
		}
	}
	t.Cleanup(func() { killTree(tree) })
	for _, g := range h.report.Groups {
		if g.Pgid == 0 || g.Start == 0 || g.Boot == "" || g.Token == "" {
			t.Fatalf("incomplete group %+v", g)
		}
	}
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait()
	// Pdeathsig took the leaders; their children go on.
	var left []procEntry
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left = survivors(tree[1:])
		if len(left) <= 4 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) != 4 {
		t.Fatalf("after the engine's SIGKILL, %d processes run, want the 4 orphaned workers:%s", len(left), describe(left))
	}

	// A process that is not devport's (this test binary, leading a group
	// of its own), under a recorded group's id: a reused pid (another start
	// time, no token), or a record from another boot.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	other := exec.Command(self, escapeArg)
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	var op procEntry
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		p, ok := readProcEntry(other.Process.Pid)
		if !ok {
			t.Fatal("the process is gone")
		}
		if op = p; p.pgid == p.pid || time.Now().After(deadline) { // it called setsid
			break
		}
	}
	groups := append(h.report.Groups,
		Group{Pgid: op.pid, Start: op.start + 1, Boot: bootID(), Token: "reused-pid"},
		Group{Pgid: op.pid, Start: op.start, Boot: "another-boot", Token: "old-boot"},
	)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	n, err := KillGroups(ctx, groups)
	if err != nil {
		t.Fatalf("KillGroups: %v", err)
	}
	var pids []int
	for _, p := range tree {
		pids = append(pids, p.pid)
	}
	reap(pids)
	if n != 4 {
		t.Errorf("KillGroups killed %d processes, want the 4 workers", n)
	}
	if left := survivors(tree); len(left) != 0 {
		t.Errorf("left after KillGroups:%s", describe(left))
	}
	if now, ok := readProcEntry(op.pid); !ok || now.start != op.start || now.state == 'Z' {
		t.Errorf("KillGroups killed process %d, whose start time or boot was not the recorded one", op.pid)
	}

	t.Run("a verified leader takes its group", func(t *testing.T) {
		n, err := KillGroups(ctx, []Group{{Pgid: op.pid, Start: op.start, Boot: bootID()}})
		if err != nil || n != 1 {
			t.Fatalf("KillGroups = %d, %v; want 1 killed", n, err)
		}
		_ = other.Wait()
		if !other.ProcessState.Exited() && other.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("process ended with %v, want SIGKILL", other.ProcessState)
		}
	})
	t.Run("nothing to do", func(t *testing.T) {
		if n, err := KillGroups(ctx, nil); n != 0 || err != nil {
			t.Errorf("KillGroups(nil) = %d, %v", n, err)
		}
	})
}
