package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// debugAddr is where devport debug has debugpy listen: VS Code's default.
const debugAddr = "127.0.0.1:5678"

// TestDebug checks devport debug against the real binary and a running
// engine: `debug NAME on` restarts a uvicorn project under debugpy, which
// answers a DAP initialize on 127.0.0.1:5678; `off` closes the port; and
// `on` while something else holds the port fails naming it. The port is
// fixed, so a machine where it is taken fails this test with the reason
// rather than skipping it.
func TestDebug(t *testing.T) {
	testenv.Need(t, "Debian's python3 with uvicorn and FastAPI", haveUvicorn(), "apt-get install python3-uvicorn python3-fastapi")
	testenv.Debugpy(t)
	if l, err := net.Listen("tcp", debugAddr); err != nil {
		t.Fatalf("this test needs %s, debugpy's port, and it is taken: %v (sudo ss -ltnp 'sport = :5678' shows by what)", debugAddr, err)
	} else {
		l.Close()
	}
	e := newEnv(t)
	dir := filepath.Join(e.root, "dbg")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	app := "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\ndef root():\n    return 'hi'\n"
	if err := os.WriteFile(filepath.Join(dir, "main.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("add", dir, "--stack", "uvicorn", "--app", "main:app")
	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)), "--start", "dbg")
	defer func() {
		if err := g.stop(t); err != nil {
			t.Errorf("engine exit: %v\n%s", err, g.output())
		}
	}()

	out := e.mustRun("debug", "dbg", "on")
	if !strings.Contains(out, debugAddr) || !strings.Contains(out, "running") {
		t.Errorf("debug on said %q, want the address and the running state", out)
	}
	if err := testenv.DAPInitialize(debugAddr, 15*time.Second); err != nil {
		t.Fatalf("DAP initialize on %s after debug on: %v\n%s", debugAddr, err, g.output())
	}

	e.mustRun("debug", "dbg", "off")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", debugAddr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still answers after debug off", debugAddr)
		}
		time.Sleep(100 * time.Millisecond)
	}

	l, err := net.Listen("tcp", debugAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := e.run("debug", "dbg", "on")
	t.Logf("debug on with the port taken: %s", strings.TrimSpace(r.stderr))
	if r.code == 0 || !strings.Contains(r.stderr, debugAddr) {
		t.Errorf("debug on with %s taken: exit %d, stderr %q; want a failure naming the port", debugAddr, r.code, r.stderr)
	}
}
