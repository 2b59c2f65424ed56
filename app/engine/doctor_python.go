package engine

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// Doctor's checks of the Python services in the process runtime: the
// interpreter each one runs on (servicePython, the rule stacks and
// devport python follow) imports its server (uvicorn, gunicorn), and its
// app (MODULE of MODULE:ATTRIBUTE, with the attribute), in the project
// folder with the service's environment, as the server would. Each
// failing check names its fix: devport add --venv, pip install into the
// environment, or --app.

// appImportTimeout bounds the import of an app (Django's setup included).
const appImportTimeout = 30 * time.Second

// importApp imports MODULE and looks up ATTRIBUTE of argv[1]
// ("main:app", "app:create_app()", "mysite.wsgi:application"). On
// failure it prints one line "devport-doctor: KIND NAME DETAIL" and exits
// 3: KIND is app (the app's own module is missing), attr (the module has
// no such attribute), dep (a module the app imports is missing), or
// error (anything else, DETAIL the exception).
const importApp = `import importlib, sys
spec = sys.argv[1]
mod, _, attr = spec.partition(":")
attr = attr.strip().removesuffix("()")
def fail(kind, name, detail=""):
    print("devport-doctor:", kind, name, detail.replace("\n", " "), file=sys.stderr)
    sys.exit(3)
try:
    m = importlib.import_module(mod)
except ModuleNotFoundError as e:
    n = e.name or ""
    if n == mod or mod.startswith(n + "."):
        fail("app", n)
    fail("dep", n, str(e))
except BaseException as e:
    fail("error", type(e).__name__, str(e))
o = m
for a in filter(None, attr.split(".")):
    if not hasattr(o, a):
        fail("attr", a)
    o = getattr(o, a)
`

// checkPython checks every Python service of ps that runs as a process.
func (m *Manager) checkPython(ctx context.Context, ps []store.Project) []Check {
	bundle := cmp.Or(m.processBundle, m.caBundle) // doctor writes nothing: the bundle Serve made, if any
	var out []Check
	for _, p := range ps {
		for _, s := range p.Services {
			if !stackdef.IsPython(s.Stack) || cmp.Or(s.Runtime, wire.RuntimeProcess) != wire.RuntimeProcess {
				continue
			}
			out = append(out, checkPythonService(ctx, p, s, bundle)...)
		}
	}
	return out
}

// checkPythonService checks that service s of p can import its server
// and its app: two checks, or one when there is no interpreter at all.
func checkPythonService(ctx context.Context, p store.Project, s store.Service, bundle string) []Check {
	label := p.Name + "/" + s.Name
	server := Check{Name: "python server (" + label + ")", OK: true}
	py, err := servicePython(p.Root, s.Stack)
	if err != nil {
		server.OK, server.Detail = false, err.Error()
		server.Fix = installFix(stacks.Check(s.Stack, p.Root))
		if deps := declaredDeps(p.Root); deps.declared() {
			server.Fix += ", then create its environment: devport rm " + p.Name + " && devport add " + p.Root + " --venv"
		}
		return []Check{server}
	}
	env, hasEnv := stacks.ProjectEnv(p.Root)
	modules := serverModules[s.Stack]
	switch {
	case s.Stack == stackdef.UWSGI:
		server.Detail = "uWSGI embeds " + py + " (devport's uwsgi check: stack uwsgi)"
	case importsAll(py, modules...):
		server.Detail = py + " imports " + strings.Join(modules, " and ")
	default:
		server.OK = false
		server.Detail = py + " cannot import " + strings.Join(modules, " and ")
		server.Fix = "pip install " + strings.Join(modules, " ") + " into it: " + py + " -m pip install " + strings.Join(modules, " ")
		if hasEnv && env.Python == py {
			server.Fix = "pip install " + strings.Join(modules, " ") + " into " + env.Dir + ": devport python " + p.Name +
				" -m pip install " + strings.Join(modules, " ") + " (or remove it: devport rm " + p.Name + " && devport add " + p.Root +
				" --venv makes one that sees the system's)"
		}
	}
	return []Check{server, checkAppImport(ctx, p, s, py, hasEnv, bundle)}
}

// checkAppImport imports s's app with py in the project folder, with the
// environment the service gets.
func checkAppImport(ctx context.Context, p store.Project, s store.Service, py string, hasEnv bool, bundle string) Check {
	label := p.Name + "/" + s.Name
	c := Check{Name: "python app (" + label + ")", OK: true}
	if s.App == "" {
		c.Detail = "no app named: the server's default"
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, appImportTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", importApp, s.App)
	cmd.Dir = p.Root
	cmd.Env = append(append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1"), processEnv(p, s, bundle)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		c.Detail = py + " imports " + s.App + " in " + p.Root
		return c
	}
	c.OK = false
	kind, name, detail := doctorLine(stderr.String())
	appFix := "name the app as MODULE:ATTRIBUTE: devport rm " + p.Name + " && devport add " + p.Root +
		" --app MODULE:ATTRIBUTE (or app = \"MODULE:ATTRIBUTE\" in devport.toml)"
	switch kind {
	case "app":
		c.Detail, c.Fix = fmt.Sprintf("%s has no module %s (app %s)", p.Root, name, s.App), appFix
	case "attr":
		c.Detail, c.Fix = fmt.Sprintf("the module of %s has no attribute %s", s.App, name), appFix
	case "dep":
		c.Detail = fmt.Sprintf("%s imports %s, which %s cannot import", s.App, name, py)
		switch {
		case hasEnv:
			c.Fix = "pip install it into the project's environment: devport python " + p.Name + " -m pip install " + name
		case declaredDeps(p.Root).declared():
			c.Fix = "create the project's environment with its dependencies: devport rm " + p.Name + " && devport add " + p.Root + " --venv"
		default:
			c.Fix = "list it in requirements.txt, then: devport rm " + p.Name + " && devport add " + p.Root + " --venv (or sudo apt-get install python3-" + name + ")"
		}
	case "error":
		c.Detail = fmt.Sprintf("importing %s fails: %s: %s", s.App, name, detail)
		c.Fix = "see the error: devport python " + p.Name + " -c 'import " + strings.SplitN(s.App, ":", 2)[0] + "' shows it whole"
	default:
		c.Detail = fmt.Sprintf("%s could not import %s: %s", py, s.App, lastLine(stderr.String(), err)) // django.go's
		c.Fix = "see the error: devport python " + p.Name + " shows it"
	}
	return c
}

// doctorLine is the kind, name and detail of importApp's failure line.
func doctorLine(stderr string) (kind, name, detail string) {
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "devport-doctor: ")
		if !ok {
			continue
		}
		f := strings.SplitN(rest, " ", 3)
		for len(f) < 3 {
			f = append(f, "")
		}
		return f[0], f[1], strings.TrimSpace(f[2])
	}
	return "", "", ""
}
