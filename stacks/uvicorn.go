package stacks

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/devport/devport/internal/stackdef"
)

// maxSocketPath is the longest unix socket path this package uses: sun_path
// holds 104 bytes on macOS (108 on Linux), including the final NUL.
const maxSocketPath = 103

// uvicorn is the uvicorn stack: `<python> -m uvicorn MODULE:APP --uds
// RunDir/<service>.sock --proxy-headers --forwarded-allow-ips '*'
// --timeout-keep-alive 15 (BackendKeepAlive) --app-dir Dir [--root-path
// PREFIX]`, run in Dir.
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
	args := []string{"-m", "uvicorn", u.spec.App,
		"--uds", sock,
		"--proxy-headers", "--forwarded-allow-ips", "*",
		"--timeout-keep-alive", keepAliveSeconds(),
		"--app-dir", u.spec.Dir,
	}
	if p := u.spec.PathPrefix; p != "" && p != "/" {
		args = append(args, "--root-path", p)
	}
	env := append(os.Environ(), "PYTHONUNBUFFERED=1")
	return launch{
		path:     py,
		args:     args,
		dir:      u.spec.Dir,
		env:      append(env, u.spec.Env...),
		upstream: Upstream{Network: "unix", Address: sock},
	}, nil
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
