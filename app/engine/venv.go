package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
)

// This file is about a Python project's environment: what the project
// declares it depends on (requirements.txt, pyproject.toml's [project]
// dependencies, uv.lock, poetry.lock), whether it has an environment to
// run in (stacks.ProjectEnv: .venv, venv, poetry's own), and making one
// when it has none (devport add --venv). The environment is made with
// the system Python that has the stack's server, with
// --system-site-packages, so that Debian's uvicorn, gunicorn, Flask and
// Django stay importable from it and pip installs only what they lack.

// pyDeps is what a project folder declares it depends on.
type pyDeps struct {
	files        []string // the files that declare them, in the order of depFiles
	requirements bool     // requirements.txt: pip install -r requirements.txt
	project      []string // pyproject.toml's [project] dependencies
	pyproject    bool     // pyproject.toml declares them (pip install . when not by name)
}

// declared reports whether the project declares dependencies at all.
func (d pyDeps) declared() bool { return len(d.files) > 0 }

// depFiles are the files that declare a Python project's dependencies.
var depFiles = []string{"requirements.txt", "pyproject.toml", "uv.lock", "poetry.lock"}

// declaredDeps reads what dir declares it depends on. A pyproject.toml
// counts only with [project] dependencies (it may hold only tool
// settings), or beside a lock file.
func declaredDeps(dir string) pyDeps {
	var d pyDeps
	locked := isFile(filepath.Join(dir, "uv.lock")) || isFile(filepath.Join(dir, "poetry.lock"))
	for _, f := range depFiles {
		path := filepath.Join(dir, f)
		if !isFile(path) {
			continue
		}
		switch f {
		case "requirements.txt":
			d.requirements = true
		case "pyproject.toml":
			src, _ := os.ReadFile(path)
			d.project = projectDependencies(string(src))
			if len(d.project) == 0 && !locked {
				continue
			}
			d.pyproject = true
		}
		d.files = append(d.files, f)
	}
	return d
}

// dependenciesRe finds the dependencies key of a TOML table (not
// optional-dependencies).
var dependenciesRe = regexp.MustCompile(`(?m)^\s*dependencies\s*=\s*\[`)

// projectDependencies is the dependencies array of pyproject.toml's
// [project] table. A small reader, not a TOML parser: the array of
// strings may span lines, hold comments, and its strings may hold "]"
// ("uvicorn[standard]").
func projectDependencies(src string) []string {
	start := -1
	for _, loc := range regexp.MustCompile(`(?m)^\s*\[([^\]]*)\]\s*(?:#.*)?$`).FindAllStringSubmatchIndex(src, -1) {
		if strings.TrimSpace(src[loc[2]:loc[3]]) == "project" {
			start = loc[1]
			break
		}
	}
	if start < 0 {
		return nil
	}
	table := src[start:]
	if next := regexp.MustCompile(`(?m)^\s*\[`).FindStringIndex(table); next != nil {
		table = table[:next[0]]
	}
	loc := dependenciesRe.FindStringIndex(table)
	if loc == nil {
		return nil
	}
	var deps []string
	s := table[loc[1]:]
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ']':
			return deps
		case '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case '"', '\'':
			var b strings.Builder
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' && c == '"' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			if v := strings.TrimSpace(b.String()); v != "" {
				deps = append(deps, v)
			}
		}
	}
	return deps
}

// DescribeEnv is what add's preview says about the environment of a
// Python project in req.Dir: the one it has, or, when it declares
// dependencies and has none, that --venv creates it (or, with req.Venv,
// that it will). "" for a project that is not a Python one.
func DescribeEnv(req wire.AddRequest) string {
	stack, ok := venvStack(req)
	if !ok {
		return ""
	}
	if env, ok := stacks.ProjectEnv(req.Dir); ok {
		return fmt.Sprintf("  environment: %s (%s), its python %s\n", relTo(req.Dir, env.Dir), env.Tool, env.Python)
	}
	deps := declaredDeps(req.Dir)
	if !deps.declared() {
		return ""
	}
	files := strings.Join(deps.files, ", ")
	if stack == stackdef.UWSGI {
		return "  dependencies in " + files + ": uWSGI runs on " + uwsgiPython + ", without a virtualenv; install them there\n"
	}
	if req.Venv {
		return "  dependencies in " + files + " and no environment: --venv creates .venv (--system-site-packages) and installs " + installWhat(deps) + "\n"
	}
	return "  dependencies in " + files + " but no environment (.venv): devport add --venv " + req.Dir + " creates it and installs them\n"
}

