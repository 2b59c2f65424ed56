package stacks

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// maxSocketPath is the longest unix socket path this package uses: sun_path
// holds 104 bytes on macOS (108 on Linux), including the final NUL.
const maxSocketPath = 103

// uvicorn is the uvicorn stack: `<python> -m uvicorn MODULE:APP --uds
// RunDir/<service>.sock --proxy-headers --forwarded-allow-ips '*'
// [--root-path PREFIX] --app-dir Dir`, run in Dir.
type uvicorn struct {
	spec  Spec
	tools toolchain

	mu     sync.Mutex
	python string // the interpreter found by the first start, reused after
}

func newUvicorn(spec Spec, tools toolchain) *uvicorn {
	return &uvicorn{spec: spec, tools: tools}
}

func (u *uvicorn) socketPath() string {
	return filepath.Join(u.spec.RunDir, u.spec.Service+".sock")
}

// interpreter finds the Python once per runner: the probe runs Python.
// A failure is not cached, so installing uvicorn and starting again works
// without restarting devport.
func (u *uvicorn) interpreter() (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.python != "" && isExecutable(u.python) {
		return u.python, nil
	}
	py, err := u.tools.python(u.spec.Dir)
	if err != nil {
		return "", err
	}
	u.python = py
	return py, nil
}

func (u *uvicorn) prepare(ctx context.Context, _ int) (launch, error) {
	sock := u.socketPath()
	if len(sock) > maxSocketPath {
		return launch{}, fmt.Errorf("socket %q is %d bytes: %w (at most %d): choose a shorter run folder",
			sock, len(sock), ErrSocketPath, maxSocketPath)
	}
	if !isDir(u.spec.Dir) {
		return launch{}, folderMissing(u.spec.Dir)
	}
	py, err := u.interpreter()
	if err != nil {
		return launch{}, err
	}
	if err := os.MkdirAll(u.spec.RunDir, 0o700); err != nil {
		return launch{}, fmt.Errorf("create run folder: %w", err)
	}
	if err := removeSocket(sock); err != nil {
		return launch{}, err
	}
	args := []string{"-m", "uvicorn", u.spec.App,
		"--uds", sock,
		"--proxy-headers", "--forwarded-allow-ips", "*",
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

// removeSocket removes a stale socket at path. Anything else there is left
// alone and reported: the run folder is devport's, but a file devport did
// not make is not its to delete.
func removeSocket(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case err != nil:
		return nil
	case fi.Mode().Type() != fs.ModeSocket:
		return fmt.Errorf("%q is in the way of uvicorn's socket and is not a socket: move it", path)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}
