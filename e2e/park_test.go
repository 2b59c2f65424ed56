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

// parkedState is a project's state and parked folder in `devport ls
// --json`; ok is false when there is no such project.
func (e *env) parkedState(name string) (state, parked string, ok bool) {
	e.t.Helper()
	var ps []struct{ Name, State, Parked string }
	if err := json.Unmarshal([]byte(e.mustRun("ls", "--json")), &ps); err != nil {
		e.t.Fatalf("ls --json: %v", err)
	}
	for _, p := range ps {
		if p.Name == name {
			return p.State, p.Parked, true
		}
	}
	return "", "", false
}

// TestParkFolder is issue 12's parking test, as a user meets it: a folder
// of projects (a PHP shop and a FastAPI app) is parked while the engine
// runs, a third project (Flask) is copied in afterwards, and each answers
// its very first request with its page (the proxy holds it while the
// backend starts: no 502). With park.idle_timeout at 3s, an idle one is
// stopped, and starts again on the next request. A subfolder whose name
// another project has is skipped with a line; a subfolder removed takes its
// project; the parked folder going away stops its projects until it is
// back; unpark removes exactly the folder's projects, and nothing is left
// running.
func TestParkFolder(t *testing.T) {
	testenv.Tool(t, "apache2")
	testenv.Need(t, "uvicorn, FastAPI, gunicorn and Flask for /usr/bin/python3",
		exec.Command("/usr/bin/python3", "-c", "import uvicorn, fastapi, gunicorn, flask").Run() == nil, testenv.InstallFix)
	e := newEnv(t)
	code := filepath.Join(e.root, "code")
	e.copyExample("php-shop", "code/shop")
	e.copyExample("fastapi-api", "code/api")
	e.copyExample("static-site", "code/blog")      // a name taken by the project below
	e.copyExample("static-site", "elsewhere/blog") // added by hand first
	if err := os.MkdirAll(filepath.Join(code, "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.mustRun("add", filepath.Join(e.root, "elsewhere", "blog"))
	e.mustRun("config", "set", "park.idle_timeout", "3s")
	if out := e.mustRun("config", "get", "park.idle_timeout"); strings.TrimSpace(out) != "3s" {
		t.Fatalf("config get park.idle_timeout: %q", out)
	}

	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	defer g.stop(t)
	client := siteClient(t, e, port)

	out := e.mustRun("park", code)
	for _, want := range []string{
		fmt.Sprintf("added shop at https://shop.test:%d/ (php)", port),
		fmt.Sprintf("added api at https://api.test:%d/ (uvicorn)", port),
		"skipped blog: the name blog is taken by project blog (" + filepath.Join(e.root, "elsewhere", "blog") + ")",
		"skipped notes: nothing to run in it",
		"folders created in " + code + " become projects at once",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("devport park printed\n%s\nwant a line with %q", out, want)
		}
	}
	for _, name := range []string{"shop", "api"} {
		if st, parked, ok := e.parkedState(name); !ok || st != "stopped" || parked != code {
			t.Errorf("%s after park: state %q, parked %q (exists %v); want stopped, parked in %s", name, st, parked, ok, code)
		}
	}
	if r := e.run("rm", "shop"); r.code == 0 || !strings.Contains(r.stderr, "devport unpark "+code) {
		t.Errorf("rm of a parked project: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// first asks a project's domain once, and wants its page: the first
	// request is the one a browser makes, and must not see a 502.
	first := func(host, want string) {
		t.Helper()
		start := time.Now()
		status, body, err := get(client, fmt.Sprintf("https://%s:%d/", host, port))
		if err != nil || status != 200 || !strings.Contains(body, want) {
			t.Errorf("first request to %s: %d %.300q %v; want 200 with %q\n%s", host, status, body, err, want, g.output())
			return
		}
		t.Logf("%s answered its first request in %v", host, time.Since(start).Round(time.Millisecond))
	}
	first("shop.test", "php-shop says hello")
	first("api.test", "from fastapi-api")

	// A third project arrives while the engine runs.
	e.copyExample("flask-app", "code/flask")
	waitUntil(t, 10*time.Second, "the copied folder becomes project flask", func() bool {
		_, parked, ok := e.parkedState("flask")
		return ok && parked == code
	})
	first("flask.test", "from flask-app")

	// Idle for the idle timeout: stopped, and nothing of them runs.
	for _, name := range []string{"shop", "api", "flask"} {
		waitUntil(t, 20*time.Second, name+" is stopped after 3s without a request", func() bool {
			st, _, _ := e.parkedState(name)
			return st == "stopped"
		})
	}
	assertNoProcesses(t, filepath.Join(e.home, "run", "shop-web"))
	// The next request starts it again.
	first("api.test", "from fastapi-api")

	// A folder removed takes its project with it.
	if err := os.RemoveAll(filepath.Join(code, "flask")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "project flask goes with its folder", func() bool {
		_, _, ok := e.parkedState("flask")
		return !ok
	})

	// The parked folder goes away (a disk unmounted, a rename) with api
	// running: its projects stop, and stay, until it is back. (The idle
	// timeout is long now, set through the running engine, so that the
	// stop is the folder's doing.)
	e.mustRun("config", "set", "park.idle_timeout", "10m")
	first("api.test", "from fastapi-api")
	time.Sleep(4 * time.Second) // longer than the old timeout: still running
	if st, _, _ := e.parkedState("api"); st != "running" {
		t.Fatalf("api is %s 4s after a request with a 10m idle timeout", st)
	}
	away := filepath.Join(e.root, "code-away")
	if err := os.Rename(code, away); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the projects of a vanished parked folder stop", func() bool {
		st, _, ok := e.parkedState("api")
		return ok && st == "stopped"
	})
	if out := e.mustRun("parked"); !strings.Contains(out, code+" (gone: its projects are stopped until it is back)") || !strings.Contains(out, "api, shop") {
		t.Errorf("devport parked while the folder is gone:\n%s", out)
	}
	if status, body, _ := get(client, fmt.Sprintf("https://api.test:%d/", port)); status != 502 || !strings.Contains(body, "went with the parked folder") {
		t.Errorf("api.test while its folder is gone: %d %.300q", status, body)
	}
	if err := os.Rename(away, code); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the parked folder is back", func() bool {
		return !strings.Contains(e.mustRun("parked"), "(gone")
	})
	first("shop.test", "php-shop says hello")

	// Unpark removes exactly its projects; the folders and the project
	// added by hand stay.
	out = e.mustRun("unpark", code)
	for _, want := range []string{"removed api", "removed shop", "unparked " + code} {
		if !strings.Contains(out, want) {
			t.Errorf("devport unpark printed\n%s\nwant %q", out, want)
		}
	}
	for _, name := range []string{"shop", "api"} {
		if _, _, ok := e.parkedState(name); ok {
			t.Errorf("%s is still a project after unpark", name)
		}
	}
	if _, _, ok := e.parkedState("blog"); !ok {
		t.Error("unpark removed the project added by hand")
	}
	if _, err := os.Stat(filepath.Join(code, "shop", "index.php")); err != nil {
		t.Errorf("unpark touched the folders: %v", err)
	}
	if out := e.mustRun("parked"); !strings.Contains(out, "no parked folders") {
		t.Errorf("devport parked after unpark:\n%s", out)
	}
	assertNoProcesses(t, code)
}