// venvStack is the Python stack req adds: req.Stack, the first Python
// service of its devport.toml, or detection's. ok is false when it adds
// no Python service.
func venvStack(req wire.AddRequest) (string, bool) {
	if req.Dir == "" || req.Proxy != "" {
		return "", false
	}
	if req.Stack != "" {
		s := stackdef.Canonical(req.Stack)
		return s, stackdef.IsPython(s)
	}
	if f, _, ok, err := addSource(req); err == nil && ok {
		for _, n := range sortedKeys(f.Services) {
			if s := stackdef.Canonical(f.Services[n].Stack); stackdef.IsPython(s) {
				return s, true
			}
		}
		return "", false
	}
	d, err := stacks.Detect(req.Dir)
	if err != nil {
		return "", false
	}
	return d.Stack, stackdef.IsPython(d.Stack)
}

// installWhat says what the install of deps runs pip on.
func installWhat(d pyDeps) string {
	switch {
	case d.requirements:
		return "requirements.txt"
	case len(d.project) > 0:
		return "pyproject.toml's dependencies (" + strings.Join(d.project, ", ") + ")"
	case d.pyproject:
		return "the project (pip install .)"
	}
	return "nothing (no requirements.txt nor pyproject.toml)"
}

// installArgs are pip's arguments that install deps; nil when there is
// nothing to install. pyproject.toml's [project] dependencies are
// installed by name rather than with pip install .: that would build the
// project itself, and fetch its build backend from the index even when
// every dependency is already here.
func installArgs(d pyDeps) []string {
	base := []string{"-m", "pip", "install", "--disable-pip-version-check", "--no-input"}
	switch {
	case d.requirements:
		return append(base, "-r", "requirements.txt")
	case len(d.project) > 0:
		return append(base, d.project...)
	case d.pyproject:
		return append(base, ".")
	}
	return nil
}

// Venv is the environment CreateVenv made or found.
type Venv struct {
	Dir     string // the environment's folder
	Python  string // its interpreter
	Created bool   // CreateVenv made it (else it was there)
}

// Remove deletes the environment if CreateVenv made it (one that was
// there before is never touched): an add that fails after it leaves
// nothing half-made.
func (v *Venv) Remove() error {
	if v == nil || !v.Created {
		return nil
	}
	return os.RemoveAll(v.Dir)
}

// VenvError is a failed step of CreateVenv: the command, and the last
// lines of its output. Unreachable is pip's line that says the package
// index cannot be reached ("" when that is not what failed).
type VenvError struct {
	Cmd         string
	Tail        []string
	Unreachable string
	Fix         string // what to do, when the output says it
}

func (e *VenvError) Error() string {
	if e.Unreachable != "" {
		return "the package index (PIP_INDEX_URL or pypi.org) cannot be reached: " + e.Unreachable +
			"; install them by hand or set PIP_INDEX_URL (the .venv devport began was removed)"
	}
	msg := e.Cmd + " failed"
	if len(e.Tail) > 0 {
		msg += ":\n  " + strings.Join(e.Tail, "\n  ")
	}
	if e.Fix != "" {
		msg += "\n" + e.Fix
	}
	return msg
}

// unreachableRe finds pip's lines that say the index cannot be reached,
// or holds none of the packages: a connection that fails (refused, no
// route, no name, a timeout), or "Could not find a version", which is
// what pip says after it gave up on an unreachable index.
var unreachableRe = regexp.MustCompile(`Could not find a version|No matching distribution found|Failed to establish a new connection|Connection refused|NewConnectionError|ConnectTimeoutError|Max retries exceeded|Temporary failure in name resolution|Name or service not known|Network is unreachable|No route to host|Read timed out|ProxyError`)

// connErrRe finds the cause in pip's retry warnings: "Failed to
// establish a new connection: [Errno 111] Connection refused".
var connErrRe = regexp.MustCompile(`(Failed to establish a new connection|Connection to \S+ timed out|Read timed out|Cannot connect to proxy)[^'"]*`)

// tailLines is how many of a step's last output lines a VenvError keeps.
const tailLines = 12

// VenvOptions say where CreateVenv makes the environment, for what.
type VenvOptions struct {
	Request wire.AddRequest // the add it is for: its Dir, and its stack (req.Stack, devport.toml, or detected)
	Out     io.Writer       // progress: each step, and pip's output line by line; nil: none
}

