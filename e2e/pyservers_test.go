package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestPythonServers runs the other Python seed topologies through the
// engine over verified HTTPS, as local processes and as containers:
// gunicorn with uvicorn workers (ASGI), gunicorn sync workers (WSGI) and
// uWSGI spoken to in its own protocol.
func TestPythonServers(t *testing.T) {
	testenv.Tool(t, "curl")
	t.Run("process", func(t *testing.T) {
		testenv.Need(t, "gunicorn, uvicorn and Flask for /usr/bin/python3", exec.Command("/usr/bin/python3", "-c", "import gunicorn, uvicorn, flask").Run() == nil, testenv.InstallFix)

		testenv.Need(t, "uwsgi with its python3 plugin", testenv.Have("uwsgi") &&
			exec.Command("uwsgi", "--need-plugin", "python3", "--version").Run() == nil, testenv.InstallFix)

		testPythonServers(t, newEnv(t))
	})
	t.Run("container", func(t *testing.T) {
		needDocker(t)
		e := newEnv(t)
		e.dockerLeftovers(t)
		testPythonServers(t, e, "--runtime", "container", "--image", uvicornImage)
	})
}

// testPythonServers adds the examples with the runtime flags, serves them
// and checks what each app sees.
func testPythonServers(t *testing.T, e *env, runtime ...string) {
	fastapi := e.copyExample("fastapi-api", "fastapi")
	flask := e.copyExample("flask-app", "flask")
	e.mustRun(append([]string{"add", fastapi, "--name", "gun", "--stack", "gunicorn"}, runtime...)...)
	e.mustRun(append([]string{"add", flask, "--name", "wsgi"}, runtime...)...) // detected: Flask under gunicorn
	e.mustRun(append([]string{"add", flask, "--name", "uw", "--stack", "uwsgi"}, runtime...)...)
	port := freePort(t)
	g := e.serve("--start", "gun,wsgi,uw", "--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	ca := strings.TrimSpace(e.mustRun("ca"))

	tests := []struct {
		name, host string
		want       map[string]string
	}{
		{"gunicorn with uvicorn workers", "gun.test", map[string]string{"hello": "from fastapi-api", "scheme": "https"}},
		{"gunicorn sync workers (wsgi)", "wsgi.test", map[string]string{"hello": "from flask-app", "scheme": "https",
			"url": fmt.Sprintf("https://wsgi.test:%d/", port)}},
		{"uWSGI over the uwsgi protocol", "uw.test", map[string]string{"hello": "from flask-app", "scheme": "https",
			"remote_addr": "127.0.0.1", "url": fmt.Sprintf("https://uw.test:%d/", port)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := curl(t, "--cacert", ca, "--resolve", fmt.Sprintf("%s:%d:127.0.0.1", tc.host, port), fmt.Sprintf("https://%s:%d/", tc.host, port))
			var got map[string]any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			for k, v := range tc.want {
				if fmt.Sprint(got[k]) != v {
					t.Errorf("%s = %v, want %s (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
	var ps []struct {
		Name     string
		Services []struct{ Stack, Upstream string }
	}
	if err := json.Unmarshal([]byte(e.mustRun("ls", "--json")), &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 {
		t.Errorf("ls --json lists %d projects, want 3", len(ps))
	}
	for _, p := range ps {
		if p.Name == "uw" && !strings.HasPrefix(p.Services[0].Upstream, "uwsgi:") {
			t.Errorf("uw upstream %q, want the uwsgi protocol", p.Services[0].Upstream)
		}
	}
	if err := g.stop(t); err != nil {
		t.Errorf("engine exit: %v\n%s", err, g.output())
	}
}
