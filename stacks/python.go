package stacks

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// venvDirs are the project-local virtualenv folders Python looks for, in order.
var venvDirs = []string{".venv", "venv"}

// importProbeTimeout bounds the probe of an interpreter (about 10 ms here).
const importProbeTimeout = 10 * time.Second

// findModules exits 0 when the interpreter can import every module named in
// its arguments. It locates them without importing them: 10 ms instead of
// 100 ms. A module that is there but broken shows up in Start's log tail
// instead.
const findModules = "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))"

// pyNeed is what a Python stack needs from its interpreter.
type pyNeed struct {
	modules []string     // modules it must be able to import
	missing MissingError // what to install when no interpreter can
	pip     string       // what to pip install into a virtualenv instead
}

// pythonNeed says what stack needs from Python; ok is false for a stack
// that does not run on Python.
func pythonNeed(stack string) (need pyNeed, ok bool) {
	switch stack {
	case stackdef.Uvicorn:
		return pyNeed{modules: []string{"uvicorn"}, missing: MissingError{Binary: "uvicorn", Package: pkgUvicorn}, pip: "uvicorn"}, true
	case stackdef.Gunicorn:
		return pyNeed{modules: []string{"gunicorn", "uvicorn"}, missing: MissingError{Binary: "gunicorn", Package: pkgGunicornASGI}, pip: "gunicorn uvicorn"}, true
	case stackdef.WSGI:
		return pyNeed{modules: []string{"gunicorn"}, missing: MissingError{Binary: "gunicorn", Package: pkgGunicorn}, pip: "gunicorn"}, true
	}
	return pyNeed{}, false
}

// Python returns the interpreter that should run a uvicorn app in dir: the
// project's own dir/.venv/bin/python or dir/venv/bin/python when present,
// else the first interpreter that can import uvicorn (/usr/bin/python3,
// then python3 and python on PATH). When none can, the error wraps a
// *MissingError.
func Python(dir string) (string, error) {
	return systemTools().python(dir)
}

// python finds the interpreter for a uvicorn app in dir (see Python).
func (t toolchain) python(dir string) (string, error) {
	need, _ := pythonNeed(stackdef.Uvicorn)
	return t.pythonFor(dir, need)
}

// pythonFor finds the interpreter for an app in dir that needs need: the
// project's virtualenv when it has one (whatever it holds: Check says
// what it lacks), else the first candidate that imports need.modules.
func (t toolchain) pythonFor(dir string, need pyNeed) (string, error) {
	for _, v := range venvDirs {
		if p := filepath.Join(dir, v, "bin", "python"); isExecutable(p) {
			return p, nil
		}
	}
	seen := map[string]bool{}
	for _, c := range t.pythons {
		p := c
		if !filepath.IsAbs(c) {
			var ok bool
			if p, ok = lookPath(c, filepath.SplitList(t.path)); !ok {
				continue
			}
		}
		if seen[p] || !isExecutable(p) {
			continue
		}
		seen[p] = true
		if imports(p, need.modules...) {
			return p, nil
		}
	}
	missing := need.missing
	return "", &hintError{
		msg: fmt.Sprintf("%v (or pip install %s into %s)", &missing, need.pip, filepath.Join(dir, venvDirs[0])),
		err: &missing,
	}
}

// venvOf reports whether py is the interpreter of one of dir's virtualenvs,
// and which.
func venvOf(dir, py string) (string, bool) {
	for _, v := range venvDirs {
		venv := filepath.Join(dir, v)
		if py == filepath.Join(venv, "bin", "python") {
			return venv, true
		}
	}
	return "", false
}

// imports reports whether py can import all of modules.
func imports(py string, modules ...string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), importProbeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"-c", findModules}, modules...)...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	return cmd.Run() == nil
}

// interpreter finds a runner's Python once: the probe runs Python. A
// failure is not cached, so installing the missing package and starting
// again works without restarting devport.
type interpreter struct {
	tools toolchain
	dir   string
	need  pyNeed

	mu     sync.Mutex
	python string // the interpreter found by the first start, reused after
}

func (i *interpreter) get() (string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.python != "" && isExecutable(i.python) {
		return i.python, nil
	}
	py, err := i.tools.pythonFor(i.dir, i.need)
	if err != nil {
		return "", err
	}
	i.python = py
	return py, nil
}
