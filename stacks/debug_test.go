//go:build unix

package stacks

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
	"github.com/docker/go-connections/nat"
)

// TestDebugServes runs the Python stacks under debugpy, on a free port
// rather than 5678: the app still answers through the proxy's socket, a
// DAP client's initialize gets its response, and Stop closes the port.
func TestDebugServes(t *testing.T) {
	const wsgiApp = "def app(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'hello']\n"
	const asgiApp = "async def app(scope, receive, send):\n    if scope['type'] != 'http':\n        return\n" +
		"    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n" +
		"    await send({'type': 'http.response.body', 'body': b'hello'})\n"
	for _, tc := range []struct {
		stack, app string
	}{
		{stackdef.Uvicorn, asgiApp},
		{stackdef.Gunicorn, asgiApp},
		{stackdef.WSGI, wsgiApp},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			requireStack(t, tc.stack)
			testenv.Debugpy(t)
			spec := testSpec(t, tc.stack, map[string]string{"main.py": tc.app})
			spec.App = "main:app"
			spec.Workers = 3 // the debugger asks for one
			spec.Debug, spec.DebugPort = true, freePort(t)
			r := mustRunner(t, spec)
			up := startRunner(t, r)
			if status, body := get(t, up, "/", nil); status != 200 || body != "hello" {
				t.Fatalf("GET / = %d %q", status, body)
			}
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(spec.DebugPort))
			if err := testenv.DAPInitialize(addr, 10*time.Second); err != nil {
				t.Fatalf("DAP initialize on %s: %v", addr, err)
			}
			if tc.stack != stackdef.Uvicorn {
				if n := workerCount(t, r); n != 1 {
					t.Errorf("gunicorn runs %d workers under the debugger, want 1", n)
				}
			}
			stopRunner(t, r)
			deadline := time.Now().Add(5 * time.Second)
			for {
				c, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					break
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatalf("debugpy still listens on %s after Stop", addr)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// workerCount counts gunicorn's workers in r's process group: every
// process there but the arbiter (the group's leader) and debugpy's
// adapter.
func workerCount(t *testing.T, r *procRunner) int {
	t.Helper()
	pgid := strconv.Itoa(pgidOf(t, r))
	out, err := exec.Command(testenv.Tool(t, "pgrep"), "-a", "-g", pgid).Output()
	if err != nil {
		t.Fatalf("pgrep the group: %v", err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pid, cmd, _ := strings.Cut(line, " ")
		if pid != pgid && !strings.Contains(cmd, "debugpy/adapter") {
			n++
		}
	}
	if n != 1 {
		t.Logf("the group:\n%s", out)
	}
	return n
}

// TestDebugPortTaken: a taken debug port fails Start with an error that
// names it, before the backend runs.
func TestDebugPortTaken(t *testing.T) {
	requireStack(t, stackdef.Uvicorn)
	testenv.Debugpy(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	spec := testSpec(t, stackdef.Uvicorn, map[string]string{"main.py": "async def app(scope, receive, send):\n    pass\n"})
	spec.App = "main:app"
	spec.Debug, spec.DebugPort = true, l.Addr().(*net.TCPAddr).Port
	r := mustRunner(t, spec)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err = r.Start(ctx)
	if err == nil {
		stopRunner(t, r)
		t.Fatal("Start succeeded on a taken debug port")
	}
	if !errors.Is(err, ErrDebugPortInUse) || !strings.Contains(err.Error(), l.Addr().String()) {
		t.Errorf("Start = %v, want ErrDebugPortInUse naming %s", err, l.Addr())
	}
}

// TestDebugContainerPlan: the container runtime runs the server under
// debugpy on the container's 5678, published on 127.0.0.1:DebugPort only,
// after a check that says to add debugpy to requirements.txt; uWSGI
// refuses.
func TestDebugContainerPlan(t *testing.T) {
	for _, tc := range []struct {
		stack, run string
	}{
		{stackdef.Uvicorn, `"$PY" -Xfrozen_modules=off -m debugpy --listen 0.0.0.0:5678 -m uvicorn main:app`},
		{stackdef.Gunicorn, `"$PY" -Xfrozen_modules=off -m debugpy --listen 0.0.0.0:5678 -m gunicorn -k uvicorn.workers.UvicornWorker -w 1 --timeout 0 `},
		{stackdef.WSGI, `"$PY" -Xfrozen_modules=off -m debugpy --listen 0.0.0.0:5678 -m gunicorn -w 1 --timeout 0 `},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			s := testSpec(t, tc.stack, nil)
			s.App, s.Home, s.Workers = "main:app", t.TempDir(), 4
			s.Debug, s.DebugPort = true, 5999
			p, err := planPython(s, "python:3.12-slim")
			if err != nil {
				t.Fatal(err)
			}
			script := string(p.files[containerEntry])
			for _, want := range []string{tc.run, "add debugpy to requirements.txt"} {
				if !strings.Contains(script, want) {
					t.Errorf("script lacks %q:\n%s", want, script)
				}
			}
			_, bindings := p.portBindings()
			if got := bindings[nat.Port("5678/tcp")]; len(got) != 1 || got[0].HostIP != "127.0.0.1" || got[0].HostPort != "5999" {
				t.Errorf("debugpy's port is published as %+v, want 127.0.0.1:5999", got)
			}
			s.Debug = false
			q, err := planPython(s, "python:3.12-slim")
			if err != nil {
				t.Fatal(err)
			}
			if q.hash() == p.hash() || strings.Contains(string(q.files[containerEntry]), "debugpy") {
				t.Error("debugging off plans the same container")
			}
		})
	}
	t.Run("uwsgi", func(t *testing.T) {
		s := testSpec(t, stackdef.UWSGI, nil)
		s.App, s.Home, s.Debug = "main:app", t.TempDir(), true
		if _, err := planPython(s, "python:3.12-slim"); !errors.Is(err, ErrNoDebugger) {
			t.Errorf("planPython = %v, want ErrNoDebugger", err)
		}
	})
}
