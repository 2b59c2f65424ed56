package stacks

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
//   - wsgi when one of those files defines a Flask factory, create_app()
//     or make_app() with no required argument (Flask's tutorial):
//     App "app:create_app()", which gunicorn and uWSGI call at start;
//   - else the one app Candidates finds one module or package deeper
//     (flaskr/__init__.py's create_app, app/main.py's FastAPI()), when it
//     finds exactly one of a known kind;
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
	for _, f := range flaskModules { // a factory (Flask's tutorial): gunicorn and uWSGI call it
		src, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		if name := factoryName(src); name != "" && flaskRe.Match(src) {
			return Detection{Stack: stackdef.WSGI, App: strings.TrimSuffix(f, ".py") + ":" + name + "()"}, nil
		}
	}
	if src, err := os.ReadFile(filepath.Join(dir, "wsgi.py")); err == nil && wsgiApplicationRe.Match(src) {
		return Detection{Stack: stackdef.WSGI, App: "wsgi:application"}, nil
	}
	// Then the app one module or package deeper (flaskr/__init__.py's
	// create_app, app/main.py's FastAPI()), when there is just one.
	found := Candidates(dir)
	if runnable := runnableCandidates(found); len(runnable) == 1 {
		return Detection{Stack: runnable[0].Stack, App: runnable[0].App}, nil
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
		"choose one with --stack php|uvicorn|gunicorn|wsgi|uwsgi|static%s",
		ErrNotDetected, dir, foundApps(found, true))
}

