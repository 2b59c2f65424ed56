package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/certs"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// This file gives commands typed by hand the interpreter a Python service
// runs with (devport python, devport manage, devport flask): the same
// Python, in the project folder, with the environment devport gives the
// service (the CA bundle's variables, the data services' DB_*,
// DATABASE_URL, REDIS_*, MAIL_*, and devport.toml's env). The engine
// builds the command and the CLI runs it in the foreground, so the
// terminal, the signals and the exit code are the program's own.

// serverModules are the modules the server of each Python process stack
// imports. Like stacks (python.go, pythonNeed), the interpreter of a
// service is the project's virtualenv, else the first of systemPythons
// that can import them.
var serverModules = map[string][]string{
	stackdef.Uvicorn:  {"uvicorn"},
	stackdef.Gunicorn: {"gunicorn", "uvicorn"},
	stackdef.WSGI:     {"gunicorn"},
}

// projectVenvs are the virtualenv folders of a project, in the order
// stacks looks for them.
var projectVenvs = []string{".venv", "venv"}

// systemPythons are the interpreters tried after the virtualenv, in
// stacks' order: Debian's first (its python3-uvicorn, gunicorn and Flask
// install there), then python3 and python on PATH.
var systemPythons = []string{"/usr/bin/python3", "python3", "python"}

// uwsgiPython is the interpreter uWSGI's python3 plugin embeds on Debian
// (its sys.prefix is /usr): uWSGI is given no virtualenv, so a uwsgi
// service runs on it whatever the project folder holds.
const uwsgiPython = "/usr/bin/python3"

// containerDeps is where a Python container keeps the packages of
// requirements.txt (a named volume), and containerPython runs a command
// there as the container's start script runs the server (stacks,
// container_stack.go: pythonScript): the same python3, with the same
// PYTHONPATH and PATH. The container's own environment, which docker exec
// inherits, is the rest of the service's.
const (
	containerDeps   = "/devport/deps"
	containerPython = `PY=$(command -v python3 || command -v python || true)
if [ -z "$PY" ]; then
    echo "devport: this container has no python3" >&2
    exit 127
fi
export PYTHONPATH="` + containerDeps + `/lib${PYTHONPATH:+:$PYTHONPATH}"
export PATH="` + containerDeps + `/lib/bin:$PATH"
exec "$PY" "$@"`
)

// probeTimeout bounds one interpreter probe (about 10 ms here).
const probeTimeout = 10 * time.Second

// PythonCommand is the command that runs req.Tool for a Python service of
// project name with the service's own interpreter and environment:
//
//   - python: the interpreter, with req.Args;
//   - manage: Django's manage.py (found in the project folder, or a folder
//     just below it);
//   - flask: python -m flask, with FLASK_APP set from the service's app.
//
// In the process runtime it runs in the project folder, whether the
// project runs or not. In the container runtime it runs inside the
// service's running container (docker exec), so the project must run.
func (m *Manager) PythonCommand(ctx context.Context, name string, req wire.PythonRequest) (wire.Command, error) {
	switch req.Tool {
	case wire.ToolPython, wire.ToolManage, wire.ToolFlask:
	default:
		return wire.Command{}, &store.ValidationError{Field: "tool", Value: req.Tool, Reason: "unknown",
			Fix: "use devport python, devport manage or devport flask"}
	}
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return wire.Command{}, err
	}
	s, err := pythonService(p, req.Service, req.Tool)
	if err != nil {
		return wire.Command{}, err
	}
	var args, env []string // before the user's arguments, and the service's environment
	switch req.Tool {
	case wire.ToolManage:
		rel, err := findManage(p.Root)
		if err != nil {
			return wire.Command{}, err
		}
		args = []string{rel}
	case wire.ToolFlask:
		if s.App == "" {
			return wire.Command{}, &store.ValidationError{Field: "app", Value: s.Name,
				Reason: "service " + s.Name + " of " + p.Name + " names no app for FLASK_APP",
				Fix:    "give it one as MODULE:ATTRIBUTE in devport.toml (app = \"app:app\")"}
		}
		args = []string{"-m", "flask"}
		env = []string{"FLASK_APP=" + s.App} // devport.toml's env may set its own: it comes after
	}
	args = append(args, req.Args...)
	if s.Runtime == wire.RuntimeContainer {
		return m.containerCommand(ctx, p, s, args, env, req.TTY)
	}
	// A virtualenv is the service's whatever it holds (stacks does the
	// same), so devport python NAME -m pip install ... can fill it.
	py, err := servicePython(p.Root, s.Stack)
	if err != nil {
		if cerr := stacks.Check(s.Stack, p.Root); cerr != nil { // the start's own error, with its fix
			return wire.Command{}, cerr
		}
		return wire.Command{}, err
	}
	env = append(append([]string{"PYTHONUNBUFFERED=1"}, env...), processEnv(p, s, m.processCABundle())...)
	return wire.Command{Argv: append([]string{py}, args...), Env: env, Dir: p.Root}, nil
}

