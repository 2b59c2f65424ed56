package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// djangoProject makes a project with django-admin startproject mysite in
// a new folder and appends extra to its settings.
func djangoProject(t *testing.T, extra string) string {
	t.Helper()
	djangoAdmin := testenv.Tool(t, "django-admin")
	dir := filepath.Join(t.TempDir(), "site")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(djangoAdmin, "startproject", "mysite", dir).CombinedOutput(); err != nil {
		t.Fatalf("django-admin startproject: %v\n%s", err, out)
	}
	if extra != "" {
		settings := filepath.Join(dir, "mysite", "settings.py")
		b, err := os.ReadFile(settings)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(settings, append(b, "\n"+extra+"\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadDjango(t *testing.T) {
	if !isExecutable("/usr/bin/python3") {
		t.Skip("needs Debian's /usr/bin/python3 with python3-django")
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		extra string
		check func(t *testing.T, dir string, ds djangoConf, err error)
	}{
		{"startproject as made", "", func(t *testing.T, dir string, ds djangoConf, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if ds.Module != "mysite.settings" || ds.File != "mysite/settings.py" || ds.StaticURL != "/static/" || ds.StaticRoot != "" ||
				ds.WSGIApplication != "mysite.wsgi.application" || !ds.Debug || len(ds.AllowedHosts) != 0 || !ds.StaticFiles || ds.Version[0] < 3 {
				t.Errorf("settings: %+v", ds)
			}
			if ds.Python != "/usr/bin/python3" { // the one that imports gunicorn for the wsgi stack
				t.Errorf("read with %s", ds.Python)
			}
		}},
		{"relative and absolute folders", `STATIC_ROOT = "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "uploads"
ALLOWED_HOSTS = [".test"]
CSRF_TRUSTED_ORIGINS = ["https://site.test:8443"]
DEBUG = False`, func(t *testing.T, dir string, ds djangoConf, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if ds.StaticRoot != filepath.Join(dir, "staticfiles") || ds.MediaURL != "/media/" || ds.MediaRoot != filepath.Join(dir, "uploads") {
				t.Errorf("folders: %+v", ds)
			}
			if !slices.Equal(ds.AllowedHosts, []string{".test"}) || !slices.Equal(ds.CSRFTrustedOrigins, []string{"https://site.test:8443"}) || ds.Debug {
				t.Errorf("hosts: %+v", ds)
			}
		}},
		{"settings that print", `print("hello from the settings")`, func(t *testing.T, dir string, ds djangoConf, err error) {
			if err != nil || ds.Module != "mysite.settings" {
				t.Errorf("%+v, %v", ds, err)
			}
		}},
		{"settings that fail", `import not_installed_anywhere`, func(t *testing.T, dir string, ds djangoConf, err error) {
			if err == nil || errors.Is(err, errNotDjango) || !strings.Contains(err.Error(), "No module named 'not_installed_anywhere'") {
				t.Errorf("err = %v, want Python's ModuleNotFoundError", err)
			}
		}},
		{"settings that hang", `import time; time.sleep(30)`, func(t *testing.T, dir string, ds djangoConf, err error) {
			if err == nil || !strings.Contains(err.Error(), "did not read mysite.settings within") {
				t.Errorf("err = %v, want the timeout", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := djangoProject(t, tc.extra)
			if strings.Contains(tc.name, "hang") {
				old := djangoReadTimeout
				djangoReadTimeout = 500 * time.Millisecond
				defer func() { djangoReadTimeout = old }()
			}
			ds, err := readDjango(ctx, dir, stackdef.WSGI)
			tc.check(t, dir, ds, err)
		})
	}
	t.Run("no manage.py", func(t *testing.T) {
		if _, err := readDjango(ctx, t.TempDir(), stackdef.WSGI); !errors.Is(err, errNotDjango) {
			t.Errorf("err = %v, want errNotDjango", err)
		}
	})
}

func TestDjangoRoutes(t *testing.T) {
	root := t.TempDir()
	if err := os.Symlink("/etc", filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	p := store.Project{Name: "site", Root: root}
	for _, tc := range []struct {
		name string
		ds   djangoConf
		want []string // prefix=folder, relative to root
	}{
		{"static and media", djangoConf{StaticURL: "/static/", StaticRoot: filepath.Join(root, "staticfiles"),
			MediaURL: "/media/", MediaRoot: filepath.Join(root, "media")}, []string{"/static=staticfiles", "/media=media"}},
		{"no STATIC_ROOT", djangoConf{StaticURL: "/static/", MediaURL: "/"}, nil},
		{"a nested URL", djangoConf{StaticURL: "/assets/static/", StaticRoot: filepath.Join(root, "collected")}, []string{"/assets/static=collected"}},
		{"a CDN", djangoConf{StaticURL: "https://cdn.example.com/static/", StaticRoot: filepath.Join(root, "staticfiles")}, nil},
		{"a protocol-relative URL", djangoConf{StaticURL: "//cdn.example.com/static/", StaticRoot: filepath.Join(root, "staticfiles")}, nil},
		{"outside the project", djangoConf{StaticURL: "/static/", StaticRoot: "/var/www/static"}, nil},
		{"the project folder itself", djangoConf{StaticURL: "/static/", StaticRoot: root}, nil},
		{"out through a symlink", djangoConf{StaticURL: "/static/", StaticRoot: filepath.Join(root, "out")}, nil},
		{"MEDIA_URL at the root", djangoConf{MediaURL: "/", MediaRoot: filepath.Join(root, "media")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range djangoRoutes(p, tc.ds) {
				if r.Kind != store.RouteStatic || r.Project != "site" || r.CacheControl != staticCacheControl {
					t.Errorf("route %+v", r)
				}
				got = append(got, r.PathPrefix+"="+relTo(root, r.Target))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("routes %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDjangoWarnings(t *testing.T) {
	for _, tc := range []struct {
		name string
		ds   djangoConf
		port int
		want []string // substrings of each warning, in order; none for no warning
	}{
		{"DEBUG with no hosts", djangoConf{Debug: true, Version: [2]int{3, 2}, File: "mysite/settings.py"}, 8443,
			[]string{`allows only .localhost, 127.0.0.1 and [::1]): add to mysite/settings.py: ALLOWED_HOSTS = ["site.test"]`}},
		{"no DEBUG, no hosts", djangoConf{Version: [2]int{3, 2}}, 443,
			[]string{`ALLOWED_HOSTS [] refuses site.test: add to settings.py: ALLOWED_HOSTS = ["site.test"]`}},
		{"another host", djangoConf{AllowedHosts: []string{"example.com"}, Version: [2]int{3, 2}}, 443,
			[]string{`ALLOWED_HOSTS ['example.com'] refuses site.test: add to settings.py: ALLOWED_HOSTS = [*ALLOWED_HOSTS, "site.test"]`}},
		{"a parent domain", djangoConf{AllowedHosts: []string{"test"}, Version: [2]int{3, 2}}, 443, []string{"refuses site.test"}},
		{".test", djangoConf{AllowedHosts: []string{".test"}, Version: [2]int{3, 2}}, 8443, nil},
		{"the domain", djangoConf{AllowedHosts: []string{"SITE.test"}, Version: [2]int{3, 2}}, 8443, nil},
		{"*", djangoConf{AllowedHosts: []string{"*"}, Version: [2]int{3, 2}}, 8443, nil},
		{"DEBUG with .localhost", djangoConf{Debug: true, Version: [2]int{3, 2}}, 443, nil}, // domain below is site.test
		{"Django 4 on 443", djangoConf{AllowedHosts: []string{"*"}, Version: [2]int{4, 2}}, 443, nil},
		{"Django 4 on 8443", djangoConf{AllowedHosts: []string{"*"}, Version: [2]int{4, 2}, File: "mysite/settings.py"}, 8443,
			[]string{`CSRF_TRUSTED_ORIGINS [] refuses forms posted from https://site.test:8443 (Django 4.2): add to mysite/settings.py: CSRF_TRUSTED_ORIGINS = ["https://site.test:8443"]`}},
		{"Django 4 with the port unknown", djangoConf{AllowedHosts: []string{"*"}, Version: [2]int{5, 0}}, 0,
			[]string{`https://site.test (Django 5.0) when devport serves HTTPS on a port other than 443`}},
		{"Django 4 with the origin", djangoConf{AllowedHosts: []string{"*"}, Version: [2]int{4, 2}, CSRFTrustedOrigins: []string{"https://site.test:8443"}}, 8443, nil},
		{"Django 4 with a wildcard", djangoConf{AllowedHosts: []string{"*"}, Version: [2]int{4, 2}, CSRFTrustedOrigins: []string{"https://*.test:8443"}}, 8443, nil},
		{"Django 4 with another port", djangoConf{AllowedHosts: []string{"*"}, Version: [2]int{4, 2}, CSRFTrustedOrigins: []string{"https://site.test:9443"}}, 8443,
			[]string{`CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, "https://site.test:8443"]`}},
		{"Django 4 with http", djangoConf{AllowedHosts: []string{"*"}, Version: [2]int{4, 2}, CSRFTrustedOrigins: []string{"http://site.test:8443"}}, 8443,
			[]string{"refuses forms posted from https://site.test:8443"}},
		{"both", djangoConf{Version: [2]int{4, 1}}, 8443, []string{"ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			domain := "site.test"
			if strings.Contains(tc.name, ".localhost") {
				domain = "site.localhost"
			}
			got := djangoWarnings(tc.ds, domain, tc.port)
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q, want %q in it", got[i], w)
				}
			}
		})
	}
}

func TestDjangoASGIApp(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"mysite/asgi.py", "config/settings/base.py", "config/asgi.py"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		ds   djangoConf
		want string
	}{
		{"ASGI_APPLICATION", djangoConf{ASGIApplication: "proj.routing.application"}, "proj.routing:application"},
		{"asgi.py beside the settings", djangoConf{Module: "mysite.settings"}, "mysite.asgi:application"},
		{"asgi.py beside the WSGI module", djangoConf{Module: "config.settings.base", WSGIApplication: "config.wsgi.application"}, "config.asgi:application"},
		{"none", djangoConf{Module: "other.settings", WSGIApplication: "other.wsgi.application"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := djangoASGIApp(root, tc.ds); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDjangoPreview: devport add's preview of a startproject folder, and
// the routes planAdd and devport init make of it.
func TestDjangoPreview(t *testing.T) {
	if !isExecutable("/usr/bin/python3") {
		t.Skip("needs Debian's /usr/bin/python3 with python3-django")
	}
	for _, tc := range []struct {
		name    string
		extra   string
		want    []string
		notWant []string
		routes  []string
	}{
		{"as made", "", []string{
			"service web: wsgi at /, app mysite.wsgi:application",
			"Django 3.", "settings mysite.settings, read with /usr/bin/python3",
			`warning: ALLOWED_HOSTS [] refuses site.test (with DEBUG and no ALLOWED_HOSTS`, `ALLOWED_HOSTS = ["site.test"]`,
			"or: devport add DIR --stack uvicorn --app mysite.asgi:application",
		}, []string{"route /static"}, nil},
		{"STATIC_ROOT and MEDIA_ROOT", `STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"
ALLOWED_HOSTS = [".test"]`, []string{
			"route /static → static staticfiles (collectstatic --noinput fills it before each start)",
			"route /media → static media\n",
		}, []string{"warning:", "static/ served"}, []string{"/static=staticfiles", "/media=media"}},
		{"static/ as a source", `STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
ALLOWED_HOSTS = ["*"]`, []string{"route /static → static staticfiles"}, []string{"static/ served", "warning:"}, []string{"/static=staticfiles"}},
		{"unreadable settings", `raise RuntimeError("no SECRET in the environment")`, []string{
			"Django settings not read (/usr/bin/python3 could not read mysite.settings: RuntimeError: no SECRET in the environment): detected from the files only",
			"service web: wsgi at /, app mysite.wsgi:application",
		}, []string{"route /static", "warning:"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := djangoProject(t, tc.extra)
			if tc.name == "static/ as a source" {
				if err := os.MkdirAll(filepath.Join(dir, "static"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			out, err := DescribeAdd(wire.AddRequest{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, strings.ReplaceAll(w, "DIR", dir)) {
					t.Errorf("preview lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("preview has %q:\n%s", w, out)
				}
			}
			if tc.routes == nil {
				return
			}
			var got []string
			for _, r := range staticFolderRoutes(store.Project{Name: "site", Root: dir,
				Services: []store.Service{{Name: "web", Stack: stackdef.WSGI, Runtime: wire.RuntimeProcess}}}) {
				got = append(got, r.PathPrefix+"="+relTo(dir, r.Target))
				if fi, err := os.Stat(r.Target); err != nil || !fi.IsDir() {
					t.Errorf("route %s: its folder %s was not made", r.PathPrefix, r.Target)
				}
			}
			if !slices.Equal(got, tc.routes) {
				t.Errorf("routes %q, want %q", got, tc.routes)
			}
			// devport init writes them, and add of the file stores them.
			path, lines, err := InitFile(dir, false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(lines, "route /static → static staticfiles") {
				t.Errorf("init wrote %q (%s)", lines, path)
			}
		})
	}
}

// TestCollectStatic: before a start, collectstatic fills STATIC_ROOT with
// the service's interpreter, its output goes to the service's log, and a
// failure fails the start with its tail.
func TestCollectStatic(t *testing.T) {
	if !isExecutable("/usr/bin/python3") {
		t.Skip("needs Debian's /usr/bin/python3 with python3-django")
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		extra   string
		wantErr string // in the error, "" for none
		want    string // a file collected, relative to the project, "" for none
	}{
		{"STATIC_ROOT", `STATIC_ROOT = BASE_DIR / "staticfiles"`, "", "staticfiles/admin/css/base.css"},
		{"no STATIC_ROOT", "", "", ""},
		{"a failing collectstatic", `STATIC_ROOT = BASE_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]`, "The STATICFILES_DIRS setting should not contain the STATIC_ROOT setting", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := djangoProject(t, tc.extra)
			if err := os.MkdirAll(filepath.Join(dir, "static"), 0o755); err != nil {
				t.Fatal(err)
			}
			m := testManager(t)
			p, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "site"})
			if err != nil {
				t.Fatal(err)
			}
			err = m.collectStatic(ctx, p)
			log, _ := os.ReadFile(m.paths.ServiceLog("site", "web"))
			var ce *CollectStaticError
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("collectStatic: %v", err)
			case tc.wantErr != "" && (!errors.As(err, &ce) || !strings.Contains(ce.Tail, tc.wantErr) || !strings.Contains(err.Error(), "manage.py collectstatic --noinput failed")):
				t.Fatalf("collectStatic: %v, want a *CollectStaticError with %q", err, tc.wantErr)
			}
			if tc.want != "" {
				if _, err := os.Stat(filepath.Join(dir, tc.want)); err != nil {
					t.Errorf("not collected: %v", err)
				}
				if !strings.Contains(string(log), "/usr/bin/python3 manage.py collectstatic --noinput") || !strings.Contains(string(log), "static files copied") {
					t.Errorf("log:\n%s", log)
				}
			}
			if tc.wantErr == "" && tc.want == "" && strings.Contains(string(log), "collectstatic") { // the warnings of the settings are there
				t.Errorf("ran with no STATIC_ROOT:\n%s", log)
			}
		})
	}
}

// TestCollectStaticOnSave: the static sources are read from the settings
// (STATICFILES_DIRS and each app's static/ folder), and while the project
// runs a change under one runs collectstatic again, with no restart of the
// service: the proxy serves the new file from STATIC_ROOT at once.
func TestCollectStaticOnSave(t *testing.T) {
	if !isExecutable("/usr/bin/python3") {
		t.Skip("needs Debian's /usr/bin/python3 with python3-django")
	}
	ctx := context.Background()
	dir := djangoProject(t, `STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "assets"]
INSTALLED_APPS += ["polls.apps.PollsConfig"]
ALLOWED_HOSTS = ["*"]`)
	writeFiles(t, dir, map[string]string{
		"polls/__init__.py":           "",
		"polls/apps.py":               "from django.apps import AppConfig\n\n\nclass PollsConfig(AppConfig):\n    name = \"polls\"\n",
		"polls/static/polls/site.css": "body { color: red }\n",
		"assets/app.js":               "console.log(1)\n",
	})

	ds, err := readDjango(ctx, dir, stackdef.WSGI)
	if err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(dir) // BASE_DIR is resolved
	var inProject []string
	admin := false
	for _, s := range ds.StaticSources {
		switch {
		case within(real, s):
			inProject = append(inProject, relTo(real, s))
		case strings.HasSuffix(s, filepath.Join("django", "contrib", "admin", "static")):
			admin = true
		}
	}
	if !slices.Equal(inProject, []string{"assets", "polls/static"}) || !admin {
		t.Fatalf("static sources %q, want assets, polls/static and the admin's", ds.StaticSources)
	}

	m := testManager(t)
	var starts atomic.Int64
	newRunner := m.newRunner
	m.newRunner = func(s stacks.Spec) (stacks.Runner, error) {
		r, err := newRunner(s)
		if err != nil {
			return nil, err
		}
		return &countingRunner{Runner: r, start: func() { starts.Add(1) }}, nil
	}
	if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "site"}); err != nil {
		t.Fatal(err)
	}
	port := serveTest(t, m)
	if err := m.Start(ctx, "site"); err != nil {
		t.Fatal(err)
	}
	c := siteClient(t, m, port)
	get := func(path string) string {
		resp, err := c.Get("https://site.test" + path)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, b)
	}
	for _, tc := range []struct{ name, source, collected, url string }{
		{"an app's static folder", "polls/static/polls/site.css", "staticfiles/polls/site.css", "/static/polls/site.css"},
		{"STATICFILES_DIRS", "assets/app.js", "staticfiles/app.js", "/static/app.js"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(tc.url); !strings.HasPrefix(got, "200 ") {
				t.Fatalf("before the change %s: %q", tc.url, got)
			}
			body := "/* changed " + tc.name + " */\n"
			// The watcher reads the settings before it watches, in the
			// background of the start: the save is made again until seen.
			saved := time.Time{}
			pollUntil(t, 30*time.Second, func() bool {
				if time.Since(saved) > 2*time.Second {
					writeFiles(t, dir, map[string]string{tc.source: body})
					saved = time.Now()
				}
				b, _ := os.ReadFile(filepath.Join(dir, tc.collected))
				return string(b) == body
			}, func() string {
				b, _ := os.ReadFile(filepath.Join(dir, tc.collected))
				return fmt.Sprintf("%s not collected again: %q", tc.collected, b)
			})
			if got := get(tc.url); got != "200 "+body {
				t.Errorf("%s after the change: %q", tc.url, got)
			}
		})
	}
	time.Sleep(3 * reloadDebounce) // a wrong restart would start by now
	if n := starts.Load(); n != 1 {
		t.Errorf("the service started %d times, want 1: a static file restarts nothing", n)
	}
	if st, err := m.Status(ctx, "site"); err != nil || st.State != wire.StateRunning {
		t.Errorf("after the changes: %+v, %v", st, err)
	}
}

// TestDjangoWarningsAtStart: a start names the settings that refuse the
// project's domain in the service's log, with the line to add.
func TestDjangoWarningsAtStart(t *testing.T) {
	m := testManager(t)
	p := store.Project{Name: "site", Domains: []string{"site.test"}}
	m.warnDjango(p, store.Service{Name: "web"}, djangoConf{Debug: true, Version: [2]int{3, 2}, File: "mysite/settings.py"})
	log, err := os.ReadFile(m.paths.ServiceLog("site", "web"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `devport: warning: ALLOWED_HOSTS [] refuses site.test`; !strings.Contains(string(log), want) ||
		!strings.Contains(string(log), `add to mysite/settings.py: ALLOWED_HOSTS = ["site.test"]`) {
		t.Errorf("log:\n%s\nwant %q and the line to add", log, want)
	}
	m.warnDjango(store.Project{Name: "ok", Domains: []string{"ok.test"}}, store.Service{Name: "web"}, djangoConf{AllowedHosts: []string{"*"}, Version: [2]int{3, 2}})
	if _, err := os.Stat(m.paths.ServiceLog("ok", "web")); err == nil {
		t.Errorf("a project its settings allow got warnings")
	}
}
