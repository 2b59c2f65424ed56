package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/manifest"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// TestReloadRules: which changed files reload a service, by default and
// with devport.toml's reload_include and reload_exclude; and which folders
// are never watched.
func TestReloadRules(t *testing.T) {
	plain := reloadRule{service: "api"}
	custom := reloadRule{service: "api", include: []string{"*.graphql", "schema/*.sql"}, exclude: []string{"generated/*", "*_pb2.py", "settings_local.py"}}
	for _, tc := range []struct {
		name string
		rule reloadRule
		rel  string
		want bool
	}{
		{"code", plain, "main.py", true},
		{"code in a package", plain, "app/api/routes.py", true},
		{"template", plain, "app/templates/index.html", true},
		{"jinja template", plain, "templates/mail/welcome.j2", true},
		{"text template", plain, "templates/robots.txt", true},
		{"html outside templates", plain, "static/index.html", false},
		{"text outside templates", plain, "notes.txt", false},
		{"config", plain, "pyproject.toml", true},
		{"dotenv", plain, ".env", true},
		{"named env", plain, "config/prod.env", true},
		{"yaml", plain, "config/app.yml", true},
		{"ini", plain, "uwsgi.ini", true},
		{"devport.toml is devport's", plain, "devport.toml", false},
		{"a stylesheet", plain, "static/site.css", false},
		{"an editor's swap file", plain, ".main.py.swp", false},
		{"an editor's backup", plain, "main.py~", false},
		{"sqlite database", plain, "db.sqlite3", false},
		{"include by name", custom, "api/schema.graphql", true},
		{"include by path", custom, "schema/001.sql", true},
		{"include by path, elsewhere", custom, "other/schema/001.sql", false},
		{"exclude a folder", custom, "generated/models.py", false},
		{"exclude below the folder", custom, "generated/v1/models.py", false},
		{"exclude by name", custom, "proto/user_pb2.py", false},
		{"exclude a file", custom, "settings_local.py", false},
		{"exclude wins over include", reloadRule{include: []string{"*.graphql"}, exclude: []string{"*.graphql"}}, "a.graphql", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rule.wants(tc.rel); got != tc.want {
				t.Errorf("wants(%q) = %v, want %v", tc.rel, got, tc.want)
			}
		})
	}

	root := t.TempDir()
	rw := &reloadWatch{root: root, rules: []reloadRule{custom}, own: []string{filepath.Join(root, "devport-home")}}
	for _, tc := range []struct {
		rel  string
		want bool
	}{
		{"app", false},
		{".venv", true},
		{"venv/lib/site.py", true},
		{"app/__pycache__", true},
		{".git/objects", true},
		{"web/node_modules/x", true},
		{".mypy_cache", true},
		{".pytest_cache/v", true},
		{"devport-home/logs", true},
		{"generated", false}, // "generated/*" leaves the folder itself watched
		{"generated/v1", true},
	} {
		t.Run("skipped/"+tc.rel, func(t *testing.T) {
			if got := rw.skipped(filepath.Join(root, filepath.FromSlash(tc.rel)), tc.rel); got != tc.want {
				t.Errorf("skipped(%q) = %v, want %v", tc.rel, got, tc.want)
			}
		})
	}
}

