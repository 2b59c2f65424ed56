package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/devport/devport/internal/stackdef"
)

// Detection is what Detect found in a project folder.
type Detection struct {
	Stack   string // stackdef.PHP, stackdef.Uvicorn, stackdef.WSGI or stackdef.Static
	App     string // the Python stacks' "module:attribute", e.g. "main:app" or "mysite.wsgi:application"
	DocRoot string // php and static: absolute path of public/ when it is the root, else "" (the folder itself)
}

// pyModules are the files Detect reads for an ASGI app, in order.
var pyModules = []string{"main.py", "app.py"}

// asgiAppRe finds `app = FastAPI(` or `api: Starlette = Starlette(` at the
// start of a line (module level, so not inside a function).
var asgiAppRe = regexp.MustCompile(`(?m)^(\w+)\s*(?::\s*\w+\s*)?=\s*(?:fastapi\.)?(FastAPI|Starlette)\(`)

// flaskModules are the files Detect reads for a Flask app, in order.
var flaskModules = []string{"app.py", "wsgi.py", "main.py"}

// flaskAppRe finds `app = Flask(` (or `flask.Flask(`) at module level.
var flaskAppRe = regexp.MustCompile(`(?m)^(\w+)\s*(?::\s*[\w.]+\s*)?=\s*(?:flask\.)?Flask\(`)

// wsgiApplicationRe finds a module-level `application =` or `def
// application(` in wsgi.py.
var wsgiApplicationRe = regexp.MustCompile(`(?m)^(?:application\s*(?::[^=\n]+)?=|def\s+application\s*\()`)

// Detect guesses the stack of the project in dir:
//   - php when it has index.php, public/index.php or composer.json; DocRoot
//     is public/ when that folder exists;
//   - uvicorn when main.py or app.py assigns FastAPI(...) or Starlette(...)
//     to a module-level variable; App is "main:<variable>";
//   - for Django (manage.py beside a PROJECT/ folder with wsgi.py or
//     asgi.py): wsgi with App "PROJECT.wsgi:application" when wsgi.py is
//     there, else uvicorn with "PROJECT.asgi:application";
//   - wsgi when app.py, wsgi.py or main.py assigns Flask(...) to a
//     module-level variable ("app:<variable>"), or wsgi.py defines a
//     module-level application ("wsgi:application");
//   - static when none of these matched and the folder (or public/) has
//     index.html; DocRoot is public/ when the page is there.
func Detect(dir string) (Detection, error) {
	if !isDir(dir) {
		return Detection{}, folderMissing(dir)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Detection{}, err
	}
	for _, f := range []string{"index.php", filepath.Join("public", "index.php"), "composer.json"} {
		if isFile(filepath.Join(dir, f)) {
			d := Detection{Stack: stackdef.PHP}
			if pub := filepath.Join(dir, "public"); isDir(pub) {
				d.DocRoot = pub
			}
			return d, nil
		}
	}
	for _, f := range pyModules {
		src, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		if m := asgiAppRe.FindSubmatch(src); m != nil {
			return Detection{Stack: stackdef.Uvicorn, App: strings.TrimSuffix(f, ".py") + ":" + string(m[1])}, nil
		}
	}
	if d, ok := detectDjango(dir); ok {
		return d, nil
	}
	for _, f := range flaskModules {
		src, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		if m := flaskAppRe.FindSubmatch(src); m != nil {
			return Detection{Stack: stackdef.WSGI, App: strings.TrimSuffix(f, ".py") + ":" + string(m[1])}, nil
		}
	}
	if src, err := os.ReadFile(filepath.Join(dir, "wsgi.py")); err == nil && wsgiApplicationRe.Match(src) {
		return Detection{Stack: stackdef.WSGI, App: "wsgi:application"}, nil
	}
	// Last: a site of plain files, which the proxy serves itself.
	for _, root := range []string{dir, filepath.Join(dir, "public")} {
		if isFile(filepath.Join(root, "index.html")) {
			d := Detection{Stack: stackdef.Static}
			if root != dir {
				d.DocRoot = root
			}
			return d, nil
		}
	}
	return Detection{}, fmt.Errorf("%w in %q: looked for index.php, public/index.php and composer.json (php), "+
		"for `app = FastAPI(` or `Starlette(` in main.py or app.py (uvicorn), for manage.py with PROJECT/wsgi.py "+
		"or PROJECT/asgi.py (Django), for `app = Flask(` in app.py, wsgi.py or main.py or `application` in wsgi.py (wsgi), "+
		"and for index.html or public/index.html (static); "+
		"choose one with --stack php|uvicorn|gunicorn|wsgi|uwsgi|static",
		ErrNotDetected, dir)
}

// detectDjango finds a Django project: manage.py beside a package folder
// holding wsgi.py (preferred: Django's default is synchronous) or asgi.py.
// With several such folders, the one with settings.py wins, then the
// first by name.
func detectDjango(dir string) (Detection, bool) {
	if !isFile(filepath.Join(dir, "manage.py")) {
		return Detection{}, false
	}
	for _, entry := range []struct{ file, stack, app string }{
		{"wsgi.py", stackdef.WSGI, "wsgi:application"},
		{"asgi.py", stackdef.Uvicorn, "asgi:application"},
	} {
		matches, _ := filepath.Glob(filepath.Join(dir, "*", entry.file))
		best := ""
		for _, m := range matches { // Glob sorts by name
			pkg := filepath.Dir(m)
			if !validModule(filepath.Base(pkg)) {
				continue
			}
			if best == "" || isFile(filepath.Join(pkg, "settings.py")) && !isFile(filepath.Join(best, "settings.py")) {
				best = pkg
			}
		}
		if best != "" {
			return Detection{Stack: entry.stack, App: filepath.Base(best) + "." + entry.app}, true
		}
	}
	return Detection{}, false
}

// identRe is a Python identifier (ASCII), such as a package folder's name.
var identRe = regexp.MustCompile(`^[A-Za-z_]\w*$`)

// validModule reports whether name can be a Python module name.
func validModule(name string) bool { return identRe.MatchString(name) }
