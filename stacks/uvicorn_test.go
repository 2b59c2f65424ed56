//go:build unix

package stacks

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// fastAPIApp reports what the app sees of a request.
const fastAPIApp = `import os
from fastapi import FastAPI, Request

api = FastAPI()

@api.get("/info", name="info")
def info(request: Request):
    return {
        "scheme": request.url.scheme,
        "root_path": request.scope.get("root_path", ""),
        "url_for": str(request.url_for("info")),
        "client": request.client.host if request.client else None,
        "env": os.environ.get("DEVPORT_TEST_VAR"),
        "unbuffered": os.environ.get("PYTHONUNBUFFERED"),
        "cwd": os.getcwd(),
    }
`

type appInfo struct {
	Scheme, RootPath, URLFor, Client, Env, Unbuffered, Cwd string
}

func getInfo(t *testing.T, up Upstream, header http.Header) appInfo {
	t.Helper()
	status, body := get(t, up, "/info", header)
	if status != 200 {
		t.Fatalf("GET /info = %d %s", status, body)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	s := func(k string) string { v, _ := raw[k].(string); return v }
	return appInfo{s("scheme"), s("root_path"), s("url_for"), s("client"), s("env"), s("unbuffered"), s("cwd")}
}

func uvicornSpec(t *testing.T, files map[string]string) Spec {
	t.Helper()
	spec := testSpec(t, stackdef.Uvicorn, files)
	spec.Service = "api"
	spec.App = "main:api"
	return spec
}

func TestUvicornServes(t *testing.T) {
	requireStack(t, stackdef.Uvicorn)
	spec := uvicornSpec(t, map[string]string{"main.py": fastAPIApp})
	spec.PathPrefix = "/api"
	spec.Env = []string{"DEVPORT_TEST_VAR=from-spec"}
	r := mustRunner(t, spec)
	began := time.Now()
	up := startRunner(t, r)
	t.Logf("uvicorn ready on %s after %s", up, time.Since(began).Round(time.Millisecond))
	if want := filepath.Join(spec.RunDir, "api.sock"); up.Network != "unix" || up.Address != want {
		t.Fatalf("upstream = %+v, want unix %s", up, want)
	}

	tests := []struct {
		name   string
		header http.Header
		check  func(t *testing.T, got appInfo)
	}{
		{name: "root path honoured", check: func(t *testing.T, got appInfo) {
			if got.RootPath != "/api" || got.URLFor != "http://shop.test/api/info" {
				t.Errorf("root_path = %q, url_for = %q; want /api and http://shop.test/api/info", got.RootPath, got.URLFor)
			}
		}},
		{name: "X-Forwarded-Proto https makes the scheme https", header: http.Header{"X-Forwarded-Proto": {"https"}}, check: func(t *testing.T, got appInfo) {
			if got.Scheme != "https" || got.URLFor != "https://shop.test/api/info" {
				t.Errorf("scheme = %q, url_for = %q; want https", got.Scheme, got.URLFor)
			}
		}},
		{name: "plain http without the header", check: func(t *testing.T, got appInfo) {
			if got.Scheme != "http" {
				t.Errorf("scheme = %q, want http", got.Scheme)
			}
		}},
		{name: "client from X-Forwarded-For", header: http.Header{"X-Forwarded-For": {"203.0.113.7"}}, check: func(t *testing.T, got appInfo) {
			if got.Client != "203.0.113.7" {
				t.Errorf("client = %q, want 203.0.113.7", got.Client)
			}
		}},
		{name: "environment and working directory", check: func(t *testing.T, got appInfo) {
			if got.Env != "from-spec" || got.Unbuffered != "1" || got.Cwd != spec.Dir {
				t.Errorf("env = %q, PYTHONUNBUFFERED = %q, cwd = %q; want from-spec, 1, %s", got.Env, got.Unbuffered, got.Cwd, spec.Dir)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, getInfo(t, up, tc.header))
		})
	}
}

func TestPython(t *testing.T) {
	requireStack(t, stackdef.Uvicorn)
	sys, err := systemTools().python(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		venvs []string // venv folders to create, each with bin/python -> sys
		want  string   // relative to dir, or "system"
	}{
		{name: "no venv: an interpreter that imports uvicorn", want: "system"},
		{name: ".venv", venvs: []string{".venv"}, want: ".venv/bin/python"},
		{name: "venv", venvs: []string{"venv"}, want: "venv/bin/python"},
		{name: ".venv wins over venv", venvs: []string{"venv", ".venv"}, want: ".venv/bin/python"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, v := range tc.venvs {
				fakeVenv(t, dir, v, sys)
			}
			got, err := Python(dir)
			if err != nil {
				t.Fatal(err)
			}
			want := sys
			if tc.want != "system" {
				want = filepath.Join(dir, tc.want)
			}
			if got != want {
				t.Errorf("Python = %q, want %q", got, want)
			}
		})
	}
	t.Run("not the pyenv python3 on PATH when it lacks uvicorn", func(t *testing.T) {
		py, err := exec.LookPath("python3")
		if err != nil || exec.Command(py, "-c", "import uvicorn").Run() == nil {
			t.Skip("python3 on PATH imports uvicorn (or is missing): nothing to tell apart")
		}
		if sys == py {
			t.Errorf("Python chose %s, which cannot import uvicorn", py)
		}
	})
}

