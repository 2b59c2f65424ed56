package stacks

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/shellquote"
	"github.com/devport/devport/internal/stackdef"
)

// supervisedSpec is a testSpec that runs under the test binary as its
// supervisor.
func supervisedSpec(t *testing.T, stack string, files map[string]string) Spec {
	t.Helper()
	spec := testSpec(t, stack, files)
	sup, err := testSupervisor()
	if err != nil {
		t.Fatal(err)
	}
	spec.Supervisor = sup
	return spec
}

// childOf is the first live child of pid.
func childOf(t *testing.T, pid int) procEntry {
	t.Helper()
	for _, p := range allProcs(t) {
		if p.ppid == pid && p.state != 'Z' {
			return p
		}
	}
	t.Fatalf("process %d has no child", pid)
	return procEntry{}
}

// TestSupervisedLifecycle runs backends under the supervisor and checks
// that the Runner's contract holds as without it: Stop takes the whole
// group down (escalating when the backend ignores SIGTERM), a crash of the
// backend itself reads as before, and a failed start keeps the app's words.
func TestSupervisedLifecycle(t *testing.T) {
	requireLinux(t)
	requireStack(t, stackdef.PHP)
	requireStack(t, stackdef.Uvicorn)

	t.Run("stop leaves nothing", func(t *testing.T) {
		t.Parallel()
		r := mustRunner(t, supervisedSpec(t, stackdef.PHP, phpSite))
		up := startRunner(t, r)
		if status, body := get(t, up, "/", nil); status != 200 || !strings.Contains(body, "front controller") {
			t.Fatalf("GET / = %d %s", status, body)
		}
		pgid := pgidOf(t, r)
		if n := len(groupMembers(t, pgid)); n < 3 {
			t.Errorf("group of %d processes, want the supervisor, Apache and its children", n)
		}
		exited := r.Exited()
		began := time.Now()
		stopRunner(t, r)
		t.Logf("stop took %s", time.Since(began).Round(time.Millisecond))
		assertGroupGone(t, pgid)
		if !isClosed(exited) || r.Err() != nil {
			t.Errorf("after Stop: Exited closed %v, Err %v", isClosed(exited), r.Err())
		}
	})
	t.Run("stop escalates", func(t *testing.T) {
		t.Parallel()
		spec := supervisedSpec(t, stackdef.Uvicorn, map[string]string{"main.py": stubbornApp})
		spec.App, spec.StopTimeout = "main:api", 600*time.Millisecond
		r := mustRunner(t, spec)
		startRunner(t, r)
		pgid := pgidOf(t, r)
		began := time.Now()
		stopRunner(t, r)
		took := time.Since(began)
		if maxTook := spec.StopTimeout + supervisorMargin; took < spec.StopTimeout || took > maxTook {
			t.Errorf("Stop took %s, want between %s and %s", took, spec.StopTimeout, maxTook)
		}
		assertGroupGone(t, pgid)
		if log := string(mustRead(t, spec.LogPath)); !strings.Contains(log, "still running 600ms after SIGTERM: killing it") {
			t.Errorf("the log does not say the supervisor killed it:\n%s", log)
		}
	})
	t.Run("the backend crashes", func(t *testing.T) {
		t.Parallel()
		spec := supervisedSpec(t, stackdef.Uvicorn, map[string]string{"main.py": fastAPIApp})
		spec.App = "main:api"
		r := mustRunner(t, spec)
		startRunner(t, r)
		exited := r.Exited()
		pgid := pgidOf(t, r)
		backend := childOf(t, pgid)
		if err := syscall.Kill(backend.pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, exited, 5*time.Second, "Exited after the backend was killed")
		if err := r.Err(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("Err = %v, want signal: killed", err)
		}
		assertGroupGone(t, pgid)
	})
	t.Run("a failed start keeps the app's words", func(t *testing.T) {
		t.Parallel()
		spec := supervisedSpec(t, stackdef.Uvicorn, map[string]string{"main.py": "x = 1\n"})
		spec.App = "nomodule:app"
		r := mustRunner(t, spec)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		_, err := r.Start(ctx)
		var se *StartError
		if !errors.As(err, &se) {
			t.Fatalf("Start = %v, want a *StartError", err)
		}
		if !strings.HasPrefix(se.Error(), "uvicorn exited at start: exit status 1") ||
			!strings.Contains(strings.Join(se.Tail, "\n"), `Could not import module "nomodule"`) {
			t.Errorf("StartError:\n%s", se)
		}
		stopRunner(t, r)
	})
	t.Run("bad arguments", func(t *testing.T) {
		for _, args := range [][]string{nil, {"-grace"}, {"-grace", "-1s", "true"}, {"--"}, {"-parent", "x", "true"}} {
			if got := Supervise(args); got != 2 {
				t.Errorf("Supervise(%q) = %d, want 2", args, got)
			}
		}
	})
	t.Run("an engine gone before the start starts nothing", func(t *testing.T) {
		// No process is its own parent.
		if got := Supervise([]string{"-parent", strconv.Itoa(os.Getpid()), "--", "/bin/sh", "-c", "exit 0"}); got != 1 {
			t.Errorf("Supervise with another parent = %d, want 1", got)
		}
	})
	t.Run("the parent-death signal while the engine lives is not a stop", func(t *testing.T) {
		t.Parallel()
		spec := supervisedSpec(t, stackdef.Uvicorn, map[string]string{"main.py": fastAPIApp})
		spec.App = "main:api"
		r := mustRunner(t, spec)
		up := startRunner(t, r)
		// As when the engine's thread that started it ends (Go retires a
		// thread whose goroutine exits locked to it).
		if err := syscall.Kill(pgidOf(t, r), parentDeathSignal); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * supervisorPoll)
		if isClosed(r.Exited()) {
			t.Fatalf("the backend stopped: %v", r.Err())
		}
		if got := getInfo(t, up, nil); got.Scheme != "http" {
			t.Errorf("no answer after the signal: %+v", got)
		}
	})
}

