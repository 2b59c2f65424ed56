package engine

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/store"
)

const (
	fastAPIMain   = "from fastapi import FastAPI\napp = FastAPI()\n"
	flaskrFactory = "from flask import Flask\n\ndef create_app(test_config=None):\n    app = Flask(__name__, instance_relative_config=True)\n    return app\n"
)

// TestAppErrorListsCandidates: an app that detection cannot decide, or an
// --app missing or wrong for the stack, gets an error that lists the apps
// found in the folder's modules, as flags to paste.
func TestAppErrorListsCandidates(t *testing.T) {
	m := testManager(t)
	tests := []struct {
		name  string
		files map[string]string
		req   wire.AddRequest
		want  []string
	}{
		{name: "detection cannot decide between two apps", files: map[string]string{"server.py": fastAPIMain, "flaskr/__init__.py": flaskrFactory},
			want: []string{"--stack uvicorn --app server:app", "--stack wsgi --app 'flaskr:create_app()'"}},
		{name: "--stack wsgi without --app on a FastAPI project names the apps of other stacks", files: map[string]string{"main.py": fastAPIMain},
			req: wire.AddRequest{Stack: stackdef.WSGI}, want: []string{"wsgi needs the app as MODULE:ATTRIBUTE", "--stack uvicorn --app main:app"}},
		{name: "a wrong --app lists the ones the stack runs", files: map[string]string{"flaskr/__init__.py": flaskrFactory, "main.py": fastAPIMain},
			req: wire.AddRequest{Stack: stackdef.UWSGI, App: "flaskr"}, want: []string{"--app 'flaskr:create_app()'"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			tc.req.Dir, tc.req.Name = dir, "site"
			_, err := m.plan(tc.req)
			if err == nil {
				t.Fatal("plan succeeded")
			}
			msg := err.Error()
			if ve, ok := err.(*store.ValidationError); ok {
				msg += " " + ve.Fix
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
	t.Run("an ASGI factory is planned under uvicorn, which runs it with --factory", func(t *testing.T) {
		dir := writeTree(t, map[string]string{"api/__init__.py": "from fastapi import FastAPI\ndef create_app():\n    return FastAPI()\n"})
		for _, stack := range []string{"", stackdef.Uvicorn, stackdef.Gunicorn} {
			p, err := m.plan(wire.AddRequest{Dir: dir, Name: "site", Stack: stack})
			if err != nil {
				t.Fatalf("stack %q: %v", stack, err)
			}
			if s := p.Services[0]; s.App != "api:create_app()" || (stack == "" && s.Stack != stackdef.Uvicorn) {
				t.Errorf("stack %q: planned %s %s", stack, s.Stack, s.App)
			}
		}
	})
	t.Run("a factory under gunicorn, wsgi and uwsgi is planned", func(t *testing.T) {
		dir := writeTree(t, map[string]string{"flaskr/__init__.py": flaskrFactory})
		for _, stack := range []string{"", stackdef.UWSGI} {
			p, err := m.plan(wire.AddRequest{Dir: dir, Name: "site", Stack: stack})
			if err != nil {
				t.Fatalf("stack %q: %v", stack, err)
			}
			if s := p.Services[0]; s.App != "flaskr:create_app()" || (stack == "" && s.Stack != stackdef.WSGI) {
				t.Errorf("stack %q: planned %s %s", stack, s.Stack, s.App)
			}
		}
	})
}

// TestPythonStaticRoutes: Flask's static folder is routed where Flask
// serves it (flaskr/static for a factory in flaskr/, its static_url_path),
// a FastAPI app that mounts its own StaticFiles gets no route of the
// proxy's, and one without keeps static/ at /static.
func TestPythonStaticRoutes(t *testing.T) {
	tests := []struct {
		name, stack, app string
		files            map[string]string
		want             string // "PREFIX FOLDER", "" for no route
		note             string // in folderNotes
	}{
		{name: "Flask factory: flaskr/static at /static", stack: stackdef.WSGI, app: "flaskr:create_app()",
			files: map[string]string{"flaskr/__init__.py": flaskrFactory, "flaskr/static/style.css": ""},
			want:  "/static flaskr/static", note: "flaskr/static/ served by the proxy at /static"},
		{name: "Flask static_url_path", stack: stackdef.UWSGI, app: "app:app",
			files: map[string]string{"app.py": "from flask import Flask\napp = Flask(__name__, static_url_path='/assets')\n", "static/a.css": ""},
			want:  "/assets static", note: "static/ served by the proxy at /assets"},
		{name: "Flask factory without its static folder", stack: stackdef.WSGI, app: "flaskr:create_app()",
			files: map[string]string{"flaskr/__init__.py": flaskrFactory, "static/a.css": ""}},
		{name: "FastAPI with a StaticFiles mount: none", stack: stackdef.Uvicorn, app: "main:app",
			files: map[string]string{"main.py": fastAPIMain + "from fastapi.staticfiles import StaticFiles\napp.mount('/static', StaticFiles(directory='static'), name='static')\n", "static/a.css": ""},
			note:  "StaticFiles mount"},
		{name: "FastAPI without a mount: static/ at /static", stack: stackdef.Uvicorn, app: "main:app",
			files: map[string]string{"main.py": fastAPIMain, "static/a.css": ""},
			want:  "/static static", note: "static/ served by the proxy at /static"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			routes := staticFolderRoutes(store.Project{Name: "site", Root: dir,
				Services: []store.Service{{Name: "web", Stack: tc.stack, App: tc.app, Runtime: wire.RuntimeProcess}}})
			got := ""
			if len(routes) > 1 {
				t.Fatalf("routes = %+v", routes)
			}
			if len(routes) == 1 {
				rel, _ := filepath.Rel(dir, routes[0].Target)
				got = routes[0].PathPrefix + " " + filepath.ToSlash(rel)
			}
			if got != tc.want {
				t.Errorf("routes = %q, want %q", got, tc.want)
			}
			notes := strings.Join(folderNotes(dir, tc.stack), "; ")
			if !strings.Contains(notes, tc.note) || tc.note == "" && strings.Contains(notes, "static") {
				t.Errorf("folderNotes = %q, want %q", notes, tc.note)
			}
		})
	}
}
