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
	args := []string{"-m", "gunicorn"}
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
	args = append(args,
		"-w", strconv.Itoa(g.spec.workers()),
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
	return launch{
		path:     py,
		args:     args,
		dir:      g.spec.Dir,
		env:      append(env, g.spec.Env...),
		upstream: Upstream{Network: "unix", Address: sock},
	}, nil
}

// retry: a gunicorn failure at start is the app's, not the socket's.
func (g *gunicorn) retry(*StartError) bool { return false }

// cleanup removes the socket gunicorn leaves behind when it is killed, and
// the worker module.
func (g *gunicorn) cleanup() {
	_ = removeSocket(serviceSocket(g.spec))
	_ = os.Remove(filepath.Join(g.spec.RunDir, asgiWorkerModule+".py"))
}