// TestReloadManifest: devport.toml's reload keys reach the store at add,
// and export-config writes them back.
func TestReloadManifest(t *testing.T) {
	dir := t.TempDir()
	const toml = `[services.api]
stack = "uvicorn"
app = "main:app"
reload_include = ["*.graphql"]
reload_exclude = ["generated/*"]

[services.worker]
stack = "uvicorn"
app = "worker:app"
prefix = "/worker"
reload = false
`
	writeFiles(t, dir, map[string]string{"devport.toml": toml, "main.py": "app = None\n", "worker.py": "app = None\n"})
	testenv.Need(t, "python3-uvicorn", stacks.Check("uvicorn", dir) == nil, testenv.InstallFix)
	f, err := manifest.Parse(filepath.Join(dir, manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := planFile(context.Background(), wire.AddRequest{Dir: dir}, f)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]store.Service{}
	for _, s := range p.Services {
		byName[s.Name] = s
	}
	if api := byName["api"]; api.NoReload || !reflect.DeepEqual(api.ReloadInclude, []string{"*.graphql"}) || !reflect.DeepEqual(api.ReloadExclude, []string{"generated/*"}) {
		t.Errorf("api planned as %+v", api)
	}
	if !byName["worker"].NoReload {
		t.Errorf("worker planned to reload: %+v", byName["worker"])
	}
	back, _, err := fileFromProject(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if api, worker := back.Services["api"], back.Services["worker"]; api.Reload != nil || !reflect.DeepEqual(api.ReloadInclude, f.Services["api"].ReloadInclude) ||
		worker.Reload == nil || *worker.Reload {
		t.Errorf("export-config gives api %+v, worker %+v", api, worker)
	}
}

// reloadApp is an ASGI app that answers with its version and its process
// id, so a test can tell a reload (a new pid) from none.
func reloadApp(version string) string {
	return `import os

VERSION = "` + version + `"


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = ("%s %d" % (VERSION, os.getpid())).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
`
}

// TestReload runs a project of two uvicorn services, one of which has
// reload = false, and edits its files: a save reloads the service with no
// failed request in between; a change in an ignored folder, and a service
// with reload = false, do not reload; a save that breaks the app leaves
// the project failed with the error, as often as it happens, and the next
// good save brings it back.
func TestReload(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"devport.toml": "[services.api]\nstack = \"uvicorn\"\napp = \"main:app\"\n\n" +
			"[services.frozen]\nstack = \"uvicorn\"\napp = \"frozen:app\"\nprefix = \"/frozen\"\nreload = false\n",
		"main.py":   reloadApp("v1"),
		"frozen.py": reloadApp("frozen"),
	})
	testenv.Need(t, "python3-uvicorn", stacks.Check("uvicorn", dir) == nil, testenv.InstallFix)
	var mu sync.Mutex
	starts := map[string]int{} // backends started, by service
	newRunner := m.newRunner
	m.newRunner = func(s stacks.Spec) (stacks.Runner, error) {
		r, err := newRunner(s)
		if err != nil {
			return nil, err
		}
		return &countingRunner{Runner: r, start: func() {
			mu.Lock()
			starts[s.Service]++
			mu.Unlock()
		}}, nil
	}
	startsOf := func(svc string) int {
		mu.Lock()
		defer mu.Unlock()
		return starts[svc]
	}
	if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "shop"}); err != nil {
		t.Fatal(err)
	}
	port := serveTest(t, m)
	if err := m.Start(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	c := siteClient(t, m, port)
	get := func(path string) (int, string) {
		resp, err := c.Get("https://shop.test" + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitBody := func(t *testing.T, path, prefix string) string {
		t.Helper()
		var status int
		var body string
		pollUntil(t, 30*time.Second, func() bool {
			status, body = get(path)
			return status == 200 && strings.HasPrefix(body, prefix)
		}, func() string { return fmt.Sprintf("%s never answered %q: last %d %q", path, prefix, status, body) })
		return body
	}
	state := func() wire.ProjectStatus {
		st, err := m.Status(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	save := func(t *testing.T, name, body string) {
		t.Helper()
		writeFiles(t, dir, map[string]string{name: body})
	}
	frozen := waitBody(t, "/frozen/", "frozen ")
	waitBody(t, "/", "v1 ")

	t.Run("a save reloads with no failed request", func(t *testing.T) {
		var polls, bad atomic.Int64
		var lastBad atomic.Value
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { // a client polling all along, as a browser tab would
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, body := get("/")
				polls.Add(1)
				if status != 200 {
					bad.Add(1)
					lastBad.Store(fmt.Sprintf("%d %q", status, body))
				}
			}
		}()
		for _, v := range []string{"v2", "v3", "v4"} {
			save(t, "main.py", reloadApp(v))
			waitBody(t, "/", v+" ")
		}
		close(stop)
		<-done
		if n := bad.Load(); n > 0 {
			t.Errorf("%d of %d requests during the reloads failed; the last: %v", n, polls.Load(), lastBad.Load())
		}
		if st := state(); st.State != wire.StateRunning {
			t.Errorf("after the reloads the project is %s (%s)", st.State, st.Reason)
		}
	})

	// The cases below each make a change, then a save that does reload
	// (the marker), and count the runners made in between: a change that
	// reloaded by itself would make one more. The pause lets a wrong
	// reload start on its own, rather than join the marker's.
	for _, tc := range []struct {
		name   string
		change func(t *testing.T)
	}{
		{"a change in an ignored folder", func(t *testing.T) {
			writeFiles(t, dir, map[string]string{".venv/lib/x.py": "x = 1\n", "app/__pycache__/y.py": "y = 1\n", "node_modules/z/z.py": "z = 1\n"})
		}},
		{"a file that is not code, config or a template", func(t *testing.T) {
			writeFiles(t, dir, map[string]string{"static/site.css": "body {}\n", "notes.txt": "hello\n", "db.sqlite3": "x"})
		}},
	} {
		t.Run(tc.name+" does not reload", func(t *testing.T) {
			before := startsOf("api")
			tc.change(t)
			time.Sleep(3 * reloadDebounce)
			marker := fmt.Sprintf("m%d", before)
			save(t, "main.py", reloadApp(marker))
			waitBody(t, "/", marker+" ")
			if n := startsOf("api") - before; n != 1 {
				t.Errorf("api started %d times for the change and the marker, want 1 (the marker's)", n)
			}
		})
	}

	t.Run("new folders are watched", func(t *testing.T) {
		// main.py answers with VERSION from a module in a folder made
		// while the project runs.
		importing := func(module string) string {
			return strings.Replace(reloadApp(""), `VERSION = ""`, "from "+module+" import VERSION", 1)
		}
		for _, tc := range []struct {
			name   string
			module string
			make   func(t *testing.T) // the folder, with VERSION "one"
			file   string             // the file to save VERSION "two" in
		}{
			{"made here", "made.deeper.ver", func(t *testing.T) {
				if err := os.MkdirAll(filepath.Join(dir, "made", "deeper"), 0o755); err != nil {
					t.Fatal(err)
				}
				writeFiles(t, dir, map[string]string{"made/__init__.py": "", "made/deeper/__init__.py": "", "made/deeper/ver.py": "VERSION = \"one\"\n"})
			}, "made/deeper/ver.py"},
			{"moved in", "moved.deeper.ver", func(t *testing.T) {
				outside := t.TempDir()
				writeFiles(t, outside, map[string]string{"moved/__init__.py": "", "moved/deeper/__init__.py": "", "moved/deeper/ver.py": "VERSION = \"one\"\n"})
				if err := os.Rename(filepath.Join(outside, "moved"), filepath.Join(dir, "moved")); err != nil {
					t.Fatal(err)
				}
			}, "moved/deeper/ver.py"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.make(t)
				save(t, "main.py", importing(tc.module))
				waitBody(t, "/", "one ")
				// Only the watch of the new folder sees this one.
				save(t, tc.file, "VERSION = \"two\"\n")
				waitBody(t, "/", "two ")
			})
		}
	})

	t.Run("reload = false does not reload", func(t *testing.T) {
		// main.py's saves above reloaded api; frozen, with reload = false,
		// kept its first process.
		if got := waitBody(t, "/frozen/", "frozen "); got != frozen || startsOf("frozen") != 1 {
			t.Errorf("frozen answers %q after %d starts, want %q from its first", got, startsOf("frozen"), frozen)
		}
		save(t, "frozen.py", reloadApp("frozen2"))
		save(t, "main.py", reloadApp("after-frozen"))
		waitBody(t, "/", "after-frozen ")
		if got := waitBody(t, "/frozen/", "frozen"); got != frozen {
			t.Errorf("frozen answers %q after its file changed, want %q (no reload)", got, frozen)
		}
	})

	t.Run("a failed reload, again and again, then a good save", func(t *testing.T) {
		// More failures than the crash loop allows: a reload is the
		// user's start and never makes devport give up.
		for i := range crashLimit + 1 {
			msg := fmt.Sprintf("broken on save %d", i)
			save(t, "main.py", reloadApp("x")+"\nraise RuntimeError(\""+msg+"\")\n")
			pollUntil(t, 30*time.Second, func() bool {
				st := state()
				return st.State == wire.StateFailed && strings.Contains(st.Reason, msg)
			}, func() string {
				st := state()
				return fmt.Sprintf("not failed with %q: %s %q", msg, st.State, st.Reason)
			})
			if status, body := get("/"); status != http.StatusBadGateway || !strings.Contains(body, msg) {
				t.Errorf("the page of a failed reload: %d %q, want a 502 with the error", status, body)
			}
		}
		st := state()
		if !strings.Contains(st.Reason, "the next save tries again") || strings.Contains(st.Reason, "stopped restarting") {
			t.Errorf("reason %q, want the reload's, not the crash loop's", st.Reason)
		}
		save(t, "main.py", reloadApp("fixed"))
		waitBody(t, "/", "fixed ")
		if st := state(); st.State != wire.StateRunning {
			t.Errorf("after the good save: %s %q", st.State, st.Reason)
		}
		if got := waitBody(t, "/frozen/", "frozen"); got != frozen {
			t.Errorf("frozen answers %q, want %q: a failed reload of api touches no other service", got, frozen)
		}
	})

	t.Run("a service that exits during a failed reload comes back with the fix", func(t *testing.T) {
		save(t, "main.py", reloadApp("x")+"\nraise RuntimeError(\"broken again\")\n")
		pollUntil(t, 30*time.Second, func() bool {
			st := state()
			return st.State == wire.StateFailed && strings.Contains(st.Reason, "broken again")
		},
			func() string { st := state(); return fmt.Sprintf("not failed: %s %q", st.State, st.Reason) })
		// frozen's crash watch stands aside while the project is failed.
		var pid int
		if _, err := fmt.Sscanf(frozen, "frozen %d", &pid); err != nil {
			t.Fatalf("frozen's answer %q: %v", frozen, err)
		}
		save(t, "frozen.py", reloadApp("frozen3")) // no reload: frozen has reload = false
		proc, err := os.FindProcess(pid)
		if err != nil {
			t.Fatal(err)
		}
		if err := proc.Kill(); err != nil {
			t.Fatal(err)
		}
		save(t, "main.py", reloadApp("fixed again"))
		waitBody(t, "/", "fixed again ")
		// Started again, it runs the frozen.py saved since.
		waitBody(t, "/frozen/", "frozen3 ")
		pollUntil(t, 30*time.Second, func() bool { return state().State == wire.StateRunning },
			func() string { st := state(); return fmt.Sprintf("not running: %s %q", st.State, st.Reason) })
	})

	t.Run("a stop ends the watcher", func(t *testing.T) {
		if err := m.Stop(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
		before := startsOf("api")
		save(t, "main.py", reloadApp("stopped"))
		time.Sleep(3 * reloadDebounce)
		if n := startsOf("api") - before; n != 0 {
			t.Errorf("a stopped project started %d times on a save", n)
		}
		if st := state(); st.State != wire.StateStopped {
			t.Errorf("after a save the stopped project is %s", st.State)
		}
	})
}

// countingRunner is a Runner that counts its starts.
type countingRunner struct {
	stacks.Runner
	start func()
}

func (c *countingRunner) Start(ctx context.Context) (stacks.Upstream, error) {
	c.start()
	return c.Runner.Start(ctx)
}

// pollUntil polls cond every 50 ms until it holds, failing the test with
// what() after limit.
func pollUntil(t *testing.T, limit time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReloadAfterFailedStart: a project whose start fails (a syntax error
// in main.py) starts on the next good save, as devport start would, with
// no one asking; one the user stopped after such a failure stays stopped.
func TestReloadAfterFailedStart(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	dir := t.TempDir()
	const broken = "async def app(scope, receive, send:\n" // a SyntaxError at import
	writeFiles(t, dir, map[string]string{
		"devport.toml": "[services.api]\nstack = \"uvicorn\"\napp = \"main:app\"\n",
		"main.py":      broken,
	})
	testenv.Need(t, "python3-uvicorn", stacks.Check("uvicorn", dir) == nil, testenv.InstallFix)
	var starts atomic.Int64
	newRunner := m.newRunner
	m.newRunner = func(s stacks.Spec) (stacks.Runner, error) {
		r, err := newRunner(s)
		if err != nil {
			return nil, err
		}
		return &countingRunner{Runner: r, start: func() { starts.Add(1) }}, nil
	}
	if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "shop"}); err != nil {
		t.Fatal(err)
	}
	port := serveTest(t, m)
	c := siteClient(t, m, port)
	state := func() wire.ProjectStatus {
		st, err := m.Status(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	failStart := func(t *testing.T) {
		t.Helper()
		writeFiles(t, dir, map[string]string{"main.py": broken})
		if err := m.Start(ctx, "shop"); err == nil || !strings.Contains(err.Error(), "SyntaxError") {
			t.Fatalf("start of a broken main.py: %v, want the SyntaxError", err)
		}
		if st := state(); st.State != wire.StateFailed {
			t.Fatalf("after the failed start: %s %q", st.State, st.Reason)
		}
	}

	t.Run("a good save starts a project whose start failed", func(t *testing.T) {
		failStart(t)
		// The watcher of the failed run starts in the background: the
		// save is made again until it is seen, as a user would.
		var status int
		var body string
		saved := time.Time{}
		pollUntil(t, 30*time.Second, func() bool {
			if time.Since(saved) > 2*time.Second {
				writeFiles(t, dir, map[string]string{"main.py": reloadApp("fixed")})
				saved = time.Now()
			}
			resp, err := c.Get("https://shop.test/")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			status, body = resp.StatusCode, string(b)
			return status == 200 && strings.HasPrefix(body, "fixed ")
		}, func() string {
			st := state()
			return fmt.Sprintf("never answered the fix: last %d %q; %s %q", status, body, st.State, st.Reason)
		})
		if st := state(); st.State != wire.StateRunning {
			t.Errorf("after the good save: %s %q", st.State, st.Reason)
		}
		// Broken and fixed again, the running project reloads as ever.
		writeFiles(t, dir, map[string]string{"main.py": reloadApp("again")})
		pollUntil(t, 30*time.Second, func() bool {
			resp, err := c.Get("https://shop.test/")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return strings.HasPrefix(string(b), "again ")
		}, func() string { return "the running project did not reload" })
	})

	t.Run("a project stopped after a failed start stays stopped", func(t *testing.T) {
		if err := m.Stop(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
		failStart(t)
		if err := m.Stop(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
		before := starts.Load()
		writeFiles(t, dir, map[string]string{"main.py": reloadApp("stopped")})
		time.Sleep(3*reloadDebounce + reloadAlive)
		if n := starts.Load() - before; n != 0 {
			t.Errorf("a stopped project started %d times on a save", n)
		}
		if st := state(); st.State != wire.StateStopped {
			t.Errorf("after a save the stopped project is %s %q", st.State, st.Reason)
		}
	})
}
