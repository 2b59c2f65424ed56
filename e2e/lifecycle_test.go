package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// lsState is the state and reason `devport ls --json` gives a project.
func (e *env) lsState(name string) (state, reason string) {
	e.t.Helper()
	var ps []struct{ Name, State, Reason string }
	if err := json.Unmarshal([]byte(e.mustRun("ls", "--json")), &ps); err != nil {
		e.t.Fatalf("ls --json: %v", err)
	}
	for _, p := range ps {
		if p.Name == name {
			return p.State, p.Reason
		}
	}
	e.t.Fatalf("ls --json has no project %s", name)
	return "", ""
}

// writeApp writes a FastAPI app (and a devport.toml) into a new folder.
func (e *env) writeApp(files map[string]string) string {
	e.t.Helper()
	dir := filepath.Join(e.root, "app-"+fmt.Sprint(time.Now().UnixNano()))
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	return dir
}

// TestCrashLoopGivesUp is an app that starts fine, answers, and exits a
// second later, again and again (as a broken worker does). Crashes are
// counted in a window, not since the last good start: five in a minute
// make the project "failed", with the log's last lines, and the engine
// stops restarting it. before_start runs once, for the user's start,
// never for the engine's own restarts.
func TestCrashLoopGivesUp(t *testing.T) {
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	e := newEnv(t)
	hookLog := filepath.Join(e.root, "hook-runs")
	dir := e.writeApp(map[string]string{
		"main.py": `import os, sys, threading
from fastapi import FastAPI
app = FastAPI()

def die():
    print("dying on purpose after a good start", file=sys.stderr, flush=True)
    os._exit(3)

threading.Timer(1.0, die).start()

@app.get("/")
def index():
    return {"hello": "briefly"}
`,
		"devport.toml": fmt.Sprintf("name = \"loop\"\n[services.web]\nstack = \"uvicorn\"\napp = \"main:app\"\n[hooks]\nbefore_start = \"echo ran >> %s\"\n", hookLog),
	})
	e.mustRun("add", dir)
	g := e.serve("--start", "loop", "--https-port", fmt.Sprint(freePort(t)), "--http-port", fmt.Sprint(freePort(t)))
	defer g.stop(t)

	deadline := time.Now().Add(75 * time.Second)
	var state, reason string
	for time.Now().Before(deadline) {
		if state, reason = e.lsState("loop"); state == "failed" {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if state != "failed" {
		t.Fatalf("after 75 s the project is %q (%s), want failed\n%s", state, reason, g.output())
	}
	if !strings.Contains(reason, "crashed 5 times") || !strings.Contains(reason, "dying on purpose") {
		t.Errorf("reason %q does not say how often it crashed and the log's last lines", reason)
	}
	// Given up means given up: no backend comes back.
	time.Sleep(3 * time.Second)
	if st, _ := e.lsState("loop"); st != "failed" {
		t.Errorf("a failed project came back as %q", st)
	}
	assertNoProcesses(t, filepath.Join(e.home, "run", "loop-web"))
	runs, _ := os.ReadFile(hookLog)
	if n := strings.Count(string(runs), "ran"); n != 1 {
		t.Errorf("before_start ran %d times, want once (for the user's start only)", n)
	}
	// A start by the user tries again, from a clean count.
	r := e.run("start", "loop")
	if st, _ := e.lsState("loop"); r.code != 0 || (st != "running" && st != "crashed") {
		t.Errorf("start after failed: exit %d, state %s\n%s%s", r.code, st, r.stdout, r.stderr)
	}
	e.run("stop", "loop")
}

// TestStopWins starts a project whose before_start hook hangs (sleep 300,
// as a stuck `composer install` would), then stops, removes, or quits
// the engine: each wins at once, the hook's whole process group is gone,
// and the start in progress fails rather than finishing later.
func TestStopWins(t *testing.T) {
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	tests := []struct {
		name string
		args func(project string) []string
		// after is the state ls must show afterwards ("" when the
		// project or the engine is gone).
		after string
	}{
		{"stop", func(p string) []string { return []string{"stop", p} }, "stopped"},
		{"rm", func(p string) []string { return []string{"rm", p} }, ""},
		{"quit", func(string) []string { return []string{"quit"} }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			// sleep takes fractions: the duration marks this test's processes.
			marker := fmt.Sprintf("300.%d", time.Now().UnixNano()%1e9)
			dir := e.writeApp(map[string]string{
				"main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
				// A child of the hook, in the hook's group: it must die too.
				"devport.toml": fmt.Sprintf("name = \"hang\"\n[services.web]\nstack = \"uvicorn\"\napp = \"main:app\"\n[hooks]\nbefore_start = \"sh -c 'sleep %s' & sleep %s\"\n", marker, marker),
			})
			e.mustRun("add", dir)
			g := e.serve("--https-port", fmt.Sprint(freePort(t)), "--http-port", fmt.Sprint(freePort(t)))
			defer func() {
				if tc.name != "quit" {
					g.stop(t)
				}
			}()
			start := exec.Command(bin, "start", "hang")
			start.Env = e.environ()
			startDone := make(chan error, 1)
			if err := start.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { startDone <- start.Wait() }()
			t.Cleanup(func() { _ = start.Process.Kill() })
			waitUntil(t, 20*time.Second, "the hook runs", func() bool { return len(processesMentioning("sleep "+marker)) >= 2 })

			began := time.Now()
			r := e.run(tc.args("hang")...)
			took := time.Since(began)
			if r.code != 0 {
				t.Fatalf("devport %s: exit %d\n%s%s", tc.name, r.code, r.stdout, r.stderr)
			}
			if took > 10*time.Second {
				t.Errorf("devport %s took %v while a start hung in its hook: it must win at once", tc.name, took)
			}
			select {
			case err := <-startDone:
				if err == nil {
					t.Errorf("the interrupted start succeeded")
				}
			case <-time.After(10 * time.Second):
				t.Errorf("the interrupted start still runs 10 s after %s", tc.name)
			}
			assertNoProcesses(t, marker)
			switch tc.after {
			case "stopped":
				if st, why := e.lsState("hang"); st != "stopped" {
					t.Errorf("after stop: %s (%s)", st, why)
				}
			}
			if tc.name == "quit" {
				select {
				case <-g.done:
				case <-time.After(30 * time.Second):
					t.Errorf("the engine still runs 30 s after quit")
				}
			}
		})
	}
}

// waitUntil polls cond until it holds or limit passes.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAccessLogDiskFull points a project's access log at /dev/full, where
// every write fails with ENOSPC as on a full disk: requests are still
// served, the engine says so once (not once per request), and when the
// log can be written again it says that too and logs again.
func TestAccessLogDiskFull(t *testing.T) {
	e := newEnv(t)
	site := e.writeApp(map[string]string{"index.html": "<p>static hello</p>\n"})
	e.mustRun("add", site, "--name", "full", "--stack", "static")
	logDir := filepath.Join(e.home, "logs", "full")
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(logDir, "access.log")
	if err := os.Symlink("/dev/full", logPath); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	defer g.stop(t)
	client := siteClient(t, e, port)
	fetch := func() {
		t.Helper()
		code, body, err := get(client, fmt.Sprintf("https://full.test:%d/", port))
		if err != nil || code != 200 || !strings.Contains(body, "static hello") {
			t.Fatalf("GET with the disk full: %d %v %q", code, err, body)
		}
	}
	for i := 0; i < 5; i++ {
		fetch()
	}
	waitUntil(t, 10*time.Second, "the engine says the log cannot be written", func() bool {
		return strings.Contains(g.output(), "access log cannot be written")
	})
	time.Sleep(500 * time.Millisecond)
	if n := strings.Count(g.output(), "access log cannot be written"); n != 1 {
		t.Errorf("said %d times, want once for the episode:\n%s", n, g.output())
	}
	// Space returns: the log is a file again.
	if err := os.Remove(logPath); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		fetch()
	}
	waitUntil(t, 10*time.Second, "the engine says the log is written again", func() bool {
		return strings.Contains(g.output(), "access log is written again")
	})
	waitUntil(t, 10*time.Second, "entries reach the log", func() bool {
		b, err := os.ReadFile(logPath)
		return err == nil && strings.Contains(string(b), `"status":200`)
	})
}