// TestSupervisedCommand runs a before_start hook that leaves processes
// behind, one of them in a session of its own, with and without the
// supervisor.
func TestSupervisedCommand(t *testing.T) {
	requireLinux(t)
	sup, err := testSupervisor()
	if err != nil {
		t.Fatal(err)
	}
	beSubreaper(t) // what escapes without a supervisor comes back here, to be cleaned up
	// The hook prints the pids of what it leaves behind.
	script := shellquote.Join([]string{sup[0], escapeArg}) + " & a=$!; sleep 299 & echo left $a $!; "
	tests := []struct {
		name       string
		supervisor []string
		script     string
		cancel     bool // cancel the context while it runs
		wantStatus int  // the hook's exit status, when it is not canceled
		// wantAll: nothing of the tree is left when Wait returns; else only
		// the group is gone (what left it needs the supervisor).
		wantAll bool
	}{
		{name: "finishes: its leftovers go with it", supervisor: sup, script: script + "exit 3", wantStatus: 3, wantAll: true},
		{name: "canceled: the tree goes", supervisor: sup, script: script + "exec sleep 300", cancel: true, wantAll: true},
		{name: "canceled without a supervisor: the group goes", script: script + "exec sleep 300", cancel: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			cmd := SupervisedCommand(ctx, tc.supervisor, time.Second, "/bin/sh", "-c", tc.script)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdout = w
			err = cmd.Start()
			w.Close()
			if err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(r).ReadString('\n') // the hook's first line, before it ends
			r.Close()
			tree := treeOf(t, cmd.Process.Pid)
			for _, f := range strings.Fields(strings.TrimPrefix(line, "left ")) {
				pid, _ := strconv.Atoi(f)
				if p, ok := readProcEntry(pid); ok && !slices.ContainsFunc(tree, func(q procEntry) bool { return q.pid == pid }) {
					tree = append(tree, p)
				}
			}
			t.Cleanup(func() { killTree(tree) })
			if tc.cancel {
				cancel()
			}
			began := time.Now()
			err = cmd.Wait()
			t.Logf("Wait after %s: %v; it had left %q", time.Since(began).Round(time.Millisecond), err, line)
			if !tc.cancel {
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != tc.wantStatus {
					t.Errorf("Wait = %v, want the hook's exit status %d", err, tc.wantStatus)
				}
			}
			// The supervisor returns once its tree is gone; without one, Wait
			// returns when the shell does, and the group follows it.
			running := survivors(tree)
			if !tc.wantAll {
				for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
					running = slices.DeleteFunc(survivors(tree), func(p procEntry) bool { return p.pgid != cmd.Process.Pid })
					if len(running) == 0 || time.Now().After(deadline) {
						break
					}
				}
			}
			if len(running) > 0 {
				t.Errorf("left after Wait:%s", describe(running))
			}
		})
	}
}
