package engine

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// This file takes a Django project as Django describes itself: its
// settings, read through the interpreter the service runs on, give the
// static and media folders the proxy serves (static.go), the ASGI app
// uvicorn can run, and the ALLOWED_HOSTS and CSRF_TRUSTED_ORIGINS that
// would refuse the project's domain (the preview of devport add,
// manifest.go, and the service's log at each start). Before a Django
// service starts, collectstatic fills STATIC_ROOT, so the admin's CSS is
// there with no command by hand, and the reload watcher (reload.go) runs
// it again when a file under the static sources changes.

// djangoReadTimeout bounds the reading of the settings: importing a
// settings module takes about 100 ms; one that hangs (a database
// connection at import) must not hang devport add.
var djangoReadTimeout = 5 * time.Second

// collectTimeout bounds collectstatic before a start: the admin's files
// take under a second; a project with many (and a slow disk) more.
const collectTimeout = 2 * time.Minute

// errNotDjango is a folder with no manage.py naming its settings.
var errNotDjango = errors.New("not a Django project")

// settingsModuleRe finds the settings module manage.py sets, as
// django-admin startproject writes it:
// os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings").
var settingsModuleRe = regexp.MustCompile(`os\.environ\.setdefault\(\s*["']DJANGO_SETTINGS_MODULE["']\s*,\s*["']([A-Za-z_][\w.]*)["']\s*\)`)

// djangoMarker starts the line of the settings' JSON in the output, so
// a settings module that prints does not break the reading.
const djangoMarker = "devport-django-settings:"

// djangoProgram prints the settings devport uses as JSON. Its arguments
// are the settings module and the folder of manage.py (first on
// sys.path, as when manage.py runs). Like manage.py, it only sets
// DJANGO_SETTINGS_MODULE when the environment does not. Reading
// django.conf.settings imports the settings module and nothing else: no
// app is loaded, no database is opened. The apps' static/ folders are
// found by path (importlib's PathFinder), without importing the apps.
const djangoProgram = `import importlib, importlib.machinery, importlib.util, json, os, sys
sys.path.insert(0, sys.argv[2])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", sys.argv[1])
import django
from django.conf import settings
def text(v):
    return None if v is None or v == "" else str(v)
def strs(v):
    return [str(x) for x in (v or [])]
def app_static(entry):
    parts = entry.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
        locs = list(spec.submodule_search_locations or []) if spec else []
        for i in range(2, len(parts) + 1):
            s = importlib.machinery.PathFinder.find_spec(".".join(parts[:i]), locs)
            if s is None or not s.submodule_search_locations:
                break
            locs = list(s.submodule_search_locations)
    except Exception:
        return []
    return [os.path.join(l, "static") for l in locs if os.path.isdir(os.path.join(l, "static"))]
def sources():
    dirs = [str(d[1] if isinstance(d, (list, tuple)) else d) for d in getattr(settings, "STATICFILES_DIRS", [])]
    return dirs + [d for a in settings.INSTALLED_APPS for d in app_static(a)]
mod = os.environ["DJANGO_SETTINGS_MODULE"]
out = {
    "version": list(django.VERSION[:2]),
    "module": mod,
    "file": getattr(sys.modules.get(mod) or importlib.import_module(mod), "__file__", None),
    "STATIC_URL": text(settings.STATIC_URL),
    "STATIC_ROOT": text(settings.STATIC_ROOT),
    "MEDIA_URL": text(settings.MEDIA_URL),
    "MEDIA_ROOT": text(settings.MEDIA_ROOT),
    "WSGI_APPLICATION": text(getattr(settings, "WSGI_APPLICATION", None)),
    "ASGI_APPLICATION": text(getattr(settings, "ASGI_APPLICATION", None)),
    "ALLOWED_HOSTS": strs(settings.ALLOWED_HOSTS),
    "CSRF_TRUSTED_ORIGINS": strs(getattr(settings, "CSRF_TRUSTED_ORIGINS", [])),
    "DEBUG": bool(settings.DEBUG),
    "staticfiles": any(a == "django.contrib.staticfiles" or a.startswith("django.contrib.staticfiles.") for a in settings.INSTALLED_APPS),
    "static_sources": sources(),
}
sys.stdout.write("\n` + djangoMarker + `" + json.dumps(out) + "\n")
`

