//go:build unix

package stacks

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// flaskApp reports what the WSGI app sees of a request.
const flaskApp = `import os
from flask import Flask, request, jsonify, url_for

app = Flask(__name__)

@app.route("/info")
def info():
    e = request.environ
    return jsonify(
        remote_addr=e.get("REMOTE_ADDR"),
        scheme=e.get("wsgi.url_scheme"),
        forwarded_proto=e.get("HTTP_X_FORWARDED_PROTO"),
        script_name=e.get("SCRIPT_NAME"),
        path_info=e.get("PATH_INFO"),
        url_for=url_for("info", _external=True),
        env=os.environ.get("DEVPORT_TEST_VAR"),
        cwd=os.getcwd(),
        pid=os.getpid(),
    )
`

type wsgiInfo struct {
	RemoteAddr     string `json:"remote_addr"`
	Scheme         string `json:"scheme"`
	ForwardedProto string `json:"forwarded_proto"`
	ScriptName     string `json:"script_name"`
	PathInfo       string `json:"path_info"`
	URLFor         string `json:"url_for"`
	Env            string `json:"env"`
	Cwd            string `json:"cwd"`
}

// uwsgiGet sends GET path to a uwsgi-protocol upstream the way a proxy
// does: the request as vars (headers as HTTP_*, plus extra), the answer
// read as HTTP.
func uwsgiGet(t *testing.T, up Upstream, path string, header http.Header, extra map[string]string) (int, string) {
	t.Helper()
	if up.Protocol != ProtocolUWSGI {
		t.Fatalf("upstream %v does not speak uwsgi", up)
	}
	vars := [][2]string{
		{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", path}, {"PATH_INFO", path}, {"QUERY_STRING", ""},
		{"SERVER_PROTOCOL", "HTTP/1.1"}, {"SERVER_NAME", "shop.test"}, {"SERVER_PORT", "80"},
		{"HTTP_HOST", "shop.test"}, {"REMOTE_ADDR", "203.0.113.9"}, {"REMOTE_PORT", "40000"}, {"SCRIPT_NAME", ""},
	}
	for k, vs := range header {
		vars = append(vars, [2]string{"HTTP_" + strings.ReplaceAll(strings.ToUpper(k), "-", "_"), strings.Join(vs, ", ")})
	}
	for k, v := range extra {
		vars = append(vars, [2]string{k, v})
	}
	pkt, err := uwsgiPacket(vars)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, up.Network, up.Address)
	if err != nil {
		t.Fatalf("dial %v: %v", up, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(pkt); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s via %v: %v", path, up, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestUWSGIPacket(t *testing.T) {
	got, err := uwsgiPacket([][2]string{{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "\x00\x23\x00\x00" + "\x0e\x00REQUEST_METHOD\x03\x00GET" + "\x09\x00PATH_INFO\x01\x00/"
	if string(got) != want {
		t.Errorf("packet = %q, want %q", got, want)
	}
	t.Run("too big", func(t *testing.T) {
		if _, err := uwsgiPacket([][2]string{{"HTTP_COOKIE", strings.Repeat("x", 70000)}}); err == nil {
			t.Error("a 70000-byte var encoded without error")
		}
	})
}

// pyServerCase is one of the gunicorn, wsgi and uwsgi stacks under test.
type pyServerCase struct {
	stack string
	files map[string]string
	app   string
}

var pyServerCases = []pyServerCase{
	{stack: stackdef.Gunicorn, files: map[string]string{"main.py": fastAPIApp}, app: "main:api"},
	{stack: stackdef.WSGI, files: map[string]string{"app.py": flaskApp}, app: "app:app"},
	{stack: stackdef.UWSGI, files: map[string]string{"app.py": flaskApp}, app: "app:app"},
}

func pyServerSpec(t *testing.T, c pyServerCase, files map[string]string) Spec {
	t.Helper()
	if files == nil {
		files = c.files
	}
	spec := testSpec(t, c.stack, files)
	spec.App = c.app
	spec.Workers = 2
	return spec
}

// infoOf asks the app for /info through up, the way the proxy would: full
// path for the WSGI stacks, prefix stripped for the ASGI ones.
func infoOf(t *testing.T, stack string, up Upstream, prefix string, header http.Header, uwsgiVars map[string]string) map[string]any {
	t.Helper()
	path := "/info"
	if !stackdef.StripsPrefix(stack) {
		path = prefix + "/info"
	}
	var status int
	var body string
	if stack == stackdef.UWSGI {
		status, body = uwsgiGet(t, up, path, header, uwsgiVars)
	} else {
		status, body = get(t, up, path, header)
	}
	if status != 200 {
		t.Fatalf("GET %s = %d %s", path, status, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return m
}

func str(m map[string]any, k string) string { v, _ := m[k].(string); return v }

func TestPyServersServe(t *testing.T) {
	requireLinux(t)
	for _, c := range pyServerCases {
		t.Run(c.stack, func(t *testing.T) {
			t.Parallel()
			requireStack(t, c.stack)
			spec := pyServerSpec(t, c, nil)
			spec.PathPrefix = "/api"
			spec.Env = []string{"DEVPORT_TEST_VAR=from-spec"}
			r := mustRunner(t, spec)
			began := time.Now()
			up := startRunner(t, r)
			t.Logf("%s ready on %s after %s", c.stack, up, time.Since(began).Round(time.Millisecond))
			sock := filepath.Join(spec.RunDir, "web.sock")
			wantProto := ProtocolHTTP
			if c.stack == stackdef.UWSGI {
				wantProto = ProtocolUWSGI
			}
			if up != (Upstream{Network: "unix", Address: sock, Protocol: wantProto}) {
				t.Fatalf("upstream = %+v, want unix %s %q", up, sock, wantProto)
			}
			if fi, err := os.Stat(sock); err != nil || (c.stack == stackdef.UWSGI && fi.Mode().Perm() != 0o600) {
				t.Errorf("socket: %v %v", fi.Mode(), err)
			}
			// The workers: -w/--processes 2 (the master or arbiter, plus 2).
			// Readiness needs one worker; the second may still be forking
			// on a loaded machine, so allow it a few seconds.
			n := 0
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				if n = len(groupMembers(t, pgidOf(t, r))); n >= 3 || time.Now().After(deadline) {
					break
				}
			}
			if n < 3 {
				t.Errorf("process group has %d processes, want the master and 2 workers", n)
			}

			checkPyServer(t, c, up, spec.Dir)
		})
	}
}

// checkPyServer checks what the app of case c, mounted at /api with
// DEVPORT_TEST_VAR=from-spec in its environment, sees of requests sent to
// up the way the proxy sends them: the prefix, the scheme from
// X-Forwarded-Proto (HTTPS=on for uWSGI), the client address, and its
// working directory cwd.
func checkPyServer(t *testing.T, c pyServerCase, up Upstream, cwd string) {
	t.Helper()
	t.Run("prefix", func(t *testing.T) {
		m := infoOf(t, c.stack, up, "/api", nil, nil)
		if c.stack == stackdef.Gunicorn {
			if str(m, "root_path") != "/api" || str(m, "url_for") != "http://shop.test/api/info" {
				t.Errorf("root_path = %q, url_for = %q; want /api, http://shop.test/api/info", str(m, "root_path"), str(m, "url_for"))
			}
			return
		}
		if str(m, "script_name") != "/api" || str(m, "path_info") != "/info" || str(m, "url_for") != "http://shop.test/api/info" {
			t.Errorf("SCRIPT_NAME %q, PATH_INFO %q, url_for %q; want /api, /info, http://shop.test/api/info",
				str(m, "script_name"), str(m, "path_info"), str(m, "url_for"))
		}
	})
	t.Run("X-Forwarded-Proto https makes the scheme https", func(t *testing.T) {
		h := http.Header{"X-Forwarded-Proto": {"https"}}
		var vars map[string]string
		if c.stack == stackdef.UWSGI { // the proxy says it in the vars, as nginx's uwsgi_params do
			vars = map[string]string{"HTTPS": "on"}
		}
		m := infoOf(t, c.stack, up, "/api", h, vars)
		if str(m, "scheme") != "https" || !strings.HasPrefix(str(m, "url_for"), "https://shop.test/api/") {
			t.Errorf("scheme = %q, url_for = %q; want https", str(m, "scheme"), str(m, "url_for"))
		}
		if c.stack != stackdef.Gunicorn && str(m, "forwarded_proto") != "https" {
			t.Errorf("HTTP_X_FORWARDED_PROTO = %q, want https", str(m, "forwarded_proto"))
		}
	})
	t.Run("plain http", func(t *testing.T) {
		if m := infoOf(t, c.stack, up, "/api", nil, nil); str(m, "scheme") != "http" {
			t.Errorf("scheme = %q, want http", str(m, "scheme"))
		}
	})
	if c.stack == stackdef.Gunicorn { // uvicorn's workers honour X-Forwarded-For; gunicorn's sync workers do not
		t.Run("client from X-Forwarded-For", func(t *testing.T) {
			m := infoOf(t, c.stack, up, "/api", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, nil)
			if str(m, "client") != "203.0.113.7" {
				t.Errorf("client = %q, want 203.0.113.7", str(m, "client"))
			}
		})
	}
	if c.stack == stackdef.UWSGI {
		t.Run("REMOTE_ADDR from the vars", func(t *testing.T) {
			if m := infoOf(t, c.stack, up, "/api", nil, nil); str(m, "remote_addr") != "203.0.113.9" {
				t.Errorf("REMOTE_ADDR = %q, want 203.0.113.9", str(m, "remote_addr"))
			}
		})
	}
	t.Run("environment and working directory", func(t *testing.T) {
		m := infoOf(t, c.stack, up, "/api", nil, nil)
		if str(m, "env") != "from-spec" || str(m, "cwd") != cwd {
			t.Errorf("env = %q, cwd = %q; want from-spec, %s", str(m, "env"), str(m, "cwd"), cwd)
		}
	})
}

func TestPyServersWithoutPrefix(t *testing.T) {
	requireLinux(t)
	for _, c := range pyServerCases {
		t.Run(c.stack, func(t *testing.T) {
			t.Parallel()
			requireStack(t, c.stack)
			spec := pyServerSpec(t, c, nil)
			spec.Workers = 1
			before := tree(t, spec.Dir)
			r := mustRunner(t, spec)
			up := startRunner(t, r)
			m := infoOf(t, c.stack, up, "", nil, nil)
			if got := str(m, "url_for"); got != "http://shop.test/info" {
				t.Errorf("url_for = %q, want http://shop.test/info", got)
			}
			pgid := pgidOf(t, r)
			exited := r.Exited()
			began := time.Now()
			if err := r.Stop(t.Context()); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			t.Logf("%s stopped in %s", c.stack, time.Since(began).Round(time.Millisecond))
			assertGroupGone(t, pgid)
			if !isClosed(exited) || r.Err() != nil {
				t.Errorf("after Stop: Exited closed %v, Err %v", isClosed(exited), r.Err())
			}
			if _, err := os.Lstat(up.Address); !os.IsNotExist(err) {
				t.Errorf("socket left behind: %v", err)
			}
			if after := tree(t, spec.Dir); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Logf("project changed (Python's bytecode cache):\nbefore %q\nafter  %q", before, after)
			}
		})
	}
}

func TestPyServersStartErrors(t *testing.T) {
	requireLinux(t)
	for _, c := range pyServerCases {
		t.Run(c.stack, func(t *testing.T) {
			t.Parallel()
			requireStack(t, c.stack)
			mod := strings.Split(c.app, ":")[0] + ".py"
			spec := pyServerSpec(t, c, map[string]string{mod: "raise RuntimeError('database is not configured')\n"})
			spec.Workers = 1
			r := mustRunner(t, spec)
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
			defer cancel()
			began := time.Now()
			_, err := r.Start(ctx)
			var se *StartError
			if !errors.As(err, &se) {
				t.Fatalf("Start error = %v (%T), want *StartError", err, err)
			}
			t.Logf("after %s:\n%s", time.Since(began).Round(time.Millisecond), se)
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Errorf("Err = %v, want an exit status", se.Err)
			}
			wantName := "gunicorn"
			if c.stack == stackdef.UWSGI {
				wantName = "uwsgi"
			}
			if !strings.HasPrefix(se.Error(), wantName+" exited at start: exit status ") {
				t.Errorf("Error() = %q, want it to start with %q", se.Error(), wantName+" exited at start")
			}
			if tail := strings.Join(se.Tail, "\n"); !strings.Contains(tail, "RuntimeError: database is not configured") {
				t.Errorf("tail lacks the exception: %q", se.Tail)
			}
			if err := r.Stop(t.Context()); err != nil {
				t.Errorf("Stop: %v", err)
			}
			if pg := runningPgid(t, filepath.Join(spec.RunDir, "web.sock")); pg != 0 {
				t.Errorf("a process of the failed start is still running in group %d", pg)
			}
			if _, err := os.Lstat(filepath.Join(spec.RunDir, "web.sock")); !os.IsNotExist(err) {
				t.Errorf("socket left behind: %v", err)
			}
		})
	}
}

// TestPyServerCommands checks the command lines the backends prepare,
// without running them.
func TestPyServerCommands(t *testing.T) {
	requireLinux(t)
	tests := []struct {
		name    string
		stack   string
		prefix  string
		workers int
		want    []string // substrings of the command line
		not     []string
	}{
		{name: "gunicorn", stack: stackdef.Gunicorn, workers: 3, want: []string{
			" -m gunicorn -k uvicorn.workers.UvicornWorker -w 3 --bind unix:RUN/web.sock --forwarded-allow-ips '*' --keep-alive KEEP --chdir DIR main:app"}},
		{name: "gunicorn with a prefix", stack: stackdef.Gunicorn, prefix: "/api", want: []string{
			" -m gunicorn --pythonpath RUN -k devport_gunicorn_worker.RootPathWorker -w CPUS ", " --env SCRIPT_NAME=/api main:app"}},
		{name: "wsgi", stack: stackdef.WSGI, want: []string{
			" -m gunicorn -w CPUS --bind unix:RUN/web.sock --forwarded-allow-ips '*' --keep-alive KEEP --chdir DIR main:app"}, not: []string{"-k ", "SCRIPT_NAME"}},
		{name: "wsgi with a prefix", stack: stackdef.WSGI, prefix: "/api", workers: 2, want: []string{" -w 2 ", " --env SCRIPT_NAME=/api main:app"}},
		{name: "uwsgi", stack: stackdef.UWSGI, workers: 4, want: []string{
			"uwsgi --plugin python3 --socket RUN/web.sock --chmod-socket=600 --master --die-on-term --vacuum --need-app --buffer-size 65535 --processes 4 --chdir DIR --module main:app"},
			not: []string{"--mount"}},
		{name: "uwsgi with a prefix", stack: stackdef.UWSGI, prefix: "/api", want: []string{
			" --processes CPUS --chdir DIR --manage-script-name --mount /api=main:app"}, not: []string{"--module"}},
		{name: "prefix / is no prefix", stack: stackdef.WSGI, prefix: "/", not: []string{"SCRIPT_NAME"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireStack(t, tc.stack)
			spec := testSpec(t, tc.stack, map[string]string{"main.py": ""})
			spec.App, spec.PathPrefix, spec.Workers = "main:app", tc.prefix, tc.workers
			r := mustRunner(t, spec)
			l, err := r.be.prepare(t.Context(), 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(r.be.cleanup)
			cmd := l.command()
			expand := strings.NewReplacer("RUN", spec.RunDir, "DIR", spec.Dir, "CPUS", strconv.Itoa(runtime.NumCPU()), "KEEP", keepAliveSeconds())
			for _, w := range tc.want {
				if w = expand.Replace(w); !strings.Contains(cmd, w) {
					t.Errorf("command lacks %q:\n%s", w, cmd)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(cmd, n) {
					t.Errorf("command has %q:\n%s", n, cmd)
				}
			}
			if l.dir != spec.Dir {
				t.Errorf("working directory %q, want %q", l.dir, spec.Dir)
			}
		})
	}
}

func TestUWSGINeverReady(t *testing.T) {
	requireLinux(t)
	requireStack(t, stackdef.UWSGI)
	c := pyServerCases[2]
	spec := pyServerSpec(t, c, map[string]string{"app.py": "import time\nprint('loading models', flush=True)\ntime.sleep(60)\n"})
	spec.Workers = 1
	spec.StopTimeout = time.Second // uWSGI defers SIGTERM while the app imports: this is the SIGKILL's wait
	r := mustRunner(t, spec)
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	_, err := r.Start(ctx)
	var se *StartError
	if !errors.As(err, &se) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start error = %v, want a *StartError for the deadline", err)
	}
	t.Logf("%s", se)
	if want := "uwsgi did not become ready: no HTTP answer on uwsgi:unix:"; !strings.HasPrefix(se.Error(), want) {
		t.Errorf("Error() does not start with %q", want)
	}
	if !strings.Contains(strings.Join(se.Tail, "\n"), "loading models") {
		t.Errorf("tail lacks the app's output: %q", se.Tail)
	}
	if pg := runningPgid(t, filepath.Join(spec.RunDir, "web.sock")); pg != 0 {
		t.Errorf("a process of the failed start is still running in group %d", pg)
	}
}

func TestPyServersCrash(t *testing.T) {
	requireLinux(t)
	for _, c := range pyServerCases {
		t.Run(c.stack, func(t *testing.T) {
			t.Parallel()
			requireStack(t, c.stack)
			spec := pyServerSpec(t, c, nil)
			r := mustRunner(t, spec)
			startRunner(t, r)
			exited := r.Exited()
			pgid := pgidOf(t, r)
			if err := syscall.Kill(pgid, syscall.SIGKILL); err != nil { // the master only, from outside
				t.Fatal(err)
			}
			waitClosed(t, exited, 5*time.Second, "Exited after killing the master")
			if err := r.Err(); err == nil || !strings.Contains(err.Error(), "killed") {
				t.Errorf("Err = %v, want signal: killed", err)
			}
			// The workers went with it. They may stay zombies: their new
			// parent, this machine's init, need not reap them.
			deadline := time.Now().Add(2 * time.Second)
			for groupAlive(pgid) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if groupAlive(pgid) {
				t.Errorf("workers still running after the master was killed: %v", groupMembers(t, pgid))
			}
			stopRunner(t, r)
			if _, err := os.Lstat(filepath.Join(spec.RunDir, "web.sock")); !os.IsNotExist(err) {
				t.Errorf("socket left behind after Stop: %v", err)
			}
		})
	}
}
