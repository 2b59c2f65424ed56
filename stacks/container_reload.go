package stacks

import (
	"context"
	"errors"
	"fmt"

	"github.com/devport/devport/internal/stackdef"
)

// Reloader is a Runner that can restart its server in place for a reload
// on save, keeping what surrounds it: a Python container keeps its
// container, network and published port, so a reload costs the server's
// start and not a new container's (about a second on two cores).
type Reloader interface {
	// Reload restarts the server and returns once the new one answers,
	// as Start does, at the same upstream. ErrNoReload means it could not
	// be done in place and nothing changed: Stop then Start instead. Any
	// other error is a failed start (a *StartError with the log's tail,
	// for a server that no longer starts): the backend is gone, Exited is
	// closed, and Start starts it again.
	Reload(ctx context.Context) (Upstream, error)
}

// ErrNoReload is Reload's answer when no server runs that it can restart
// in place (none runs, or its container predates the restart loop).
var ErrNoReload = errors.New("no server to restart in place")

// reloadScript restarts the server of a Python container's script
// (serveLoop): it signals the script, then waits until the server's pid
// changes, that is until the old server exited and the new one was
// launched. Exit status 3: the container has no restart loop.
const reloadScript = `[ -f ` + scriptPIDFile + ` ] && [ -f ` + serverPIDFile + ` ] || exit 3
old=$(cat ` + serverPIDFile + `)
kill -HUP "$(cat ` + scriptPIDFile + `)" || exit 3
while [ "$(cat ` + serverPIDFile + ` 2>/dev/null)" = "$old" ]; do sleep 0.02; done`

// Reload restarts a Python container's server in place (see Reloader).
func (r *containerRunner) Reload(ctx context.Context) (Upstream, error) {
	if !stackdef.IsPython(r.spec.Stack) {
		return Upstream{}, ErrNoReload
	}
	ctx, end, err := r.beginStart(ctx)
	if err != nil {
		return Upstream{}, fmt.Errorf("reload %s: %w", r.spec.label(), err)
	}
	defer end()
	c := r.current()
	if c == nil || !c.running() {
		return Upstream{}, ErrNoReload
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultReadyTimeout)
		defer cancel()
	}
	err = r.execIn(ctx, c.id, execSpec{cmd: []string{"sh", "-c", reloadScript}})
	var ee *ExecError
	if errors.As(err, &ee) && ee.Code == 3 {
		return Upstream{}, ErrNoReload
	}
	if err != nil && c.running() {
		// The container runs but could not be told: a new one will do.
		return Upstream{}, fmt.Errorf("%w: %v", ErrNoReload, err)
	}
	if err := c.waitReady(ctx); err != nil {
		serr := c.startError(err) // the log's tail, before the container goes
		_ = r.removeCurrent(context.WithoutCancel(ctx), c)
		return Upstream{}, serr
	}
	return c.upstream, nil
}