// processEnv is what devport adds to the environment of service s of p in
// the process runtime, as serviceRunner builds it: the CA bundle's
// variables, then the data services', then devport.toml's env, so the
// user's own word wins.
func processEnv(p store.Project, s store.Service, bundle string) []string {
	var env []string
	if bundle != "" {
		env = certs.BundleEnv(bundle)
	}
	env = append(env, dataEnv(p, wire.RuntimeProcess)...)
	return append(env, serviceEnv(s)...)
}

// processCABundle is the CA bundle local processes get: the one Serve
// made, or, in a process that does not serve, the one Serve would make,
// written the same way (as root, the copy others can read).
func (m *Manager) processCABundle() string {
	if b := cmp.Or(m.processBundle, m.caBundle); b != "" {
		return b
	}
	b, err := m.ca.WriteBundle()
	if err == nil {
		b, err = m.shareBundle(b)
	}
	if err != nil {
		m.log.Warn("write the CA bundle", "err", err)
		return ""
	}
	return b
}

// pythonService is the service of p named service, or p's only Python
// service when service is "". It must run on Python.
func pythonService(p store.Project, service, tool string) (store.Service, error) {
	var names []string
	for _, s := range p.Services {
		names = append(names, s.Name+" ("+s.Stack+")")
	}
	if service != "" {
		i := slices.IndexFunc(p.Services, func(s store.Service) bool { return s.Name == service })
		if i < 0 {
			return store.Service{}, &store.ValidationError{Field: "service", Value: service,
				Reason: "no such service in project " + p.Name, Fix: "its services are " + strings.Join(names, ", ")}
		}
		if s := p.Services[i]; !stackdef.IsPython(s.Stack) {
			return store.Service{}, &store.ValidationError{Field: "service", Value: service,
				Reason: "is a " + s.Stack + " service, not a Python one", Fix: "name a Python service with --service; the project's are " + strings.Join(names, ", ")}
		}
		return p.Services[i], nil
	}
	var py []store.Service
	for _, s := range p.Services {
		if stackdef.IsPython(s.Stack) {
			py = append(py, s)
		}
	}
	switch len(py) {
	case 1:
		return py[0], nil
	case 0:
		return store.Service{}, &store.ValidationError{Field: "service", Value: p.Name,
			Reason: "project " + p.Name + " has no Python service (its services: " + strings.Join(names, ", ") + ")",
			Fix:    "devport " + tool + " runs the interpreter of a uvicorn, gunicorn, wsgi or uwsgi service"}
	}
	var pn []string
	for _, s := range py {
		pn = append(pn, s.Name)
	}
	return store.Service{}, &store.ValidationError{Field: "service", Value: p.Name,
		Reason: "project " + p.Name + " has several Python services (" + strings.Join(pn, ", ") + ")",
		Fix:    "name one before the project: devport " + tool + " --service " + pn[0] + " " + p.Name}
}

