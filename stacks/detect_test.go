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
		{name: "Flask in a function is not module level", files: map[string]string{"app.py": "def create_app():\n    app = Flask(__name__)\n    return app\n"}, wantMsg: "`app = Flask(`"},
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
