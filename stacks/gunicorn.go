package stacks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/devport/devport/assets"
	"github.com/devport/devport/internal/stackdef"
)

// gunicorn runs the gunicorn and wsgi stacks: `<python> -m gunicorn [-k
// uvicorn.workers.UvicornWorker] -w N --bind unix:RunDir/<service>.sock
// --forwarded-allow-ips '*' --keep-alive 15 (BackendKeepAlive) --chdir Dir
// MODULE:APP`, run in Dir. The
// gunicorn stack serves an ASGI app with uvicorn's workers, the wsgi stack
// a WSGI app with gunicorn's own sync workers.
//
// A PathPrefix reaches the app as SCRIPT_NAME (gunicorn --env): gunicorn's
// sync workers split it off PATH_INFO, so the wsgi stack takes the full
// path. uvicorn's worker has no root_path setting in gunicorn, so the
// gunicorn stack then runs a subclass of it (asgiWorkerSource, written to
// the run folder) that sets root_path from SCRIPT_NAME; like uvicorn, it
// takes the path with the prefix stripped.
//
// With Spec.Debug it runs `<python> -m debugpy --listen 127.0.0.1:PORT -m
// gunicorn ... -w 1 --timeout 0`: debugpy listens in the arbiter, for the
// arbiter's whole life, and follows the forked worker as a subprocess
// (debugpy's debugpyAttach event, which VS Code's attach answers by
// attaching to the worker), so a breakpoint in a request handler stops the
// worker. A listener in the worker instead (a post_fork hook) would need
// gunicorn's -c, which replaces the project's own gunicorn.conf.py, and
// every replaced worker would race its predecessor's adapter for the port.
type gunicorn struct {
	spec   Spec
	asgi   bool // the gunicorn stack: uvicorn workers
	python *interpreter
}

func newGunicorn(spec Spec, tools toolchain) *gunicorn {
	need, _ := pythonNeed(spec.Stack)
	return &gunicorn{spec: spec, asgi: spec.Stack == stackdef.Gunicorn, python: &interpreter{tools: tools, dir: spec.Dir, need: need}}
}

// The uvicorn worker with a root_path, for the gunicorn stack with a
// prefix; its source is shared with the compose export (package assets).
const (
	asgiWorkerModule = assets.GunicornWorkerModule
	asgiWorkerClass  = asgiWorkerModule + ".RootPathWorker"
)

var asgiWorkerSource = assets.GunicornWorker

func (g *gunicorn) prefix() string {
	if p := g.spec.PathPrefix; p != "/" {
		return p
	}
	return ""
}

func (g *gunicorn) prepare(ctx context.Context, _ int) (launch, error) {
	sock := serviceSocket(g.spec)
	if err := checkSocketPath(sock); err != nil {
		return launch{}, err
	}
	if !isDir(g.spec.Dir) {
		return launch{}, folderMissing(g.spec.Dir)
	}
	py, err := g.python.get()
	if err != nil {
		return launch{}, err
	}
	if err := makeRunDir(g.spec.RunDir, sock); err != nil {
		return launch{}, err
	}
	var args []string
	if g.spec.Debug { // debugpy in the arbiter follows its one worker
		if args, err = debugArgs(g.spec, py); err != nil {
			return launch{}, err
		}
	}
	args = append(args, "-m", "gunicorn")
	if g.asgi {
		if g.prefix() != "" {
			worker := filepath.Join(g.spec.RunDir, asgiWorkerModule+".py")
			if err := os.WriteFile(worker, []byte(asgiWorkerSource), 0o600); err != nil {
				return launch{}, fmt.Errorf("write gunicorn worker: %w", err)
			}
			args = append(args, "--pythonpath", g.spec.RunDir, "-k", asgiWorkerClass)
		} else {
			args = append(args, "-k", "uvicorn.workers.UvicornWorker")
		}
	}
	args = append(args, gunicornWorkerArgs(g.spec)...)
	args = append(args,
		"--bind", "unix:"+sock,
		"--forwarded-allow-ips", "*",
		"--keep-alive", keepAliveSeconds(),
		"--chdir", g.spec.Dir,
	)
	if p := g.prefix(); p != "" {
		args = append(args, "--env", "SCRIPT_NAME="+p)
	}
	args = append(args, g.spec.App)
	env := append(os.Environ(), "PYTHONUNBUFFERED=1")
	if g.spec.Debug {
		env = append(env, debugEnv...)
	}
	return launch{
		path:     py,
		args:     args,
		dir:      g.spec.Dir,
		env:      append(env, g.spec.Env...),
		upstream: Upstream{Network: "unix", Address: sock},
	}, nil
}

// gunicornWorkerArgs are spec's worker flags in both runtimes: -w N, or
// under the debugger (Spec.Debug) one worker with no timeout: gunicorn
// would otherwise kill a worker paused at a breakpoint after 30 s.
func gunicornWorkerArgs(s Spec) []string {
	if s.Debug {
		return []string{"-w", "1", "--timeout", "0"}
	}
	return []string{"-w", strconv.Itoa(s.workers())}
}

// retry: a gunicorn failure at start is the app's, not the socket's.
func (g *gunicorn) retry(*StartError) bool { return false }

// cleanup removes the socket gunicorn leaves behind when it is killed, and
// the worker module.
func (g *gunicorn) cleanup() {
	_ = removeSocket(serviceSocket(g.spec))
	_ = os.Remove(filepath.Join(g.spec.RunDir, asgiWorkerModule+".py"))
}