// foundApps is ", or one of the apps found: …" for an error, or "" when
// there are none.
func foundApps(cands []Candidate, withStack bool) string {
	if len(cands) == 0 {
		return ""
	}
	flags := make([]string, len(cands))
	for i, c := range cands {
		flags[i] = c.Flags(withStack)
	}
	return "; apps found in the folder's modules: " + strings.Join(flags, ", ")
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

// Candidate is a Python app found in a project's modules: what an error
// that needs --app lists, and what Detect falls back on.
type Candidate struct {
	// App is MODULE:ATTRIBUTE, or MODULE:FACTORY() for a factory, which
	// the server calls at start to get the app.
	App string
	// Stack is the stack that runs it: uvicorn for an ASGI app or factory,
	// wsgi for a WSGI app or factory; "" when the kind is not known (app =
	// create_app() in a module that names no framework).
	Stack string
	// Kind is what was found: "FastAPI", "Starlette", "Flask",
	// "get_wsgi_application", "get_asgi_application", "create_app", or
	// "factory" for a def create_app().
	Kind string
}

// Flags is the candidate as command-line flags, quoted for a shell when it
// is a call: --app 'flaskr:create_app()'. With withStack and a known
// stack, --stack comes first.
func (c Candidate) Flags(withStack bool) string {
	app := c.App
	if strings.HasSuffix(app, "()") {
		app = "'" + app + "'"
	}
	if withStack && c.Stack != "" {
		return "--stack " + c.Stack + " --app " + app
	}
	return "--app " + app
}

// appAssignRe finds a module-level `NAME = …Kind(` (annotated or not):
// an app built by a framework's class, Django's get_*_application, or a
// factory called at import.
var appAssignRe = regexp.MustCompile(`(?m)^(\w+)\s*(?::\s*[\w.]+\s*)?=\s*(?:\w+\.)*` +
	`(FastAPI|Starlette|Flask|get_wsgi_application|get_asgi_application|create_app|make_app)\(`)

// factoryRe finds a module-level `def create_app(…)` or `def make_app(…)`
// (Flask's names for a factory) and its parameters.
var factoryRe = regexp.MustCompile(`(?m)^def\s+(create_app|make_app)\s*\(([^)]*)\)`)

// flaskRe and asgiRe tell which framework a module's factory builds.
var (
	flaskRe = regexp.MustCompile(`\bFlask\(`)
	asgiRe  = regexp.MustCompile(`\b(?:FastAPI|Starlette)\(`)
)

// factoryName is the name of the first module-level factory in src that
// can be called with no argument, as a server calls it, else "".
func factoryName(src []byte) string {
	for _, m := range factoryRe.FindAllSubmatch(src, -1) {
		if noRequiredArgs(string(m[2])) {
			return string(m[1])
		}
	}
	return ""
}

// noRequiredArgs reports whether every parameter of a def's list has a
// default (or is *args, **kwargs, or a / or * marker).
func noRequiredArgs(params string) bool {
	for _, p := range strings.Split(params, ",") {
		p = strings.TrimSpace(p)
		if p != "" && p != "/" && !strings.HasPrefix(p, "*") && !strings.Contains(p, "=") {
			return false
		}
	}
	return true
}

// maxModules bounds the files Candidates reads, and maxModuleSize how much
// of each: a folder of generated code must not make `add` slow.
const (
	maxModules    = 200
	maxModuleSize = 256 << 10
)

// pyModule is a module file of a project, and its import name.
type pyModule struct{ name, path string }

// projectModules lists the project's top-level modules, then those of its
// top-level packages (one level: mysite/wsgi.py is mysite.wsgi, and
// flaskr/__init__.py is flaskr), each by name. Folders that cannot be
// imported by name, and virtual environments, are skipped.
func projectModules(dir string) []pyModule {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var mods, deeper []pyModule
	for _, e := range entries {
		name := e.Name()
		switch {
		case !e.IsDir() && strings.HasSuffix(name, ".py") && validModule(strings.TrimSuffix(name, ".py")) && !testModule(name):
			mods = append(mods, pyModule{strings.TrimSuffix(name, ".py"), filepath.Join(dir, name)})
		case e.IsDir() && validModule(name) && !skipPackage(filepath.Join(dir, name)):
			files, _ := filepath.Glob(filepath.Join(dir, name, "*.py"))
			for _, f := range files {
				base := strings.TrimSuffix(filepath.Base(f), ".py")
				switch {
				case base == "__init__":
					deeper = append(deeper, pyModule{name, f})
				case validModule(base) && !testModule(filepath.Base(f)):
					deeper = append(deeper, pyModule{name + "." + base, f})
				}
			}
		}
	}
	mods = append(mods, deeper...)
	if len(mods) > maxModules {
		mods = mods[:maxModules]
	}
	return mods
}

// skipPackage reports whether folder holds no app of the project's own: a
// virtual environment, node_modules, __pycache__, or the tests (whose
// modules build apps of their own).
func skipPackage(folder string) bool {
	switch filepath.Base(folder) {
	case "venv", "env", "node_modules", "__pycache__", "site_packages", "tests", "test":
		return true
	}
	return isFile(filepath.Join(folder, "pyvenv.cfg"))
}

// testModule reports whether a module file is a test's (pytest's names).
func testModule(file string) bool {
	return file == "conftest.py" || strings.HasPrefix(file, "test_") || strings.HasSuffix(file, "_test.py")
}

// readModule is the start of a module's source (maxModuleSize).
func readModule(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	buf := make([]byte, maxModuleSize)
	n, _ := io.ReadFull(f, buf)
	return buf[:n]
}

// Candidates lists the Python apps in dir's top-level modules and packages
// (one level): module-level assignments of FastAPI(, Starlette(, Flask(,
// get_wsgi_application(, get_asgi_application(, create_app( or make_app(,
// and factories (def create_app() or make_app() with no required
// argument). It is what an error asking for --app offers, and reads only
// the folder: nothing is imported.
func Candidates(dir string) []Candidate {
	var out []Candidate
	for _, m := range projectModules(dir) {
		src := readModule(m.path)
		if len(src) == 0 {
			continue
		}
		for _, a := range appAssignRe.FindAllSubmatch(src, -1) {
			c := Candidate{App: m.name + ":" + string(a[1]), Kind: string(a[2])}
			switch c.Kind {
			case "FastAPI", "Starlette", "get_asgi_application":
				c.Stack = stackdef.Uvicorn
			case "Flask", "get_wsgi_application":
				c.Stack = stackdef.WSGI
			default: // app = create_app(): the module's name may say which
				switch last := m.name[strings.LastIndex(m.name, ".")+1:]; last {
				case "wsgi":
					c.Stack = stackdef.WSGI
				case "asgi":
					c.Stack = stackdef.Uvicorn
				}
			}
			out = append(out, c)
		}
		if name := factoryName(src); name != "" {
			c := Candidate{App: m.name + ":" + name + "()", Kind: "factory"}
			switch {
			case flaskRe.Match(src):
				c.Stack = stackdef.WSGI
			case asgiRe.Match(src):
				c.Stack = stackdef.Uvicorn
			}
			out = append(out, c)
		}
	}
	return out
}

// runnableCandidates are the candidates Detect may choose alone: those of
// a known stack; when a factory is among them, an `app = create_app()`
// beside it is the same app, and left out.
func runnableCandidates(cands []Candidate) []Candidate {
	factory := slices.ContainsFunc(cands, func(c Candidate) bool { return c.Kind == "factory" && c.Stack != "" })
	var out []Candidate
	for _, c := range cands {
		if c.Stack == "" || factory && (c.Kind == "create_app" || c.Kind == "make_app") {
			continue
		}
		out = append(out, c)
	}
	return out
}

// CandidatesFor is the part of "needs the app as MODULE:ATTRIBUTE" that
// names what dir holds for stack: ", e.g. one found in the folder: --app …"
// for the candidates the stack can run (and those of no known kind), or
// those of the other stacks with their --stack when it can run none; ""
// when the folder has none.
func CandidatesFor(dir, stack string) string {
	all := Candidates(dir)
	var fit []Candidate
	for _, c := range all {
		if c.Stack == "" || CanRun(stack, c) {
			fit = append(fit, c)
		}
	}
	if len(fit) > 0 {
		return foundApps(fit, false)
	}
	return foundApps(all, true)
}

// CanRun reports whether stack runs candidate c: a stack of its family
// (every Python server calls a factory: see CallsFactory).
func CanRun(stack string, c Candidate) bool {
	if stackdef.Family(stack) != stackdef.Family(c.Stack) {
		return false
	}
	return !strings.HasSuffix(c.App, "()") || CallsFactory(stack)
}

// CallsFactory reports whether stack can run an app given as
// MODULE:FACTORY(): gunicorn (20.1 and later) and uWSGI call it at start,
// and uvicorn with its --factory flag (0.14 and later), which the uvicorn
// stack passes.
func CallsFactory(stack string) bool {
	return stackdef.IsPython(stack)
}

// StaticFolder is what a Python app's static files are, as its source
// says: the URL path and folder the proxy may serve them from in the app's
// place (nginx's `location /static { alias …; }`), or that the app serves
// them itself.
type StaticFolder struct {
	URL string // "/static"; "" when the proxy should serve nothing
	Dir string // absolute; it may not exist
	// Own is true when the app mounts its own (Starlette's StaticFiles,
	// which FastAPI's docs teach): a route of the proxy's would take the
	// mount's path away from it, and perhaps serve another folder.
	Own bool
	// Flask is true when the URL and folder are Flask's: static_folder
	// and static_url_path of its Flask(…) call, by default static/ beside
	// the module that makes the app, at /static.
	Flask bool
}

// staticFilesRe finds Starlette's StaticFiles( (FastAPI re-exports it).
var staticFilesRe = regexp.MustCompile(`\bStaticFiles\(`)

// AppStatic reads the source of app (MODULE:ATTRIBUTE) in dir for its
// static files:
//   - an ASGI app (stack uvicorn or gunicorn) whose module, or any of the
//     project's top-level modules and packages, calls StaticFiles( serves
//     its own: Own;
//   - a Flask app's module gives Flask's folder and URL path: static/
//     beside that module (flaskr/static for flaskr/__init__.py) at
//     /static, or its static_folder and static_url_path when they are
//     literals; static_folder=None, a static_url_path of "" or "/", or
//     one that is not a literal serve nothing;
//   - otherwise the project's static/ at /static.
func AppStatic(dir, stack, app string) StaticFolder {
	module, _, _ := strings.Cut(app, ":")
	path := modulePath(dir, module)
	var src []byte
	if path != "" {
		src = readModule(path)
	}
	if stackdef.Family(stack) == stackdef.FamilyASGI {
		if staticFilesRe.Match(src) {
			return StaticFolder{Own: true}
		}
		for _, m := range projectModules(dir) {
			if staticFilesRe.Match(readModule(m.path)) {
				return StaticFolder{Own: true}
			}
		}
	}
	if stackdef.Family(stack) == stackdef.FamilyWSGI && path != "" {
		if loc := flaskRe.FindIndex(src); loc != nil {
			return flaskStatic(filepath.Dir(path), callArgs(src[loc[1]:]))
		}
	}
	return StaticFolder{URL: "/static", Dir: filepath.Join(dir, "static")}
}

// modulePath is the file of module (dotted) in dir: a.b is a/b.py or
// a/b/__init__.py; "" when neither is there (an installed package's).
func modulePath(dir, module string) string {
	if module == "" {
		return ""
	}
	base := filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(module, ".", "/")))
	for _, p := range []string{base + ".py", filepath.Join(base, "__init__.py")} {
		if isFile(p) {
			return p
		}
	}
	return ""
}

