package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestCrashRecovery kills a backend: the engine starts it again by itself
// with backoff, and gives up, saying why, when the app itself is broken.
func TestCrashRecovery(t *testing.T) {
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	testenv.Tool(t, "curl")
	e := newEnv(t)
	dir := e.copyExample("fastapi-api", "api")
	e.mustRun("add", dir)
	port := freePort(t)
	g := e.serve("--start", "api", "--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	ca := strings.TrimSpace(e.mustRun("ca"))
	site := []string{"--cacert", ca, "--resolve", fmt.Sprintf("api.test:%d:127.0.0.1", port), fmt.Sprintf("https://api.test:%d/", port)}

	status := func() (state, reason string) {
		var ps []struct{ State, Reason string }
		if err := json.Unmarshal([]byte(e.mustRun("ls", "--json")), &ps); err != nil || len(ps) != 1 {
			t.Fatalf("ls: %v %+v", err, ps)
		}
		return ps[0].State, ps[0].Reason
	}
	killBackend := func() {
		t.Helper()
		left := processesMentioning(filepath.Join(e.home, "run", "api-web"))
		if len(left) == 0 {
			t.Fatal("no uvicorn process to kill")
		}
		for _, p := range left {
			var pid int
			fmt.Sscan(p, &pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	waitFor := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !cond() {
			if time.Now().After(deadline) {
				st, why := status()
				t.Fatalf("not %s after %v (state %s: %s)\n%s", what, limit, st, why, g.output())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	t.Run("a crashed backend comes back by itself", func(t *testing.T) {
		killBackend()
		waitFor("crashed", 5*time.Second, func() bool { st, _ := status(); return st == "crashed" })
		waitFor("running again", 15*time.Second, func() bool { st, _ := status(); return st == "running" })
		if body := curl(t, site...); !strings.Contains(body, "from fastapi-api") {
			t.Errorf("after the restart: %s", body)
		}
	})
	t.Run("a broken app is given up on, with the reason", func(t *testing.T) {
		breakApp(t, dir, "broken on purpose")
		killBackend()
		waitFor("given up", 60*time.Second, func() bool {
			st, why := status()
			return st == "failed" && strings.Contains(why, "crashed 5 times") && strings.Contains(why, "broken on purpose")
		})
		if left := processesMentioning(filepath.Join(e.home, "run", "api-web")); len(left) > 0 {
			t.Errorf("failed restarts left processes: %v", left)
		}
	})
	if err := g.stop(t); err != nil {
		t.Errorf("engine exit: %v\n%s", err, g.output())
	}
}
