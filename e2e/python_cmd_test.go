package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// pyReport is one line of what a Python process sees: its interpreter,
// its folder, and every variable devport injects (the CA bundle's, the
// data services', devport.toml's env). The site answers it, and devport
// python prints it: the two must be equal.
const pyReport = `" ".join([sys.executable, os.getcwd()] + sorted(k + "=" + v for k, v in os.environ.items()
    if k.startswith(("REDIS_", "DB_", "DATABASE_", "MAIL_", "SSL_CERT", "REQUESTS_CA", "CURL_CA", "NODE_EXTRA", "GREETING", "PYTHONUNBUFFERED", "PYTHONPATH"))))`

// pyReportApp is a Flask app (served by gunicorn, the wsgi stack) whose
// page is pyReport.
const pyReportApp = `import os, sys
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return ` + pyReport + ` + "\n"
`

// TestPythonCommand checks devport python, manage and flask on real
// projects: devport python sees the interpreter, folder and environment
// the site sees (a Redis data service's REDIS_URL, devport.toml's env, the
// CA bundle), with an engine and without, in the process runtime and in a
// container; exit codes pass through; flags after NAME are the program's;
// and devport manage runs Django's checks and migrations on a project made
// by django-admin startproject.
func TestPythonCommand(t *testing.T) {
	testenv.Tool(t, "curl")
	testenv.Tool(t, "redis-server")
	testenv.Need(t, "Debian's python3 with gunicorn and Flask",
		exec.Command("/usr/bin/python3", "-c", "import gunicorn, flask").Run() == nil, "apt-get install gunicorn python3-flask")
	e := newEnv(t)
	dir := filepath.Join(e.root, "pyenv")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"app.py":       pyReportApp,
		"devport.toml": "[services.web]\nstack = \"wsgi\"\napp = \"app:app\"\nenv = { GREETING = \"hello from devport.toml\" }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.mustRun("add", dir)
	e.mustRun("service", "pyenv", "add", "cache", "--stack", "redis")
	pyLine := func(t *testing.T) string {
		t.Helper()
		out := e.mustRun("python", "pyenv", "-c", "import sys, os; print("+pyReport+")")
		return strings.TrimSpace(out)
	}
	noEngine := pyLine(t)
	if !strings.Contains(noEngine, "REDIS_URL=redis://127.0.0.1:") || !strings.Contains(noEngine, "GREETING=hello from devport.toml") ||
		!strings.HasPrefix(noEngine, "/usr/bin/python3 "+dir+" ") {
		t.Fatalf("devport python without an engine printed %q", noEngine)
	}

	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)), "--start", "pyenv")
	ca := filepath.Join(e.home, "ca", "root.pem")
	site := func(t *testing.T) string {
		t.Helper()
		a := httpsGet(t, ca, "pyenv.test", port, "/")
		if a.status != 200 {
			t.Fatalf("GET /: %d %q\nengine:\n%s", a.status, a.body, g.output())
		}
		return strings.TrimSpace(a.body)
	}

	t.Run("python sees what the site sees", func(t *testing.T) {
		want := site(t)
		t.Logf("the site and devport python: %s", want)
		if got := pyLine(t); got != want {
			t.Errorf("devport python printed\n%s\nthe site answered\n%s", got, want)
		}
		if noEngine != want {
			t.Errorf("devport python without an engine printed\n%s\nthe site answered\n%s", noEngine, want)
		}
	})
	t.Run("exit codes pass through", func(t *testing.T) {
		for _, code := range []int{0, 3, 42} {
			if r := e.run("python", "pyenv", "-c", fmt.Sprintf("raise SystemExit(%d)", code)); r.code != code {
				t.Errorf("SystemExit(%d): devport exited %d\n%s", code, r.code, r.stderr)
			}
		}
	})
	t.Run("flags after NAME are python's", func(t *testing.T) {
		if out := e.mustRun("python", "pyenv", "--version"); !strings.HasPrefix(out, "Python 3.") {
			t.Errorf("devport python pyenv --version printed %q", out)
		}
	})
	t.Run("flask", func(t *testing.T) {
		if out := e.mustRun("flask", "pyenv", "routes"); !strings.Contains(out, "index") || !strings.Contains(out, " /") {
			t.Errorf("devport flask pyenv routes printed %q", out)
		}
	})
	t.Run("in a container", func(t *testing.T) {
		needDocker(t)
		e.dockerLeftovers(t)
		testenv.Need(t, "image "+redisImage, exec.Command("docker", "image", "inspect", redisImage).Run() == nil, "scripts/build-test-images.sh builds it")
		// A web container reaches data services in containers only (by name).
		e.mustRun("set", "pyenv", "--service", "cache", "--runtime", "container", "--image", redisImage)
		out := e.mustRun("set", "pyenv", "--runtime", "container", "--image", uvicornImage)
		if !strings.Contains(out, "running") {
			t.Fatalf("set container: %q", out)
		}
		want := site(t)
		if !strings.Contains(want, "REDIS_URL=redis://cache:6379") || !strings.HasPrefix(want, "/usr/bin/python3 /app ") {
			t.Fatalf("the container's site answered %q", want)
		}
		t.Logf("the container's site and devport python: %s", want)
		if got := pyLine(t); got != want {
			t.Errorf("devport python in the container printed\n%s\nthe site answered\n%s", got, want)
		}
		if r := e.run("python", "pyenv", "-c", "raise SystemExit(5)"); r.code != 5 {
			t.Errorf("SystemExit(5) in the container: devport exited %d\n%s", r.code, r.stderr)
		}
		e.mustRun("stop", "pyenv")
		r := e.run("python", "pyenv", "-c", "print(1)")
		if r.code == 0 || !strings.Contains(r.stderr, "devport start pyenv") {
			t.Errorf("devport python of a stopped container project: exit %d\n%s", r.code, r.stderr)
		}
	})
	if err := g.stop(t); err != nil {
		t.Errorf("engine: %v\n%s", err, g.output())
	}

	t.Run("manage on a django-admin startproject folder", func(t *testing.T) {
		djangoAdmin := testenv.Tool(t, "django-admin")
		dj := filepath.Join(e.root, "djsite")
		if err := os.MkdirAll(dj, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(djangoAdmin, "startproject", "mysite", dj).CombinedOutput(); err != nil {
			t.Fatalf("django-admin startproject: %v\n%s", err, out)
		}
		e.mustRun("add", dj)
		if out := e.mustRun("manage", "djsite", "check"); !strings.Contains(out, "System check identified no issues") {
			t.Errorf("devport manage djsite check printed %q", out)
		}
		if out := e.mustRun("manage", "djsite", "migrate", "--noinput"); !strings.Contains(out, "Applying auth.") {
			t.Errorf("devport manage djsite migrate --noinput printed %q", out)
		}
		if _, err := os.Stat(filepath.Join(dj, "db.sqlite3")); err != nil {
			t.Errorf("migrate made no database in the project folder: %v", err)
		}
		if r := e.run("manage", "djsite", "no-such-command"); r.code == 0 || !strings.Contains(r.stderr, "Unknown command") {
			t.Errorf("an unknown manage.py command: exit %d\n%s", r.code, r.stderr)
		}
		r := e.run("manage", "pyenv", "check")
		if r.code == 0 || !strings.Contains(r.stderr, filepath.Join(dir, "manage.py")) {
			t.Errorf("devport manage of a project without manage.py: exit %d\n%s", r.code, r.stderr)
		}
	})
}