// servicePython is the interpreter a service of stack runs on in the
// process runtime in dir: uWSGI's own for uwsgi, else the project's
// virtualenv, else the first system interpreter that imports the server.
func servicePython(dir, stack string) (string, error) {
	if stack == stackdef.UWSGI {
		if isExecutable(uwsgiPython) {
			return uwsgiPython, nil
		}
		if p, err := exec.LookPath("python3"); err == nil {
			return p, nil
		}
		return "", errors.New("uWSGI's python3 plugin runs on " + uwsgiPython + ", which is not there: apt-get install python3")
	}
	if env, ok := stacks.ProjectEnv(dir); ok { // stacks' rule: .venv, venv, poetry's
		return env.Python, nil
	}
	seen := map[string]bool{}
	for _, c := range systemPythons {
		p := c
		if !filepath.IsAbs(c) {
			var err error
			if p, err = exec.LookPath(c); err != nil {
				continue
			}
		}
		if seen[p] || !isExecutable(p) {
			continue
		}
		seen[p] = true
		if importsAll(p, serverModules[stack]...) {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Python here imports %s, which the %s stack runs on: install it (devport doctor says how)",
		strings.Join(serverModules[stack], " and "), stack)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// importsAll reports whether py finds every module, without importing
// them (stacks' probe: 10 ms rather than 100).
func importsAll(py string, modules ...string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	const find = "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))"
	cmd := exec.CommandContext(ctx, py, append([]string{"-c", find}, modules...)...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	return cmd.Run() == nil
}

// findManage is Django's manage.py of the project folder root, relative
// to it: root/manage.py, else the one manage.py of a folder just below it
// (django-admin startproject NAME puts it in NAME/).
func findManage(root string) (string, error) {
	if isFile(filepath.Join(root, "manage.py")) {
		return "manage.py", nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", fmt.Errorf("look for manage.py: %w", err)
	}
	var found []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() || strings.HasPrefix(n, ".") || slices.Contains(projectVenvs, n) || n == "node_modules" || n == "__pycache__" {
			continue
		}
		if isFile(filepath.Join(root, n, "manage.py")) {
			found = append(found, filepath.Join(n, "manage.py"))
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", &store.ValidationError{Field: "manage.py", Value: root,
			Reason: "no manage.py in " + filepath.Join(root, "manage.py") + " nor in " + filepath.Join(root, "*", "manage.py"),
			Fix:    "devport manage runs Django's manage.py: run it on a Django project, or use devport python"}
	}
	return "", &store.ValidationError{Field: "manage.py", Value: root,
		Reason: "several manage.py: " + strings.Join(found, ", "),
		Fix:    "run the one you mean with devport python NAME " + found[0] + " ..."}
}

// containerCommand is docker exec of args with the python of service s in
// its running container; env is added to the container's own.
func (m *Manager) containerCommand(ctx context.Context, p store.Project, s store.Service, args, env []string, tty bool) (wire.Command, error) {
	id, err := m.runningContainer(ctx, p, s)
	if err != nil {
		return wire.Command{}, err
	}
	return containerExec(id, s.Name, args, env, tty), nil
}

// containerExec is docker exec of args with python in container id. The
// exec inherits the container's environment, the one the service was
// started with; env (FLASK_APP) is added, its values passed through the
// environment of docker itself rather than its command line.
func containerExec(id, service string, args, env []string, tty bool) wire.Command {
	argv := []string{"docker", "exec", "-i"}
	if tty {
		argv = append(argv, "-t")
	}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		argv = append(argv, "-e", k) // the value comes from Env, not the command line
	}
	argv = append(argv, id, "sh", "-c", containerPython, "devport-"+service)
	return wire.Command{Argv: append(argv, args...), Env: env}
}

// runningContainer is the name of the running container of service s.
func (m *Manager) runningContainer(ctx context.Context, p store.Project, s store.Service) (string, error) {
	cli, err := stacks.NewDockerClient()
	if err != nil {
		return "", err
	}
	defer cli.Close()
	list, err := stacks.ListContainers(ctx, cli, m.paths.Data)
	if err != nil {
		return "", err
	}
	for _, c := range list {
		if c.Project == p.Name && c.Service == s.Name && c.State == "running" {
			return cmp.Or(strings.TrimPrefix(c.Name, "/"), c.ID), nil
		}
	}
	return "", &notRunningError{msg: fmt.Sprintf("%s is not running, and its service %s runs in a container: start it first with devport start %s",
		p.Name, s.Name, p.Name)}
}

// notRunningError is ErrNotRunning with a message of its own.
type notRunningError struct{ msg string }

func (e *notRunningError) Error() string        { return e.msg }
func (e *notRunningError) Is(target error) bool { return target == ErrNotRunning }
