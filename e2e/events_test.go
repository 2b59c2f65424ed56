package e2e

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestEventStreamAndShutdown follows the engine's event stream the way an
// attached window does: events for a project added by the CLI arrive, and
// an open stream does not hold up the engine's shutdown.
func TestEventStreamAndShutdown(t *testing.T) {
	testenv.Tool(t, "curl")
	e := newEnv(t)
	g := e.serve("--https-port", fmt.Sprint(freePort(t)), "--http-port", fmt.Sprint(freePort(t)))
	curl := exec.Command("curl", "-sN", "--unix-socket", filepath.Join(e.home, "devport.sock"), "http://devport/v1/events")
	out, err := curl.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := curl.Start(); err != nil {
		t.Fatal(err)
	}
	defer curl.Process.Kill()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(200 * time.Millisecond) // let the stream open before the change
	e.mustRun("add", "--name", "ext", "--proxy", "http://127.0.0.1:9")
	select {
	case l := <-lines:
		if !strings.Contains(l, `"Kind":"added"`) || !strings.Contains(l, `"Project":"ext"`) {
			t.Errorf("first event: %s", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s of devport add")
	}
	// The engine issues the new domain's certificate right away.
	select {
	case l := <-lines:
		if !strings.Contains(l, `"Kind":"cert-issued"`) || !strings.Contains(l, "ext.test") {
			t.Errorf("second event: %s", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no cert-issued event within 10s of devport add")
	}
	start := time.Now()
	if err := g.stop(t); err != nil {
		t.Errorf("engine exit: %v\n%s", err, g.output())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown with an open event stream took %v; the stream held it up", d)
	}
}