// callArgs is the text of a call's arguments: src starts just after its
// "(", and ends at the matching ")" (or the end).
func callArgs(src []byte) string {
	depth := 0
	for i, c := range src {
		switch c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth == 0 {
				return string(src[:i])
			}
			depth--
		}
	}
	return string(src)
}

// flaskKwargRe finds a keyword argument of Flask(…) and its value, a
// string literal, None, or anything else up to the next comma.
var flaskKwargRe = regexp.MustCompile(`\b(static_folder|static_url_path)\s*=\s*(?:"([^"\n]*)"|'([^'\n]*)'|(None)\b|([^,]+))`)

// staticURLRe is a URL path the proxy routes for an app's static files:
// plain segments, not the root.
var staticURLRe = regexp.MustCompile(`^(?:/[A-Za-z0-9._~-]+)+$`)

// flaskStatic is Flask's static folder and URL path for an app made in a
// module in root (Flask's root_path) with args, as Flask 2 works them out:
// static_folder defaults to "static", and static_url_path to "/" and the
// folder's base name.
func flaskStatic(root, args string) StaticFolder {
	folder, url, urlSet := "static", "", false
	for _, m := range flaskKwargRe.FindAllStringSubmatch(args, -1) {
		if m[5] != "" { // not a literal: the folder is the app's to find
			return StaticFolder{Flask: true}
		}
		value, none := m[2]+m[3], m[4] != ""
		switch m[1] {
		case "static_folder":
			if none {
				return StaticFolder{Flask: true}
			}
			folder = value
		case "static_url_path":
			url, urlSet = value, !none
		}
	}
	if !urlSet {
		url = "/" + filepath.Base(filepath.Clean(folder))
	}
	url = strings.TrimRight(url, "/")
	if !staticURLRe.MatchString(url) {
		// At the root the app's routes and its files share the paths;
		// a path of other characters is the app's to serve.
		return StaticFolder{Flask: true}
	}
	if !filepath.IsAbs(folder) {
		folder = filepath.Join(root, folder)
	}
	return StaticFolder{URL: url, Dir: folder, Flask: true}
}