// djangoConf is what devport reads of a Django project's settings.
// Folders are absolute: a relative STATIC_ROOT is the project folder's,
// where the service and collectstatic run.
type djangoConf struct {
	Python  string // the interpreter that read them
	Version [2]int // Django's (major, minor)
	Module  string // DJANGO_SETTINGS_MODULE
	File    string // the settings module's file, relative to the project folder when inside it

	StaticURL, StaticRoot string
	MediaURL, MediaRoot   string
	WSGIApplication       string // dotted, as Django has it: mysite.wsgi.application
	ASGIApplication       string
	AllowedHosts          []string
	CSRFTrustedOrigins    []string
	Debug                 bool
	StaticFiles           bool // django.contrib.staticfiles is installed: collectstatic exists
	// StaticSources are the folders collectstatic copies from:
	// STATICFILES_DIRS, then each installed app's static/ folder (Django's
	// own apps' too, outside the project).
	StaticSources []string
}

// djangoSettingsModule is the settings module manage.py of root names,
// and the folder of that manage.py; errNotDjango when there is none.
func djangoSettingsModule(root string) (module, manageDir string, err error) {
	rel, err := findManage(root)
	if err != nil {
		return "", "", errNotDjango
	}
	src, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return "", "", err
	}
	m := settingsModuleRe.FindSubmatch(src)
	if m == nil {
		return "", "", fmt.Errorf("%s sets no DJANGO_SETTINGS_MODULE (os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", ...)): %w",
			filepath.Join(root, rel), errNotDjango)
	}
	return string(m[1]), filepath.Join(root, filepath.Dir(rel)), nil
}

// readDjango reads the settings of the Django project in root with the
// interpreter a process service of stack would run on there, in the
// environment of devport itself (the project is not stored yet).
// errNotDjango when root has no manage.py; any other error says why the
// settings could not be read.
func readDjango(ctx context.Context, root, stack string) (djangoConf, error) {
	module, manageDir, err := djangoSettingsModule(root)
	if err != nil {
		return djangoConf{}, err
	}
	py, err := servicePython(root, stack)
	if err != nil {
		return djangoConf{}, err
	}
	return runDjangoRead(ctx, wire.Command{Argv: []string{py}, Dir: root}, module, manageDir)
}

// readServiceDjango reads the settings of Django service s of p as the
// service sees them: its interpreter and environment (PythonCommand).
func (m *Manager) readServiceDjango(ctx context.Context, p store.Project, s store.Service) (djangoConf, wire.Command, error) {
	module, manageDir, err := djangoSettingsModule(p.Root)
	if err != nil {
		return djangoConf{}, wire.Command{}, err
	}
	c, err := m.PythonCommand(ctx, p.Name, wire.PythonRequest{Tool: wire.ToolPython, Service: s.Name})
	if err != nil {
		return djangoConf{}, wire.Command{}, err
	}
	ds, err := runDjangoRead(ctx, c, module, manageDir)
	return ds, c, err
}

