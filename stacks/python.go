package stacks

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// venvDirs are the project-local virtualenv folders Python looks for, in order.
var venvDirs = []string{".venv", "venv"}

// importProbeTimeout bounds the probe of an interpreter (about 10 ms here).
const importProbeTimeout = 10 * time.Second

// findUvicorn exits 0 when the interpreter can import uvicorn. It locates
// the module without importing it: 10 ms instead of 100 ms. A module that is
// there but broken shows up in Start's log tail instead.
const findUvicorn = "import importlib.util, sys; sys.exit(importlib.util.find_spec('uvicorn') is None)"

// Python returns the interpreter that should run a uvicorn app in dir: the
// project's own dir/.venv/bin/python or dir/venv/bin/python when present,
// else the first interpreter that can import uvicorn (/usr/bin/python3,
// then python3 and python on PATH). When none can, the error wraps a
// *MissingError.
func Python(dir string) (string, error) {
	return systemTools().python(dir)
}

func (t toolchain) python(dir string) (string, error) {
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
		if importsUvicorn(p) {
			return p, nil
		}
	}
	missing := &MissingError{Binary: "uvicorn", Package: pkgUvicorn}
	return "", &hintError{
		msg: fmt.Sprintf("%v (or pip install uvicorn into %s)", missing, filepath.Join(dir, venvDirs[0])),
		err: missing,
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

// importsUvicorn reports whether py can import uvicorn.
func importsUvicorn(py string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), importProbeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", findUvicorn)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	return cmd.Run() == nil
}
