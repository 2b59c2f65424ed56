package stacks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/devport/devport/internal/stackdef"
)

// maxSocketPath is the longest unix socket path this package uses: sun_path
// holds 104 bytes on macOS (108 on Linux), including the final NUL.
const maxSocketPath = 103

// uvicorn is the uvicorn stack: `<python> -m uvicorn MODULE:APP --uds
// RunDir/<service>.sock --proxy-headers --forwarded-allow-ips '*'
// --timeout-keep-alive 15 (BackendKeepAlive) --app-dir Dir [--root-path
// PREFIX]`, run in Dir; a factory, MODULE:FACTORY(), is `MODULE:FACTORY
// --factory` (uvicornApp). With Spec.Debug, `-m debugpy --listen
// 127.0.0.1:PORT` comes before `-m uvicorn` (debugArgs).
type uvicorn struct {
	spec   Spec
	python *interpreter
}

func newUvicorn(spec Spec, tools toolchain) *uvicorn {
	need, _ := pythonNeed(stackdef.Uvicorn)
	return &uvicorn{spec: spec, python: &interpreter{tools: tools, dir: spec.Dir, need: need}}
}

func (u *uvicorn) socketPath() string { return serviceSocket(u.spec) }

func (u *uvicorn) prepare(ctx context.Context, _ int) (launch, error) {
	sock := u.socketPath()
	if err := checkSocketPath(sock); err != nil {
		return launch{}, err
	}
	if !isDir(u.spec.Dir) {
		return launch{}, folderMissing(u.spec.Dir)
	}
	py, err := u.python.get()
	if err != nil {
		return launch{}, err
	}
	if err := makeRunDir(u.spec.RunDir, sock); err != nil {
		return launch{}, err
	}
	var args []string
	if u.spec.Debug { // one process, no reload: debugpy traces it all
		if args, err = debugArgs(u.spec, py); err != nil {
			return launch{}, err
		}
	}
	args = append(args, "-m", "uvicorn")
	args = append(args, uvicornApp(u.spec.App)...)
	args = append(args, "--uds", sock,
		"--proxy-headers", "--forwarded-allow-ips", "*",
		"--timeout-keep-alive", keepAliveSeconds(),
		"--app-dir", u.spec.Dir,
	)
	if p := u.spec.PathPrefix; p != "" && p != "/" {
		args = append(args, "--root-path", p)
	}
	env := append(os.Environ(), "PYTHONUNBUFFERED=1")
	if u.spec.Debug {
		env = append(env, debugEnv...)
	}
	return launch{
		path:     py,
		args:     args,
		dir:      u.spec.Dir,
		env:      append(env, u.spec.Env...),
		upstream: Upstream{Network: "unix", Address: sock},
	}, nil
}

// uvicornApp is how uvicorn is told app: MODULE:ATTRIBUTE as it is, and
// a factory, MODULE:FACTORY(), as MODULE:FACTORY --factory, which has
// uvicorn call it at start (uvicorn 0.14 and later; Debian's bookworm has
// 0.17.6).
func uvicornApp(app string) []string {
	if f, ok := strings.CutSuffix(app, "()"); ok {
		return []string{f, "--factory"}
	}
	return []string{app}
}

// retry: a uvicorn failure at start is the app's, not the socket's.
func (u *uvicorn) retry(*StartError) bool { return false }

// cleanup removes the socket uvicorn leaves behind when it is killed.
func (u *uvicorn) cleanup() { _ = removeSocket(u.socketPath()) }

// serviceSocket is the unix socket of a service: RunDir/<service>.sock.
func serviceSocket(s Spec) string {
	return filepath.Join(s.RunDir, s.Service+".sock")
}

// checkSocketPath rejects a socket path too long for sun_path.
func checkSocketPath(sock string) error {
	if len(sock) > maxSocketPath {
		return fmt.Errorf("socket %q is %d bytes: %w (at most %d): choose a shorter run folder",
			sock, len(sock), ErrSocketPath, maxSocketPath)
	}
	return nil
}

// makeRunDir creates the run folder (0700) and clears a stale socket there.
func makeRunDir(runDir, sock string) error {
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return fmt.Errorf("create run folder: %w", err)
	}
	return removeSocket(sock)
}

// removeSocket removes a stale socket at path. Anything else there is left
// alone and reported: the run folder is devport's, but a file devport did
// not make is not its to delete.
func removeSocket(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case err != nil:
		return nil
	case fi.Mode().Type() != fs.ModeSocket:
		return fmt.Errorf("%q is in the way of the backend's socket and is not a socket: move it", path)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

// DefaultDebugPort is debugpy's port on 127.0.0.1 when Spec.DebugPort is
// 0: the one VS Code's Python "attach" configuration connects to.
const DefaultDebugPort = 5678

// ErrNoDebugger is a debug request for a stack devport does not run under
// debugpy: uWSGI embeds Python in its own binary, so there is no `python -m
// debugpy` to wrap it with.
var ErrNoDebugger = errors.New("devport runs only the uvicorn, gunicorn and wsgi stacks under debugpy: " +
	"uWSGI embeds Python in its own binary, so python -m debugpy cannot wrap it; serve the app with the wsgi stack (gunicorn) to debug it")

// ErrDebugPortInUse means debugpy's port on 127.0.0.1 is taken.
var ErrDebugPortInUse = errors.New("debugpy's port is already in use")

// debugPort is the port debugpy listens on for spec.
func (s *Spec) debugPort() int {
	if s.DebugPort > 0 {
		return s.DebugPort
	}
	return DefaultDebugPort
}

// debugEnv quiets pydevd's warning that frozen modules may hide
// breakpoints (-Xfrozen_modules=off already turns them off on Python
// 3.11; older ones ignore the option).
var debugEnv = []string{"PYDEVD_DISABLE_FILE_VALIDATION=1"}

// debugArgs are the arguments that make py run the server under debugpy,
// listening on 127.0.0.1:DebugPort: the server's own `-m MODULE ...`
// follow them. It checks first that py imports debugpy and that the port
// is free, so that either failure reads as itself rather than as a
// backend that exited at start.
func debugArgs(s Spec, py string) ([]string, error) {
	if !imports(py, "debugpy") {
		missing := MissingError{Binary: "debugpy", Package: "python3-debugpy"}
		return nil, &hintError{
			msg: fmt.Sprintf("service %s is to run under the debugger, and %s cannot import debugpy: %v (or pip install debugpy into %s), or turn debugging off: devport debug %s off",
				s.label(), py, &missing, filepath.Join(s.Dir, venvDirs[0]), s.Project),
			err: &missing,
		}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.debugPort()))
	if err := CheckDebugPort(s.debugPort()); err != nil {
		return nil, fmt.Errorf("service %s: %w: close what listens there (another debug session?), or turn debugging off: devport debug %s off",
			s.label(), err, s.Project)
	}
	return []string{"-Xfrozen_modules=off", "-m", "debugpy", "--listen", addr}, nil
}

// CheckDebugPort reports whether debugpy could listen on 127.0.0.1:port:
// an error wrapping ErrDebugPortInUse when something holds it.
func CheckDebugPort(port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%w: %s (%v)", ErrDebugPortInUse, addr, err)
	}
	return l.Close()
}
