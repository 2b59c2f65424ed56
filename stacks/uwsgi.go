package stacks

import (
	"context"
	"os"
	"strconv"
	"sync"
)

// uwsgiStack runs the uwsgi stack: `uwsgi --plugin python3 --socket
// RunDir/<service>.sock --chmod-socket=600 --master --die-on-term --vacuum
// --need-app --processes N --chdir Dir --module MODULE:APP`, run in Dir.
// The socket speaks the uwsgi protocol, not HTTP: its Upstream says so.
//
// --die-on-term makes SIGTERM a shutdown (uWSGI reloads on it otherwise),
// --vacuum removes the socket at exit, and --need-app exits when the app
// does not import instead of serving 500s. A PathPrefix mounts the app
// there (--manage-script-name --mount PREFIX=MODULE:APP): uWSGI then takes
// the full path and splits SCRIPT_NAME off it.
type uwsgiStack struct {
	spec  Spec
	tools toolchain

	mu     sync.Mutex
	binary string // the uwsgi found by the first start, reused after
}

func newUWSGI(spec Spec, tools toolchain) *uwsgiStack {
	return &uwsgiStack{spec: spec, tools: tools}
}

// uwsgi finds the binary once per runner; a failure is not cached.
func (u *uwsgiStack) uwsgi() (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.binary != "" && isExecutable(u.binary) {
		return u.binary, nil
	}
	p, err := u.tools.uwsgi()
	if err != nil {
		return "", err
	}
	u.binary = p
	return p, nil
}

func (u *uwsgiStack) prepare(ctx context.Context, _ int) (launch, error) {
	sock := serviceSocket(u.spec)
	if err := checkSocketPath(sock); err != nil {
		return launch{}, err
	}
	if !isDir(u.spec.Dir) {
		return launch{}, folderMissing(u.spec.Dir)
	}
	bin, err := u.uwsgi()
	if err != nil {
		return launch{}, err
	}
	if err := makeRunDir(u.spec.RunDir, sock); err != nil {
		return launch{}, err
	}
	args := []string{
		"--plugin", "python3",
		"--socket", sock,
		"--chmod-socket=600",
		"--master", "--die-on-term", "--vacuum", "--need-app",
		// Room for long cookies: uWSGI's 4 KiB default drops such requests.
		"--buffer-size", "65535",
		"--processes", strconv.Itoa(u.spec.workers()),
		"--chdir", u.spec.Dir,
	}
	if p := u.spec.PathPrefix; p != "" && p != "/" {
		args = append(args, "--manage-script-name", "--mount", p+"="+u.spec.App)
	} else {
		args = append(args, "--module", u.spec.App)
	}
	env := append(os.Environ(), "PYTHONUNBUFFERED=1")
	return launch{
		path:     bin,
		args:     args,
		dir:      u.spec.Dir,
		env:      append(env, u.spec.Env...),
		upstream: Upstream{Network: "unix", Address: sock, Protocol: ProtocolUWSGI},
	}, nil
}

// retry: a uWSGI failure at start is the app's, not the socket's.
func (u *uwsgiStack) retry(*StartError) bool { return false }

// cleanup removes the socket when uWSGI was killed before --vacuum ran.
func (u *uwsgiStack) cleanup() { _ = removeSocket(serviceSocket(u.spec)) }
