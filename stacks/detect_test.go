//go:build unix

package stacks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/stackdef"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    Detection // DocRoot relative to the folder
		wantMsg string    // error substring
	}{
		{name: "index.php", files: map[string]string{"index.php": "<?php"}, want: Detection{Stack: stackdef.PHP}},
		{name: "public/index.php", files: map[string]string{"public/index.php": "<?php"}, want: Detection{Stack: stackdef.PHP, DocRoot: "public"}},
		{name: "composer.json with public", files: map[string]string{"composer.json": "{}", "public/app.php": ""}, want: Detection{Stack: stackdef.PHP, DocRoot: "public"}},
		{name: "composer.json alone", files: map[string]string{"composer.json": "{}"}, want: Detection{Stack: stackdef.PHP}},
		{name: "FastAPI in main.py", files: map[string]string{"main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"}, want: Detection{Stack: stackdef.Uvicorn, App: "main:app"}},
		{name: "other variable name", files: map[string]string{"main.py": "import fastapi\nserver = fastapi.FastAPI(title='x')\n"}, want: Detection{Stack: stackdef.Uvicorn, App: "main:server"}},
		{name: "annotated", files: map[string]string{"main.py": "api: FastAPI = FastAPI()\n"}, want: Detection{Stack: stackdef.Uvicorn, App: "main:api"}},
		{name: "Starlette in app.py", files: map[string]string{"app.py": "from starlette.applications import Starlette\napplication = Starlette(routes=[])\n"}, want: Detection{Stack: stackdef.Uvicorn, App: "app:application"}},
		{name: "main.py before app.py", files: map[string]string{"app.py": "a = FastAPI()\n", "main.py": "m = FastAPI()\n"}, want: Detection{Stack: stackdef.Uvicorn, App: "main:m"}},
		{name: "main.py without an app falls to app.py", files: map[string]string{"main.py": "print('hi')\n", "app.py": "a = FastAPI()\n"}, want: Detection{Stack: stackdef.Uvicorn, App: "app:a"}},
		{name: "app inside a function is not module level", files: map[string]string{"main.py": "def make():\n    app = FastAPI()\n    return app\n"}, wantMsg: "--stack php|uvicorn"},
		{name: "php wins over python", files: map[string]string{"index.php": "", "main.py": "app = FastAPI()\n"}, want: Detection{Stack: stackdef.PHP}},
		{name: "nothing", files: map[string]string{"README.md": "hi"}, wantMsg: "looked for index.php, public/index.php and composer.json"},
		{name: "Flask in app.py", files: map[string]string{"app.py": "from flask import Flask\n\napp = Flask(__name__)\n"}, want: Detection{Stack: stackdef.WSGI, App: "app:app"}},
		{name: "Flask in wsgi.py, other name", files: map[string]string{"wsgi.py": "import flask\nserver = flask.Flask(__name__)\n"}, want: Detection{Stack: stackdef.WSGI, App: "wsgi:server"}},
		{name: "Flask in main.py, annotated", files: map[string]string{"main.py": "from flask import Flask\napp: Flask = Flask(__name__)\n"}, want: Detection{Stack: stackdef.WSGI, App: "main:app"}},
		{name: "Flask in a function that is no factory is not module level", files: map[string]string{"app.py": "def make():\n    app = Flask(__name__)\n    return app\n"}, wantMsg: "`app = Flask(`"},
		{name: "Flask factory in app.py", files: map[string]string{"app.py": "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n"},
			want: Detection{Stack: stackdef.WSGI, App: "app:create_app()"}},
		{name: "Flask tutorial: flaskr/__init__.py's create_app(test_config=None)", files: map[string]string{
			"flaskr/__init__.py": "import os\n\nfrom flask import Flask\n\n\ndef create_app(test_config=None):\n    app = Flask(__name__, instance_relative_config=True)\n    return app\n",
			"flaskr/db.py":       "import sqlite3\n", "flaskr/static/style.css": "", "tests/conftest.py": "from flaskr import create_app\napp = create_app({'TESTING': True})\n"},
			want: Detection{Stack: stackdef.WSGI, App: "flaskr:create_app()"}},
		{name: "make_app is Flask's other factory name", files: map[string]string{"site/__init__.py": "import flask\ndef make_app(config: str = 'dev', **kw):\n    return flask.Flask(__name__)\n"},
			want: Detection{Stack: stackdef.WSGI, App: "site:make_app()"}},
		{name: "a factory that needs an argument is not called", files: map[string]string{"flaskr/__init__.py": "from flask import Flask\ndef create_app(config):\n    return Flask(__name__)\n"},
			wantMsg: "looked for index.php"},
		{name: "wsgi.py calling the package's factory is the same app", files: map[string]string{
			"flaskr/__init__.py": "from flask import Flask\ndef create_app():\n    return Flask(__name__)\n", "run.py": "from flaskr import create_app\napp = create_app()\n"},
			want: Detection{Stack: stackdef.WSGI, App: "flaskr:create_app()"}},
		{name: "FastAPI in a package", files: map[string]string{"app/__init__.py": "", "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"},
			want: Detection{Stack: stackdef.Uvicorn, App: "app.main:app"}},
		{name: "a FastAPI factory runs under uvicorn --factory", files: map[string]string{"api/__init__.py": "from fastapi import FastAPI\ndef create_app():\n    return FastAPI()\n"},
			want: Detection{Stack: stackdef.Uvicorn, App: "api:create_app()"}},
		{name: "a virtual environment is not the project's", files: map[string]string{"venv/app.py": "app = FastAPI()\n", "env2/pyvenv.cfg": "", "env2/x.py": "app = Flask(__name__)\n"},
			wantMsg: "no stack"},
		{name: "two apps: none chosen, both listed", files: map[string]string{"server.py": "app = FastAPI()\n", "admin/__init__.py": "from flask import Flask\ndef create_app():\n    return Flask(__name__)\n"},
			wantMsg: "apps found in the folder's modules: --stack uvicorn --app server:app, --stack wsgi --app 'admin:create_app()'"},
		{name: "an app of no known kind is listed, not chosen", files: map[string]string{"run.py": "from somewhere import create_app\napp = create_app()\n"},
			wantMsg: "--app run:app"},
		{name: "wsgi.py defining application", files: map[string]string{"wsgi.py": "def application(environ, start_response):\n    pass\n"}, want: Detection{Stack: stackdef.WSGI, App: "wsgi:application"}},
		{name: "wsgi.py without application", files: map[string]string{"wsgi.py": "def make(environ, start_response):\n    application = 1\n"}, wantMsg: "no stack"},
		{name: "wsgi.py assigning application", files: map[string]string{"wsgi.py": "from myapp import make\napplication = make()\n"}, want: Detection{Stack: stackdef.WSGI, App: "wsgi:application"}},
		{name: "FastAPI wins over Flask", files: map[string]string{"main.py": "app = FastAPI()\n", "app.py": "app = Flask(__name__)\n"}, want: Detection{Stack: stackdef.Uvicorn, App: "main:app"}},
		{name: "Django with wsgi.py and asgi.py", files: map[string]string{"manage.py": "", "mysite/settings.py": "", "mysite/wsgi.py": "application = get_wsgi_application()\n", "mysite/asgi.py": "", "blog/models.py": ""},
			want: Detection{Stack: stackdef.WSGI, App: "mysite.wsgi:application"}},
		{name: "Django with asgi.py only", files: map[string]string{"manage.py": "", "mysite/settings.py": "", "mysite/asgi.py": "application = get_asgi_application()\n"},
			want: Detection{Stack: stackdef.Uvicorn, App: "mysite.asgi:application"}},
		{name: "Django: the folder with settings.py wins", files: map[string]string{"manage.py": "", "aaa/wsgi.py": "", "proj/settings.py": "", "proj/wsgi.py": ""},
			want: Detection{Stack: stackdef.WSGI, App: "proj.wsgi:application"}},
		{name: "Django wins over a Flask app.py", files: map[string]string{"manage.py": "", "site/wsgi.py": "", "app.py": "app = Flask(__name__)\n"},
			want: Detection{Stack: stackdef.WSGI, App: "site.wsgi:application"}},
		{name: "wsgi.py without manage.py is not Django", files: map[string]string{"mysite/wsgi.py": "application = 1\n"}, wantMsg: "manage.py"},
		{name: "php wins over Flask", files: map[string]string{"index.php": "", "app.py": "app = Flask(__name__)\n"}, want: Detection{Stack: stackdef.PHP}},
		{name: "index.html is static", files: map[string]string{"index.html": "<h1>hi</h1>", "style.css": "h1{}"}, want: Detection{Stack: stackdef.Static}},
		{name: "public/index.html is static from public", files: map[string]string{"public/index.html": "", "README.md": ""}, want: Detection{Stack: stackdef.Static, DocRoot: "public"}},
		{name: "php wins over index.html", files: map[string]string{"index.html": "", "index.php": ""}, want: Detection{Stack: stackdef.PHP}},
		{name: "FastAPI wins over index.html", files: map[string]string{"index.html": "", "main.py": "app = FastAPI()\n"}, want: Detection{Stack: stackdef.Uvicorn, App: "main:app"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			got, err := Detect(dir)
			if tc.wantMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantMsg) || !errors.Is(err, ErrNotDetected) {
					t.Fatalf("Detect = %+v, %v; want ErrNotDetected with %q", got, err, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.DocRoot != "" {
				tc.want.DocRoot = filepath.Join(dir, tc.want.DocRoot)
			}
			if got != tc.want {
				t.Errorf("Detect = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDetectFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
		notExist        bool
	}{
		{name: "missing", dir: filepath.Join(dir, "nope"), want: `folder "` + filepath.Join(dir, "nope") + `" does not exist`, notExist: true},
		{name: "a file", dir: file, want: "is not a folder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Detect(tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Detect = %v, want %q", err, tc.want)
			}
			if tc.notExist && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%v is not os.ErrNotExist", err)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // Flags(true) of each
	}{
		{name: "none", files: map[string]string{"README.md": ""}},
		{name: "every kind, top-level modules before packages", files: map[string]string{
			"main.py":            "app = FastAPI()\n",
			"star.py":            "import starlette.applications as s\nweb: s.Starlette = s.Starlette()\n",
			"site.py":            "from flask import Flask\nsite = Flask(__name__)\n",
			"flaskr/__init__.py": "from flask import Flask\ndef create_app(test_config=None):\n    return Flask(__name__)\n",
			"api/factory.py":     "from fastapi import FastAPI\ndef make_app(*, debug=False):\n    return FastAPI()\n",
			"mysite/wsgi.py":     "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
			"mysite/asgi.py":     "import django.core.asgi\napplication = django.core.asgi.get_asgi_application()\n",
			"serve/wsgi.py":      "from flaskr import create_app\napp = create_app()\n",
			"run.py":             "from flaskr import create_app\napp = create_app()\n",
		}, want: []string{"--stack uvicorn --app main:app", "--app run:app", "--stack wsgi --app site:site", "--stack uvicorn --app star:web",
			"--stack uvicorn --app 'api.factory:make_app()'", "--stack wsgi --app 'flaskr:create_app()'",
			"--stack uvicorn --app mysite.asgi:application", "--stack wsgi --app mysite.wsgi:application", "--stack wsgi --app serve.wsgi:app"}},
		{name: "indented, required arguments, tests and environments are left out", files: map[string]string{
			"main.py":         "def build():\n    app = FastAPI()\n",
			"f.py":            "from flask import Flask\ndef create_app(config):\n    return Flask(__name__)\n",
			"test_app.py":     "app = FastAPI()\n",
			"tests/x.py":      "app = FastAPI()\n",
			".venv/a.py":      "app = FastAPI()\n",
			"venv/a.py":       "app = FastAPI()\n",
			"my-env/a.py":     "app = FastAPI()\n",
			"deps/pyvenv.cfg": "", "deps/a.py": "app = FastAPI()\n",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			var got []string
			for _, c := range Candidates(dir) {
				got = append(got, c.Flags(true))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Candidates =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestCandidatesFor(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.py": "app = FastAPI()\n",
		"api/__init__.py": "from fastapi import FastAPI\ndef create_app():\n    return FastAPI()\n"})
	tests := []struct{ stack, want string }{
		{stackdef.Uvicorn, "apps found in the folder's modules: --app main:app, --app 'api:create_app()'"},  // both: uvicorn calls the factory
		{stackdef.Gunicorn, "apps found in the folder's modules: --app main:app, --app 'api:create_app()'"}, // both
		{stackdef.UWSGI, "--stack uvicorn --app main:app, --stack uvicorn --app 'api:create_app()'"},        // none fits: all, with their stack
	}
	for _, tc := range tests {
		t.Run(tc.stack, func(t *testing.T) {
			if got := CandidatesFor(dir, tc.stack); !strings.HasSuffix(got, tc.want) {
				t.Errorf("CandidatesFor = %q, want it to end with %q", got, tc.want)
			}
		})
	}
	if got := CandidatesFor(t.TempDir(), stackdef.WSGI); got != "" {
		t.Errorf("CandidatesFor(empty) = %q", got)
	}
}

func TestAppStatic(t *testing.T) {
	tests := []struct {
		name, stack, app string
		files            map[string]string
		want             StaticFolder // Dir relative to the folder
	}{
		{name: "Flask app.py: static/ beside it", stack: stackdef.WSGI, app: "app:app",
			files: map[string]string{"app.py": "app = Flask(__name__)\n"}, want: StaticFolder{URL: "/static", Dir: "static", Flask: true}},
		{name: "Flask factory in a package: its own static/", stack: stackdef.UWSGI, app: "flaskr:create_app()",
			files: map[string]string{"flaskr/__init__.py": "def create_app(test_config=None):\n    app = Flask(__name__, instance_relative_config=True)\n"},
			want:  StaticFolder{URL: "/static", Dir: "flaskr/static", Flask: true}},
		{name: "Flask static_folder names the URL too", stack: stackdef.WSGI, app: "app:app",
			files: map[string]string{"app.py": "app = Flask(\n    __name__,\n    static_folder='assets/',\n)\n"}, want: StaticFolder{URL: "/assets", Dir: "assets", Flask: true}},
		{name: "Flask static_url_path", stack: stackdef.WSGI, app: "app:app",
			files: map[string]string{"app.py": `app = Flask(__name__, static_url_path="/s/", static_folder="public_files")` + "\n"},
			want:  StaticFolder{URL: "/s", Dir: "public_files", Flask: true}},
		{name: "Flask static_folder=None serves nothing", stack: stackdef.WSGI, app: "app:app",
			files: map[string]string{"app.py": "app = Flask(__name__, static_folder=None)\n"}, want: StaticFolder{Flask: true}},
		{name: "Flask files at the root stay the app's", stack: stackdef.WSGI, app: "app:app",
			files: map[string]string{"app.py": "app = Flask(__name__, static_url_path='')\n"}, want: StaticFolder{Flask: true}},
		{name: "Flask URL of odd characters stays the app's", stack: stackdef.WSGI, app: "app:app",
			files: map[string]string{"app.py": "app = Flask(__name__, static_url_path='/a b')\n"}, want: StaticFolder{Flask: true}},
		{name: "Flask folder that is no literal stays the app's", stack: stackdef.WSGI, app: "app:app",
			files: map[string]string{"app.py": "app = Flask(__name__, static_folder=os.path.join(HERE, 'x'))\n"}, want: StaticFolder{Flask: true}},
		{name: "FastAPI mounting StaticFiles owns them", stack: stackdef.Uvicorn, app: "main:app",
			files: map[string]string{"main.py": "app = FastAPI()\napp.mount('/static', StaticFiles(directory='static'), name='static')\n"}, want: StaticFolder{Own: true}},
		{name: "a mount in another module counts", stack: stackdef.Gunicorn, app: "main:app",
			files: map[string]string{"main.py": "from web.setup import app\n", "web/setup.py": "app.mount('/files', StaticFiles(directory='files'))\n"}, want: StaticFolder{Own: true}},
		{name: "FastAPI without a mount: static/ at /static", stack: stackdef.Uvicorn, app: "main:app",
			files: map[string]string{"main.py": "app = FastAPI()\n"}, want: StaticFolder{URL: "/static", Dir: "static"}},
		{name: "a WSGI app of no known framework: static/ at /static", stack: stackdef.WSGI, app: "wsgi:application",
			files: map[string]string{"wsgi.py": "def application(environ, start_response): pass\n"}, want: StaticFolder{URL: "/static", Dir: "static"}},
		{name: "an installed module: static/ at /static", stack: stackdef.WSGI, app: "somepkg.web:app", want: StaticFolder{URL: "/static", Dir: "static"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			if tc.want.Dir != "" {
				tc.want.Dir = filepath.Join(dir, tc.want.Dir)
			}
			if got := AppStatic(dir, tc.stack, tc.app); got != tc.want {
				t.Errorf("AppStatic = %+v, want %+v", got, tc.want)
			}
		})
	}
}