// runDjangoRead runs djangoProgram with the interpreter (and environment,
// and folder) of c, within djangoReadTimeout.
func runDjangoRead(ctx context.Context, c wire.Command, module, manageDir string) (djangoConf, error) {
	ctx, cancel := context.WithTimeout(ctx, djangoReadTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Argv[0], "-c", djangoProgram, module, manageDir)
	cmd.Dir = c.Dir
	cmd.Env = append(append(os.Environ(), c.Env...), "PYTHONDONTWRITEBYTECODE=1")
	cmd.WaitDelay = time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return djangoConf{}, fmt.Errorf("%s did not read %s within %v", c.Argv[0], module, djangoReadTimeout)
	}
	if err != nil {
		return djangoConf{}, fmt.Errorf("%s could not read %s: %s", c.Argv[0], module, lastLine(errb.String(), err))
	}
	_, js, ok := strings.Cut(out.String(), djangoMarker)
	if !ok {
		return djangoConf{}, fmt.Errorf("%s printed no settings for %s", c.Argv[0], module)
	}
	var raw struct {
		Version            []int    `json:"version"`
		Module             string   `json:"module"`
		File               *string  `json:"file"`
		StaticURL          *string  `json:"STATIC_URL"`
		StaticRoot         *string  `json:"STATIC_ROOT"`
		MediaURL           *string  `json:"MEDIA_URL"`
		MediaRoot          *string  `json:"MEDIA_ROOT"`
		WSGIApplication    *string  `json:"WSGI_APPLICATION"`
		ASGIApplication    *string  `json:"ASGI_APPLICATION"`
		AllowedHosts       []string `json:"ALLOWED_HOSTS"`
		CSRFTrustedOrigins []string `json:"CSRF_TRUSTED_ORIGINS"`
		Debug              bool     `json:"DEBUG"`
		StaticFiles        bool     `json:"staticfiles"`
		StaticSources      []string `json:"static_sources"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(js)), &raw); err != nil {
		return djangoConf{}, fmt.Errorf("the settings of %s: %w", module, err)
	}
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	folder := func(s *string) string {
		if str(s) == "" {
			return ""
		}
		if filepath.IsAbs(*s) {
			return filepath.Clean(*s)
		}
		return filepath.Join(c.Dir, *s)
	}
	ds := djangoConf{Python: c.Argv[0], Module: raw.Module, File: str(raw.File),
		StaticURL: str(raw.StaticURL), StaticRoot: folder(raw.StaticRoot), MediaURL: str(raw.MediaURL), MediaRoot: folder(raw.MediaRoot),
		WSGIApplication: str(raw.WSGIApplication), ASGIApplication: str(raw.ASGIApplication),
		AllowedHosts: raw.AllowedHosts, CSRFTrustedOrigins: raw.CSRFTrustedOrigins, Debug: raw.Debug, StaticFiles: raw.StaticFiles}
	for _, d := range raw.StaticSources {
		ds.StaticSources = append(ds.StaticSources, folder(&d))
	}
	if len(raw.Version) == 2 {
		ds.Version = [2]int{raw.Version[0], raw.Version[1]}
	}
	if ds.File != "" && within(c.Dir, ds.File) {
		ds.File = relTo(c.Dir, ds.File)
	}
	return ds, nil
}

// lastLine is the last line of a failed program's stderr (Python's
// exception), else its exit error.
func lastLine(stderr string, err error) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return l
	}
	return err.Error()
}

// djangoPrefixRe is a URL path of plain segments, such as /static or
// /assets/media: what a route prefix may be.
var djangoPrefixRe = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// djangoRoutes are the static routes Django's settings ask for: STATIC_URL
// to STATIC_ROOT and MEDIA_URL to MEDIA_ROOT, each when both are set, the
// URL a local path (not a CDN's https://...) and the folder inside the
// project folder (and not out of it through a symlink). A folder that
// does not exist yet is routed all the same: collectstatic makes
// STATIC_ROOT before the start, and Django MEDIA_ROOT at the first upload.
func djangoRoutes(p store.Project, ds djangoConf) []store.Route {
	var routes []store.Route
	for _, pair := range []struct{ url, dir string }{{ds.StaticURL, ds.StaticRoot}, {ds.MediaURL, ds.MediaRoot}} {
		prefix := strings.TrimSuffix(pair.url, "/")
		if pair.dir == "" || !strings.HasPrefix(prefix, "/") || strings.HasPrefix(prefix, "//") ||
			filepath.Clean(pair.dir) == filepath.Clean(p.Root) || !within(p.Root, pair.dir) {
			continue
		}
		if _, err := os.Stat(pair.dir); err == nil && checkStaticFolder("static", p.Root, pair.dir) != nil {
			continue
		}
		if !djangoPrefixRe.MatchString(prefix) || slices.ContainsFunc(strings.Split(prefix, "/"), func(s string) bool { return s == "." || s == ".." }) {
			continue // a prefix the store would refuse: the user routes it by hand
		}
		routes = append(routes, store.Route{Project: p.Name, PathPrefix: prefix, Kind: store.RouteStatic, Target: pair.dir,
			CacheControl: staticCacheControl})
	}
	return routes
}

// hostAllowed is Django's validate_host for domain: "*" allows every
// host, ".example.test" the domain and its subdomains, anything else that
// name exactly. With DEBUG and no ALLOWED_HOSTS, Django allows only
// .localhost, 127.0.0.1 and [::1].
func hostAllowed(ds djangoConf, domain string) bool {
	hosts := ds.AllowedHosts
	if ds.Debug && len(hosts) == 0 {
		hosts = []string{".localhost", "127.0.0.1", "[::1]"}
	}
	domain = strings.ToLower(domain)
	for _, h := range hosts {
		h = strings.ToLower(h)
		if h == "*" || h == domain || strings.HasPrefix(h, ".") && (domain == h[1:] || strings.HasSuffix(domain, h)) {
			return true
		}
	}
	return false
}

// originTrusted reports whether CSRF_TRUSTED_ORIGINS has https://domain
// (with any port when port is 0, else with port), or a wildcard such as
// https://*.test that covers it.
func originTrusted(ds djangoConf, domain string, port int) bool {
	domain = strings.ToLower(domain)
	for _, o := range ds.CSRFTrustedOrigins {
		rest, ok := strings.CutPrefix(strings.ToLower(o), "https://")
		if !ok {
			continue
		}
		host, p, hasPort := strings.Cut(rest, ":")
		if port != 0 && port != 443 && (!hasPort || p != strconv.Itoa(port)) || port == 443 && hasPort && p != "443" {
			continue
		}
		if host == domain || strings.HasPrefix(host, "*.") && strings.HasSuffix(domain, host[1:]) {
			return true
		}
	}
	return false
}

// djangoWarnings are the settings that would refuse domain, each with the
// line to add to the settings file. port is the proxy's HTTPS port, 0
// when not known yet.
//
// Django 4.0 and later check a POST's Origin against
// CSRF_TRUSTED_ORIGINS when it is not the request's own scheme and host
// (https://docs.djangoproject.com/en/4.0/releases/4.0/#csrf-trusted-origins-changes):
// on 443 the proxy's X-Forwarded-Proto and the Host make them equal; on
// another port the origin is named with it.
func djangoWarnings(ds djangoConf, domain string, port int) []string {
	file := cmp.Or(ds.File, "settings.py")
	var out []string
	if !hostAllowed(ds, domain) {
		why := fmt.Sprintf("ALLOWED_HOSTS %s refuses %s", pyList(ds.AllowedHosts), domain)
		if len(ds.AllowedHosts) == 0 && ds.Debug {
			why += " (with DEBUG and no ALLOWED_HOSTS, Django allows only .localhost, 127.0.0.1 and [::1])"
		}
		line := fmt.Sprintf("ALLOWED_HOSTS = [%q]", domain)
		if len(ds.AllowedHosts) > 0 {
			line = fmt.Sprintf("ALLOWED_HOSTS = [*ALLOWED_HOSTS, %q]", domain)
		}
		out = append(out, fmt.Sprintf("%s: add to %s: %s", why, file, line))
	}
	if ds.Version[0] >= 4 && port != 443 && !originTrusted(ds, domain, port) {
		origin := "https://" + domain
		when := " when devport serves HTTPS on a port other than 443"
		if port != 0 {
			origin += ":" + strconv.Itoa(port)
			when = ""
		}
		line := fmt.Sprintf("CSRF_TRUSTED_ORIGINS = [%q]", origin)
		if len(ds.CSRFTrustedOrigins) > 0 {
			line = fmt.Sprintf("CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, %q]", origin)
		}
		out = append(out, fmt.Sprintf("CSRF_TRUSTED_ORIGINS %s refuses forms posted from %s (Django %d.%d)%s: add to %s: %s",
			pyList(ds.CSRFTrustedOrigins), origin, ds.Version[0], ds.Version[1], when, file, line))
	}
	return out
}

// pyList is a list as Python prints it: ['a', 'b'].
func pyList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// djangoASGIApp is the ASGI app uvicorn would run for the project in
// root: ASGI_APPLICATION (mysite.asgi.application, as MODULE:ATTRIBUTE),
// else the application of an asgi.py beside the settings (or the WSGI
// module): Django's startproject writes both. "" when there is none.
func djangoASGIApp(root string, ds djangoConf) string {
	if a := ds.ASGIApplication; a != "" {
		if i := strings.LastIndex(a, "."); i > 0 {
			return a[:i] + ":" + a[i+1:]
		}
	}
	for _, dotted := range []string{ds.Module, ds.WSGIApplication} {
		i := strings.LastIndex(dotted, ".")
		if ds.WSGIApplication == dotted && i > 0 { // mysite.wsgi.application: the package is mysite
			dotted = dotted[:i]
			i = strings.LastIndex(dotted, ".")
		}
		if i <= 0 {
			continue
		}
		pkg := dotted[:i]
		if isFile(filepath.Join(root, filepath.FromSlash(strings.ReplaceAll(pkg, ".", "/")), "asgi.py")) {
			return pkg + ".asgi:application"
		}
	}
	return ""
}

// djangoNotes are the preview's lines for a Django project in dir, added
// as domain with stack: what the settings make devport do, what they
// would refuse, and uvicorn as a choice. ok is false when dir is not a
// Django project; when its settings cannot be read, the one line says
// why, and detection stays what the files say.
func djangoNotes(ctx context.Context, dir, stack, domain string) (notes []string, routes []store.Route, ok bool) {
	ds, err := readDjango(ctx, dir, stack)
	if errors.Is(err, errNotDjango) {
		return nil, nil, false
	}
	if err != nil {
		return []string{"Django settings not read (" + firstLine(err.Error()) + "): detected from the files only"}, nil, true
	}
	notes = append(notes, fmt.Sprintf("Django %d.%d settings %s, read with %s", ds.Version[0], ds.Version[1], ds.Module, ds.Python))
	routes = djangoRoutes(store.Project{Root: dir}, ds)
	for _, r := range routes {
		line := fmt.Sprintf("route %s → static %s", r.PathPrefix, relTo(dir, r.Target))
		if r.Target == ds.StaticRoot && ds.StaticFiles {
			line += " (collectstatic --noinput fills it before each start)"
		}
		notes = append(notes, line)
	}
	for _, w := range djangoWarnings(ds, domain, 0) {
		notes = append(notes, "warning: "+w)
	}
	if app := djangoASGIApp(dir, ds); app != "" && stack != stackdef.Uvicorn {
		notes = append(notes, fmt.Sprintf("or: devport add %s --stack uvicorn --app %s", dir, app))
	}
	return notes, routes, true
}

// CollectStaticError is a collectstatic before a start that failed, with
// its last output lines.
type CollectStaticError struct {
	Command string
	Err     error
	Tail    string
}

func (e *CollectStaticError) Error() string {
	msg := fmt.Sprintf("%s failed: %v", e.Command, e.Err)
	if e.Tail != "" {
		msg += "\n" + e.Tail
	}
	return msg
}

func (e *CollectStaticError) Unwrap() error { return e.Err }

// collectStatic runs before a start of p: for its Django service it names
// in the service's log the settings that would refuse the project's
// domains (djangoWarnings, with the line to add), and runs collectstatic
// (collectFiles).
func (m *Manager) collectStatic(ctx context.Context, p store.Project) error {
	svc, ds, c, ok := m.djangoService(ctx, p)
	if !ok {
		return nil
	}
	m.warnDjango(p, svc, ds)
	return m.runCollect(ctx, p, svc, ds, c)
}

// djangoService is the Django service of p that collectstatic runs for
// (its first Python service in the process runtime: only the process
// runtime collects here), its settings and its command (PythonCommand).
// ok is false when p has none, or its settings cannot be read (the
// service's own start then says what is wrong with them).
func (m *Manager) djangoService(ctx context.Context, p store.Project) (store.Service, djangoConf, wire.Command, bool) {
	if p.Root == "" {
		return store.Service{}, djangoConf{}, wire.Command{}, false
	}
	var svc store.Service
	for _, s := range p.Services {
		if stackdef.IsPython(s.Stack) && s.Runtime == wire.RuntimeProcess {
			svc = s
			break
		}
	}
	if svc.Name == "" {
		return svc, djangoConf{}, wire.Command{}, false
	}
	ds, c, err := m.readServiceDjango(ctx, p, svc)
	if errors.Is(err, errNotDjango) {
		return svc, ds, c, false
	}
	if err != nil {
		m.log.Warn("read the Django settings", "project", p.Name, "service", svc.Name, "err", err)
		return svc, ds, c, false
	}
	return svc, ds, c, true
}

// djangoStatic is STATIC_ROOT and the static sources of p's Django
// service, when collectstatic runs for it; "" and nil otherwise.
func (m *Manager) djangoStatic(ctx context.Context, p store.Project) (root string, sources []string) {
	_, ds, _, ok := m.djangoService(ctx, p)
	if !ok || ds.StaticRoot == "" || !ds.StaticFiles {
		return "", nil
	}
	return ds.StaticRoot, ds.StaticSources
}

// warnDjango names, at a start, the settings of Django service svc that
// would refuse p's domains through the proxy's HTTPS port, each with the
// line to add: in the service's log (so devport logs shows it beside
// Django's own "Invalid HTTP_HOST header", and a failure's log tail
// with it), in the engine's log, and as a warning to the window.
func (m *Manager) warnDjango(p store.Project, svc store.Service, ds djangoConf) {
	var warnings []string
	for _, d := range p.Domains {
		warnings = append(warnings, djangoWarnings(ds, d, int(m.httpsPort.Load()))...)
	}
	if len(warnings) == 0 {
		return
	}
	logPath := m.paths.ServiceLog(p.Name, svc.Name)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err == nil {
		if f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			for _, w := range warnings {
				fmt.Fprintf(f, "devport: warning: %s\n", w)
			}
			f.Close()
		}
	}
	for _, w := range warnings {
		m.log.Warn("Django settings refuse the project's domain", "project", p.Name, "service", svc.Name, "warning", w)
		m.emit(wire.Event{Kind: wire.EventWarning, Project: p.Name, Detail: p.Name + ": " + w})
	}
}

// collectFiles runs `manage.py collectstatic --noinput` for the Django
// service of p, when its settings set STATIC_ROOT and install
// django.contrib.staticfiles: the admin's CSS (and the apps') land in
// STATIC_ROOT, which the proxy serves at STATIC_URL. It runs with the
// service's interpreter and environment (PythonCommand), under the
// supervisor as a hook does, and appends its output to the service's log.
func (m *Manager) collectFiles(ctx context.Context, p store.Project) error {
	svc, ds, c, ok := m.djangoService(ctx, p)
	if !ok {
		return nil
	}
	return m.runCollect(ctx, p, svc, ds, c)
}

// runCollect is collectFiles with the settings read.
func (m *Manager) runCollect(ctx context.Context, p store.Project, svc store.Service, ds djangoConf, c wire.Command) error {
	if ds.StaticRoot == "" || !ds.StaticFiles {
		return nil
	}
	rel, err := findManage(p.Root)
	if err != nil {
		return nil
	}
	argv := append(c.Argv[:1:1], rel, "collectstatic", "--noinput")
	logPath := m.paths.ServiceLog(p.Name, svc.Name)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	command := strings.Join(argv, " ")
	fmt.Fprintf(f, "devport: %s running %s\n", time.Now().Format(time.RFC3339), command)
	var tail tailBuffer
	w := io.MultiWriter(f, &tail)
	ctx, cancel := context.WithTimeout(ctx, collectTimeout)
	defer cancel()
	cmd := stacks.SupervisedCommand(ctx, m.supervisor, hookGrace, argv[0], argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = append(cmd.Environ(), c.Env...)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return &CollectStaticError{Command: command, Err: err, Tail: tail.lines(10)}
	}
	return nil
}