// fakeVenv makes dir/name/bin/python a symlink to py.
func fakeVenv(t *testing.T, dir, name, py string) string {
	t.Helper()
	bin := filepath.Join(dir, name, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(bin, "python")
	if err := os.Symlink(py, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUvicornVenv(t *testing.T) {
	requireStack(t, stackdef.Uvicorn)
	requireLinux(t)
	spec := uvicornSpec(t, map[string]string{"main.py": fastAPIApp})
	venvPy := fakeVenv(t, spec.Dir, ".venv", "/usr/bin/python3")
	r := mustRunner(t, spec)
	up := startRunner(t, r)
	if got := getInfo(t, up, nil); got.Scheme != "http" {
		t.Fatalf("scheme = %q", got.Scheme)
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pgidOf(t, r)) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if argv := strings.Split(string(cmdline), "\x00"); argv[0] != venvPy {
		t.Errorf("uvicorn runs under %q, want the venv's %q", argv[0], venvPy)
	}
	if err := Check(stackdef.Uvicorn, spec.Dir); err != nil {
		t.Errorf("Check with a venv that imports uvicorn: %v", err)
	}
}

func TestUvicornStartErrors(t *testing.T) {
	requireStack(t, stackdef.Uvicorn)
	tests := []struct {
		name     string
		main     string
		timeout  time.Duration
		wantErr  error    // errors.Is on the StartError
		wantExit bool     // Err is an *exec.ExitError
		prefix   string   // of Error()
		tail     []string // substrings of the tail
	}{
		{
			name:     "syntax error at import",
			main:     "from fastapi import FastAPI\napi = FastAPI(\ndef broken(:\n",
			wantExit: true,
			prefix:   "uvicorn exited at start: exit status 1\n  ",
			tail:     []string{"SyntaxError"},
		},
		{
			name:     "exception at import",
			main:     "raise RuntimeError('database is not configured')\n",
			wantExit: true,
			prefix:   "uvicorn exited at start: exit status 1\n  ",
			tail:     []string{"RuntimeError: database is not configured"},
		},
		{
			name:    "never answers",
			main:    "import time\nprint('loading models', flush=True)\ntime.sleep(60)\n",
			timeout: 1500 * time.Millisecond,
			wantErr: context.DeadlineExceeded,
			prefix:  "uvicorn did not become ready: no HTTP answer on unix:",
			tail:    []string{"loading models"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := uvicornSpec(t, map[string]string{"main.py": tc.main})
			before := tree(t, spec.Dir)
			r := mustRunner(t, spec)
			ctx := t.Context()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			began := time.Now()
			_, err := r.Start(ctx)
			var se *StartError
			if !errors.As(err, &se) {
				t.Fatalf("Start error = %v (%T), want *StartError", err, err)
			}
			t.Logf("after %s:\n%s", time.Since(began).Round(time.Millisecond), se)
			var exit *exec.ExitError
			if tc.wantExit && !errors.As(err, &exit) {
				t.Errorf("Err = %v, want an exit status", se.Err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Err = %v, want %v", se.Err, tc.wantErr)
			}
			if !strings.HasPrefix(se.Error(), tc.prefix) {
				t.Errorf("Error() does not start with %q", tc.prefix)
			}
			tail := strings.Join(se.Tail, "\n")
			for _, w := range tc.tail {
				if !strings.Contains(tail, w) {
					t.Errorf("tail lacks %q: %q", w, se.Tail)
				}
			}
			if !strings.Contains(se.Command, "-m uvicorn main:api --uds ") || !strings.Contains(se.Command, "--forwarded-allow-ips '*'") {
				t.Errorf("Command = %q", se.Command)
			}
			// Stop after a failed Start, twice, is a no-op.
			for range 2 {
				if err := r.Stop(t.Context()); err != nil {
					t.Errorf("Stop: %v", err)
				}
			}
			if _, err := os.Lstat(filepath.Join(spec.RunDir, "api.sock")); !os.IsNotExist(err) {
				t.Errorf("socket left behind: %v", err)
			}
			if after := tree(t, spec.Dir); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("project changed:\nbefore %q\nafter  %q", before, after)
			}
		})
	}
}

func TestUvicornSocketPathTooLong(t *testing.T) {
	spec := uvicornSpec(t, map[string]string{"main.py": fastAPIApp})
	spec.RunDir = filepath.Join(spec.RunDir, strings.Repeat("r", 110))
	r := mustRunner(t, spec)
	_, err := r.Start(t.Context())
	if !errors.Is(err, ErrSocketPath) || !strings.Contains(err.Error(), filepath.Join(spec.RunDir, "api.sock")) {
		t.Fatalf("Start error = %v, want ErrSocketPath naming the socket", err)
	}
	if _, err := os.Stat(spec.RunDir); !os.IsNotExist(err) {
		t.Errorf("run folder created anyway: %v", err)
	}
}

func TestCrashDetection(t *testing.T) {
	requireStack(t, stackdef.Uvicorn)
	requireLinux(t)
	spec := uvicornSpec(t, map[string]string{"main.py": fastAPIApp})
	r := mustRunner(t, spec)
	startRunner(t, r)
	exited := r.Exited()
	if isClosed(exited) || r.Err() != nil {
		t.Fatalf("running backend: Exited closed %v, Err %v", isClosed(exited), r.Err())
	}
	pgid := pgidOf(t, r)
	if err := syscall.Kill(pgid, syscall.SIGKILL); err != nil { // the leader only, from outside
		t.Fatal(err)
	}
	waitClosed(t, exited, 5*time.Second, "Exited after kill")
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Err = %v, want signal: killed", err)
	}
	assertGroupGone(t, pgid)
	stopRunner(t, r)
	if _, err := os.Lstat(filepath.Join(spec.RunDir, "api.sock")); !os.IsNotExist(err) {
		t.Errorf("socket left behind after Stop: %v", err)
	}
	if r.Err() == nil {
		t.Error("Stop after a crash forgot why it crashed")
	}

	t.Run("restart after a crash", func(t *testing.T) {
		up := startRunner(t, r)
		if r.Err() != nil || isClosed(r.Exited()) || r.Exited() == exited {
			t.Errorf("after restart: Err %v, Exited closed %v (a new channel: %v)", r.Err(), isClosed(r.Exited()), r.Exited() != exited)
		}
		if got := getInfo(t, up, nil); got.Scheme != "http" {
			t.Errorf("scheme = %q", got.Scheme)
		}
	})
}