// CreateVenv gives the Python project of o.Request.Dir the environment
// it lacks: dir/.venv, made by the system Python that imports the stack's
// server (python3 -m venv --system-site-packages .venv), then pip
// installs what the project declares into it (requirements.txt, else
// pyproject.toml's dependencies). An environment the project already has
// is returned as it is. On any failure, a .venv it began is removed.
func CreateVenv(ctx context.Context, o VenvOptions) (*Venv, error) {
	req := o.Request
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	stack, ok := venvStack(req)
	switch {
	case !ok:
		return nil, fmt.Errorf("--venv is for Python projects (uvicorn, gunicorn, wsgi): %s adds none", cmpDir(req.Dir))
	case stack == stackdef.UWSGI:
		return nil, fmt.Errorf("--venv: uWSGI's python3 plugin runs on %s and is given no virtualenv; install the dependencies there, or choose --stack wsgi", uwsgiPython)
	}
	if env, ok := stacks.ProjectEnv(req.Dir); ok {
		fmt.Fprintf(out, "environment: %s is there already (%s): nothing to create\n", env.Dir, env.Tool)
		return &Venv{Dir: env.Dir, Python: env.Python}, nil
	}
	sys, err := servicePython(req.Dir, stack)
	if err != nil {
		return nil, fmt.Errorf("--venv: %w", err)
	}
	dir := filepath.Join(req.Dir, ".venv")
	if _, err := os.Lstat(dir); err == nil { // a .venv with no bin/python: not ours to replace
		return nil, fmt.Errorf("--venv: %s is there but holds no bin/python: move it away, or repair it yourself", dir)
	}
	v := &Venv{Dir: dir, Python: filepath.Join(dir, "bin", "python"), Created: true}
	fail := func(err error) (*Venv, error) {
		if rerr := v.Remove(); rerr != nil {
			err = fmt.Errorf("%w (and removing %s: %v)", err, dir, rerr)
		}
		return nil, err
	}
	fmt.Fprintf(out, "creating %s with %s (--system-site-packages: the system's %s stays importable)\n", dir, sys, strings.Join(serverModules[stack], " and "))
	if err := runStep(ctx, out, req.Dir, sys, "-m", "venv", "--system-site-packages", dir); err != nil {
		return fail(err)
	}
	deps := declaredDeps(req.Dir)
	args := installArgs(deps)
	if args == nil {
		fmt.Fprintf(out, "%s is ready: the project declares nothing to install\n", dir)
		return v, nil
	}
	fmt.Fprintf(out, "installing %s into %s\n", installWhat(deps), dir)
	if err := runStep(ctx, out, req.Dir, v.Python, args...); err != nil {
		return fail(err)
	}
	fmt.Fprintf(out, "%s is ready\n", dir)
	return v, nil
}

// cmpDir names a folder in a message, or says there is none.
func cmpDir(dir string) string {
	if dir == "" {
		return "a project with no folder"
	}
	return dir
}

// runStep runs one command of CreateVenv in dir, streaming its output to
// out line by line ("  | ..."), and returns a *VenvError with its last
// lines when it fails.
func runStep(ctx context.Context, out io.Writer, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1", "PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_PROGRESS_BAR=off")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.WaitDelay = venvWaitDelay
	var tail []string
	unreachable, connFailed := "", false
	done := make(chan struct{})
	go func() { // owned by runStep: it ends when the pipe closes, below
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), " \r")
			if strings.TrimSpace(line) == "" {
				continue
			}
			fmt.Fprintf(out, "  | %s\n", line)
			tail = append(tail, line)
			if len(tail) > tailLines {
				tail = tail[1:]
			}
			if m := connErrRe.FindString(line); m != "" && !connFailed { // the cause, ahead of pip's conclusion
				unreachable, connFailed = strings.TrimRight(m, "'\" "), true
			} else if unreachable == "" && unreachableRe.MatchString(line) {
				unreachable = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "ERROR:"))
			}
		}
		io.Copy(io.Discard, pr) // a line too long for the scanner: keep the child unblocked
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	e := &VenvError{Cmd: strings.Join(append([]string{filepath.Base(name)}, args...), " "), Tail: tail}
	if len(args) > 1 && args[1] == "pip" {
		e.Unreachable = unreachable
	}
	if slices.ContainsFunc(tail, func(l string) bool { return strings.Contains(l, "ensurepip is not available") }) {
		e.Fix = "sudo apt-get install python3-venv"
	}
	if len(tail) == 0 {
		e.Tail = []string{err.Error()}
	}
	return e
}

// waitDelay bounds how long a step's output is read after it is killed
// (a child of pip's may hold the pipe).
const venvWaitDelay = 5 * time.Second
