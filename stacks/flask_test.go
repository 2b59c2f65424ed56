//go:build unix

package stacks

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// flaskrFactory is the shape of Flask's tutorial: the app made by
// create_app(test_config=None) in flaskr/__init__.py, its files in
// flaskr/static.
var flaskrFactory = map[string]string{
	"flaskr/__init__.py": `import os

from flask import Flask, url_for


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)

    @app.route("/")
    def index():
        return "factory ok " + url_for("static", filename="style.css")

    return app
`,
	"flaskr/static/style.css": "body { color: teal }\n",
	"tests/conftest.py":       "from flaskr import create_app\napp = create_app({'TESTING': True})\n",
}

// TestFlaskFactoryServes: a Flask factory is detected as
// flaskr:create_app(), and gunicorn and uWSGI both call it and serve the
// app, at the root and under a prefix; its static files are Flask's
// flaskr/static at /static.
func TestFlaskFactoryServes(t *testing.T) {
	requireLinux(t)
	for _, c := range []struct {
		stack, prefix string
	}{
		{stackdef.WSGI, ""},
		{stackdef.WSGI, "/app"},
		{stackdef.UWSGI, ""},
		{stackdef.UWSGI, "/app"},
	} {
		t.Run(c.stack+c.prefix, func(t *testing.T) {
			t.Parallel()
			requireStack(t, c.stack)
			spec := testSpec(t, c.stack, flaskrFactory)
			d, err := Detect(spec.Dir)
			if err != nil || d != (Detection{Stack: stackdef.WSGI, App: "flaskr:create_app()"}) {
				t.Fatalf("Detect = %+v, %v; want wsgi flaskr:create_app()", d, err)
			}
			want := StaticFolder{URL: "/static", Dir: filepath.Join(spec.Dir, "flaskr", "static"), Flask: true}
			if got := AppStatic(spec.Dir, c.stack, d.App); got != want {
				t.Errorf("AppStatic = %+v, want %+v", got, want)
			}
			spec.App, spec.PathPrefix, spec.Workers = d.App, c.prefix, 1
			up := startRunner(t, mustRunner(t, spec))
			var status int
			var body string
			if c.stack == stackdef.UWSGI {
				status, body = uwsgiGet(t, up, c.prefix+"/", nil, nil)
			} else {
				status, body = get(t, up, c.prefix+"/", nil)
			}
			if wantBody := "factory ok " + c.prefix + "/static/style.css"; status != 200 || !strings.Contains(body, wantBody) {
				t.Errorf("GET %s/ = %d %q, want 200 with %q", c.prefix, status, body, wantBody)
			}
		})
	}
}

// TestAppFactoryStacks: a factory given as MODULE:FACTORY() runs under
// every stack that serves its kind: an ASGI factory under uvicorn (as
// MODULE:FACTORY --factory), at the root and under a prefix, and under
// gunicorn with uvicorn workers.
func TestAppFactoryStacks(t *testing.T) {
	requireLinux(t)
	files := map[string]string{"api/__init__.py": `from fastapi import FastAPI, Request


def create_app():
    app = FastAPI()

    @app.get("/")
    def root(request: Request):
        return {"factory": True, "root_path": request.scope.get("root_path", "")}

    return app
`}
	for _, c := range []struct {
		stack, prefix string
	}{
		{stackdef.Uvicorn, ""},
		{stackdef.Uvicorn, "/api"},
		{stackdef.Gunicorn, ""},
	} {
		t.Run(c.stack+c.prefix, func(t *testing.T) {
			t.Parallel()
			requireStack(t, c.stack)
			spec := testSpec(t, c.stack, files)
			spec.App, spec.PathPrefix, spec.Workers = "api:create_app()", c.prefix, 1
			up := startRunner(t, mustRunner(t, spec))
			// The proxy strips the prefix for the ASGI stacks.
			want := `"factory":true,"root_path":"` + c.prefix + `"`
			if status, body := get(t, up, "/", nil); status != 200 || !strings.Contains(body, want) {
				t.Errorf("GET / = %d %q, want 200 with %s", status, body, want)
			}
		})
	}
}

// TestUvicornFactoryArgs: uvicorn is given a factory as MODULE:FACTORY
// --factory, in the process runtime and in a container's run script, and
// an app as it is.
func TestUvicornFactoryArgs(t *testing.T) {
	for _, c := range []struct{ app, want string }{
		{"api:create_app()", "api:create_app --factory"},
		{"main:app", "main:app"},
		{"pkg.web:make_app()", "pkg.web:make_app --factory"},
	} {
		t.Run(c.app, func(t *testing.T) {
			if got := strings.Join(uvicornApp(c.app), " "); got != c.want {
				t.Errorf("uvicornApp(%q) = %q, want %q", c.app, got, c.want)
			}
			spec := testSpec(t, stackdef.Uvicorn, nil)
			spec.App, spec.Home = c.app, t.TempDir()
			p, err := planPython(spec, "python:3.12")
			if err != nil {
				t.Fatal(err)
			}
			if script := string(p.files[containerEntry]); !strings.Contains(script, "-m uvicorn "+c.want+" --host") {
				t.Errorf("run script does not run uvicorn with %q:\n%s", c.want, script)
			}
		})
	}
}

// staticMountApp mounts its own static files, as FastAPI's docs teach.
const staticMountApp = `from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

app = FastAPI()
app.mount("/static", StaticFiles(directory="assets"), name="static")


@app.get("/page")
def page(request: Request):
    return {"css": str(request.url_for("static", path="style.css"))}
`

// TestFastAPIStaticFilesMount: a FastAPI app that mounts StaticFiles serves
// them itself behind devport, at the root and under a prefix the proxy
// strips (uvicorn's root_path), and AppStatic says it owns them, so no
// route of the proxy's takes /static from it (here static/ holds other
// files, which the proxy must not serve in the mount's place).
func TestFastAPIStaticFilesMount(t *testing.T) {
	requireLinux(t)
	for _, prefix := range []string{"", "/api"} {
		t.Run("prefix "+prefix, func(t *testing.T) {
			t.Parallel()
			requireStack(t, stackdef.Uvicorn)
			spec := testSpec(t, stackdef.Uvicorn, map[string]string{"main.py": staticMountApp,
				"assets/style.css": "h1 { color: red }\n", "static/sources.scss": "$x: 1;\n"})
			d, err := Detect(spec.Dir)
			if err != nil || d.App != "main:app" {
				t.Fatalf("Detect = %+v, %v", d, err)
			}
			if got := AppStatic(spec.Dir, stackdef.Uvicorn, d.App); !got.Own || got.URL != "" {
				t.Errorf("AppStatic = %+v, want Own and no URL", got)
			}
			spec.App, spec.PathPrefix = d.App, prefix
			up := startRunner(t, mustRunner(t, spec))
			// The proxy strips the prefix for the ASGI stacks.
			resp, body := fetch(t, up, "/static/style.css")
			if resp.StatusCode != 200 || body != "h1 { color: red }\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
				t.Errorf("GET /static/style.css = %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			if _, body := fetch(t, up, "/page"); !strings.Contains(body, prefix+"/static/style.css") {
				t.Errorf("url_for(static) = %s, want it under %q", body, prefix+"/static/")
			}
		})
	}
}

// fetch is get with the response's header.
func fetch(t *testing.T, up Upstream, path string) (*http.Response, string) {
	t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, up.Network, up.Address)
	}}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://shop.test"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s via %s: %v", path, up, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}
