package stacks

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
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
// project's own environment when it has one (ProjectEnv: dir/.venv,
// dir/venv, or poetry's environment of the project),
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
// project's own environment when it has one (ProjectEnv; whatever it
// holds: Check says what it lacks), else the first candidate that imports
// need.modules.
func (t toolchain) pythonFor(dir string, need pyNeed) (string, error) {
	if env, ok := ProjectEnv(dir); ok {
		return env.Python, nil
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
	if env, ok := ProjectEnv(dir); ok && env.Python == py {
		return env.Dir, true
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

// PythonEnv is a project's own Python environment, the one its services
// and devport python run on.
type PythonEnv struct {
	Dir    string // the environment's folder
	Python string // its interpreter, Dir/bin/python
	// Tool is who manages it, from the project's lock file: "uv"
	// (uv.lock), "poetry" (poetry.lock), else "venv".
	Tool string
}

// poetryTimeout bounds `poetry env info -p` (poetry starts in about 300 ms).
const poetryTimeout = 10 * time.Second

// ProjectEnv is the environment of the project in dir, the one rule every
// part of devport follows: dir/.venv, then dir/venv (uv's environment is
// .venv, and so is poetry's with virtualenvs.in-project); else, when
// poetry.lock says poetry manages the project, the environment poetry
// keeps outside it: what `poetry env info -p` says when the poetry
// command is here, else the NAME-HASH-pyX.Y folder of poetry's
// virtualenvs folder (poetryEnv). ok is false when the project has none.
func ProjectEnv(dir string) (PythonEnv, bool) {
	tool := "venv"
	switch {
	case isFile(filepath.Join(dir, "uv.lock")):
		tool = "uv"
	case isFile(filepath.Join(dir, "poetry.lock")):
		tool = "poetry"
	}
	for _, v := range venvDirs {
		env := filepath.Join(dir, v)
		if p := filepath.Join(env, "bin", "python"); isExecutable(p) {
			return PythonEnv{Dir: env, Python: p, Tool: tool}, true
		}
	}
	if tool != "poetry" {
		return PythonEnv{}, false
	}
	if env, ok := poetryEnv(dir); ok {
		return PythonEnv{Dir: env, Python: filepath.Join(env, "bin", "python"), Tool: tool}, true
	}
	return PythonEnv{}, false
}

// poetryEnv finds poetry's environment of the project in dir outside the
// project: `poetry env info -p` when poetry is installed, else the folder
// poetry names NAME-HASH-pyX.Y in its virtualenvs folder, where NAME is
// the project's name, lower-cased, and HASH the first 8 characters of
// the URL-safe base64 SHA-256 of the project's real path (poetry's
// EnvManager.generate_env_name). A folder with the name but another hash
// (the project was moved) is taken when it is the only one.
func poetryEnv(dir string) (string, bool) {
	if poetry, err := exec.LookPath("poetry"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), poetryTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, poetry, "env", "info", "-p")
		cmd.Dir = dir
		if out, err := cmd.Output(); err == nil {
			if env := strings.TrimSpace(string(out)); isExecutable(filepath.Join(env, "bin", "python")) {
				return env, true
			}
		}
	}
	name := pyprojectName(dir)
	if name == "" {
		return "", false
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	sum := sha256.Sum256([]byte(real))
	prefix := poetryName(name) + "-"
	exact := prefix + base64.URLEncoding.EncodeToString(sum[:])[:8] + "-py"
	for _, root := range poetryEnvRoots() {
		entries, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		var same, named []string // this project's; any of this name
		for _, e := range entries {
			n := e.Name()
			if !strings.HasPrefix(n, prefix) || !isExecutable(filepath.Join(root, n, "bin", "python")) {
				continue
			}
			if strings.HasPrefix(n, exact) {
				same = append(same, n)
			} else if strings.Contains(n[len(prefix):], "-py") {
				named = append(named, n)
			}
		}
		switch {
		case len(same) > 0: // the newest Python: pyX.Y sorts last
			return filepath.Join(root, same[len(same)-1]), true
		case len(named) == 1:
			return filepath.Join(root, named[0]), true
		}
	}
	return "", false
}

// poetryName is the environment name poetry derives from a project name.
func poetryName(name string) string {
	name = strings.ToLower(name)
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" $`!*@\"\\\r\n\t", r) {
			return '_'
		}
		return r
	}, name)
	if len(name) > 42 {
		name = name[:42]
	}
	return name
}

// poetryEnvRoots are the folders poetry keeps its environments in:
// $POETRY_VIRTUALENVS_PATH, else virtualenvs in $POETRY_CACHE_DIR, else
// in its cache under $XDG_CACHE_HOME or ~/.cache.
func poetryEnvRoots() []string {
	if p := os.Getenv("POETRY_VIRTUALENVS_PATH"); p != "" {
		return []string{p}
	}
	if p := os.Getenv("POETRY_CACHE_DIR"); p != "" {
		return []string{filepath.Join(p, "virtualenvs")}
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil
		}
		cache = filepath.Join(home, ".cache")
	}
	return []string{filepath.Join(cache, "pypoetry", "virtualenvs")}
}

// pyprojectName is the project's name in dir/pyproject.toml: name in
// [tool.poetry], else in [project]; "" when it has none. A line scan, not
// a TOML parser: name = "..." is one line in every pyproject.toml.
func pyprojectName(dir string) string {
	src, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if err != nil {
		return ""
	}
	names := map[string]string{}
	section := ""
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[] ")
			continue
		}
		if m := pyNameRe.FindStringSubmatch(line); m != nil {
			if _, seen := names[section]; !seen {
				names[section] = m[1]
			}
		}
	}
	if n := names["tool.poetry"]; n != "" {
		return n
	}
	return names["project"]
}

// pyNameRe matches name = "..." (or '...').
var pyNameRe = regexp.MustCompile(`^name\s*=\s*["']([^"']+)["']`)
