package stacks

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/shellquote"
	"github.com/devport/devport/internal/stackdef"
)

// procEntry is one process as /proc/PID/stat shows it.
type procEntry struct {
	pid, ppid, pgid int
	state           byte
	start           uint64 // clock ticks after boot
	cmd             string
}

// readProcEntry reads /proc/PID/stat; ok is false when the process is gone.
func readProcEntry(pid int) (procEntry, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procEntry{}, false
	}
	i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if i < 0 || j < i {
		return procEntry{}, false
	}
	f := bytes.Fields(b[j+1:])
	if len(f) < 20 {
		return procEntry{}, false
	}
	e := procEntry{pid: pid, state: f[0][0], cmd: string(b[i+1 : j])}
	e.ppid, _ = strconv.Atoi(string(f[1]))
	e.pgid, _ = strconv.Atoi(string(f[2]))
	e.start, _ = strconv.ParseUint(string(f[19]), 10, 64)
	return e, true
}

// allProcs lists every process.
func allProcs(t *testing.T) []procEntry {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	var out []procEntry
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if e, ok := readProcEntry(pid); ok {
			out = append(out, e)
		}
	}
	return out
}

// treeOf lists pid and every process below it.
func treeOf(t *testing.T, pid int) []procEntry {
	t.Helper()
	procs := allProcs(t)
	in := map[int]bool{pid: true}
	for grew := true; grew; {
		grew = false
		for _, p := range procs {
			if !in[p.pid] && in[p.ppid] {
				in[p.pid], grew = true, true
			}
		}
	}
	var out []procEntry
	for _, p := range procs {
		if in[p.pid] {
			out = append(out, p)
		}
	}
	return out
}

// survivors are the processes of tree that still run: same pid and start
// time (not a reused pid), and not a zombie.
func survivors(tree []procEntry) []procEntry {
	var out []procEntry
	for _, p := range tree {
		if now, ok := readProcEntry(p.pid); ok && now.start == p.start && now.state != 'Z' && now.state != 'X' {
			out = append(out, now)
		}
	}
	return out
}

func describe(ps []procEntry) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\n  pid %d ppid %d pgid %d %c %s", p.pid, p.ppid, p.pgid, p.state, p.cmd)
	}
	return b.String()
}

// beSubreaper makes the test process the subreaper of what it starts, for
// the test's lifetime, so that orphans come back to it (and can be reaped)
// rather than to an init that may never reap them.
func beSubreaper(t *testing.T) {
	t.Helper()
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		t.Skipf("prctl(PR_SET_CHILD_SUBREAPER): %v", e)
	}
	t.Cleanup(func() { syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 0, 0) })
}

// reap collects the zombies among pids that are this process's children.
func reap(pids []int) {
	for _, pid := range pids {
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
}

// killTree kills what is left of tree and reaps what comes back to this
// process: the cleanup of a test whose backends outlived their engine.
func killTree(tree []procEntry) {
	var pids []int
	for _, p := range survivors(tree) {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
		pids = append(pids, p.pid)
	}
	for range 100 {
		reap(pids)
		if len(survivors(tree)) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// engineHelper is a running test binary that plays the engine (see
// runEngineHelper).
type engineHelper struct {
	cmd    *exec.Cmd
	report engineHelperReport
}

// startEngineHelper starts an engine stand-in with cfg and waits until its
// backends answered.
func startEngineHelper(t *testing.T, cfg engineHelperConfig) *engineHelper {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), engineHelperEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &engineHelper{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() { // ends when the helper's stdout closes
		defer close(lines)
		if sc := bufio.NewScanner(out); sc.Scan() {
			lines <- sc.Text()
		}
	}()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("the engine stand-in exited before it reported")
		}
		if err := json.Unmarshal([]byte(l), &h.report); err != nil {
			t.Fatalf("engine stand-in said %q: %v", l, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the engine stand-in did not start its backends in 30 s")
	}
	if h.report.Err != "" {
		t.Fatalf("engine stand-in: %s", h.report.Err)
	}
	return h
}

// TestNoOrphanAfterEngineKill starts Apache (prefork: a master and its
// children), gunicorn (an arbiter and 2 workers), uWSGI (a master and 2
// workers) and a before_start hook that left processes behind (one in the
// background, one in a session of its own) from a process that plays the
// engine, SIGKILLs that process, and checks by walking /proc that nothing
// of any of those trees is left running. Pdeathsig alone reaches only the
// direct children: Apache's children and gunicorn's workers used to go on
// serving with ppid 1.
func TestNoOrphanAfterEngineKill(t *testing.T) {
	requireLinux(t)
	for _, s := range []string{stackdef.PHP, stackdef.Gunicorn, stackdef.UWSGI} {
		requireStack(t, s)
	}
	beSubreaper(t)

	php := testSpec(t, stackdef.PHP, map[string]string{"index.php": "<?php echo 1;"})
	gunicorn := pyServerSpec(t, pyServerCases[0], nil)
	uwsgi := pyServerSpec(t, pyServerCases[2], nil)
	specs := []Spec{php, gunicorn, uwsgi}
	for i := range specs {
		specs[i].StopTimeout = 2 * time.Second
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	hook := []string{"/bin/sh", "-c", shellquote.Join([]string{self, escapeArg}) + " & sleep 299 & exec sleep 300"}
	h := startEngineHelper(t, engineHelperConfig{Specs: specs, Hook: hook, Supervised: true})

	// Wait until every tree is complete: Apache's children, the workers
	// and the hook's processes fork after the first answer.
	var tree []procEntry
	want := map[string]int{"apache2": 3, "gunicorn": 3, "uwsgi": 3, "sleep": 2, "stacks.test": 2}
	deadline := time.Now().Add(10 * time.Second)
	for {
		tree = treeOf(t, h.cmd.Process.Pid)
		have := map[string]int{}
		for _, p := range tree {
			for name := range want {
				if strings.Contains(p.cmd, name) || (name == "gunicorn" && p.cmd == "python3") {
					have[name]++
				}
			}
		}
		complete := true
		for name, n := range want {
			complete = complete && have[name] >= n
		}
		if complete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trees did not fill in 10 s (have %v, want %v):%s", have, want, describe(tree))
		}
		time.Sleep(50 * time.Millisecond)
	}
	tree = slices.DeleteFunc(tree, func(p procEntry) bool { return p.pid == h.cmd.Process.Pid })
	t.Cleanup(func() { killTree(tree) })
	t.Logf("the engine's %d processes:%s", len(tree), describe(tree))

	killed := time.Now()
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait()
	var pids []int
	for _, p := range tree {
		pids = append(pids, p.pid)
	}
	const within = 5 * time.Second // the backends' StopTimeout (2 s) and a margin
	for {
		reap(pids) // the supervisors come back to this subreaper
		left := survivors(tree)
		if len(left) == 0 {
			t.Logf("nothing left %s after the engine was killed", time.Since(killed).Round(time.Millisecond))
			break
		}
		if time.Since(killed) > within {
			t.Fatalf("%d processes still run %s after the engine was killed:%s", len(left), within, describe(left))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
