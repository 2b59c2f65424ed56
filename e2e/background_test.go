package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestBackgroundEngine starts a project with no engine running: devport
// runs one in the background, on the ports the last engine used, and
// devport quit stops it and every backend.
func TestBackgroundEngine(t *testing.T) {
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	testenv.Tool(t, "curl")
	e := newEnv(t)
	e.mustRun("add", e.copyExample("php-shop", "shop"))
	port := freePort(t)
	// A foreground engine first, so the background one knows its ports.
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	if err := g.stop(t); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // never leave the background engine behind
		b, err := os.ReadFile(filepath.Join(e.home, "engine.lock"))
		if err != nil {
			return
		}
		var pid int
		fmt.Sscan(string(b), &pid)
		if pid > 0 && syscall.Kill(pid, 0) == nil {
			t.Errorf("background engine %d still running; killing it", pid)
			syscall.Kill(pid, syscall.SIGTERM)
			time.Sleep(2 * time.Second)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	r := e.run("start", "shop")
	if r.code != 0 {
		t.Fatalf("start: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "started a background engine") || !strings.Contains(r.stderr, "devport quit") {
		t.Errorf("start said: %s", r.stderr)
	}
	if want := fmt.Sprintf("shop is running at https://shop.test:%d/", port); !strings.Contains(r.stdout, want) {
		t.Errorf("start: %q, want %q", r.stdout, want)
	}
	ca := strings.TrimSpace(e.mustRun("ca"))
	body := curl(t, "--cacert", ca, "--resolve", fmt.Sprintf("shop.test:%d:127.0.0.1", port), fmt.Sprintf("https://shop.test:%d/", port))
	if !strings.Contains(body, "php-shop says hello") {
		t.Errorf("site: %s", body)
	}
	// A second start talks to the same engine instead of spawning another.
	if r := e.run("restart", "shop"); r.code != 0 || strings.Contains(r.stderr, "started a background engine") {
		t.Errorf("restart: exit %d: %s", r.code, r.stderr)
	}

	out := e.mustRun("quit")
	if !strings.Contains(out, "stopped the engine") {
		t.Errorf("quit: %s", out)
	}
	assertNoProcesses(t, e.root)
	if _, err := os.Stat(filepath.Join(e.home, "devport.sock")); err == nil {
		t.Error("control socket still there after quit")
	}
	if r := e.run("quit"); r.code == 0 || !strings.Contains(r.stderr, "no devport engine is running") {
		t.Errorf("second quit: exit %d: %s", r.code, r.stderr)
	}
}
