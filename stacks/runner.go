package stacks

import (
	"context"
	"fmt"

	"github.com/devport/devport/internal/stackdef"
)

// Runner runs one service.
type Runner interface {
	// Start launches the backend and returns once a real HTTP request got an
	// answer (any status). A backend that exits first, or does not answer
	// before ctx's deadline (DefaultReadyTimeout when ctx has none), comes
	// back as a *StartError, and nothing of it is left running. Start on a
	// running backend returns its upstream.
	Start(ctx context.Context) (Upstream, error)
	// Stop sends SIGTERM to the backend's process group (through its
	// supervisor, when it has one), SIGKILL after Spec.StopTimeout, and
	// returns once nothing of the group is left. It
	// cancels a Start in progress, and it is safe to call twice or after a
	// failed Start. When ctx ends first the group gets SIGKILL and Stop
	// returns ctx's error; calling Stop again finishes the job.
	Stop(ctx context.Context) error
	// Exited is closed when the backend started by the last successful
	// Start is gone: it exited on its own (a crash: Err is set), or Stop
	// took it down (Err stays nil), so a goroutine watching it always ends.
	// Call it after Start: each successful Start after that uses a new
	// channel.
	Exited() <-chan struct{}
	// Err says why the backend exited on its own; nil while it runs, after
	// a Stop of a running backend, and after a successful Start.
	Err() error
}

// backend is what differs between stacks: how to prepare one start attempt.
type backend interface {
	// prepare writes what the attempt needs (config, socket folder) and
	// says what to run. attempt counts from 0.
	prepare(ctx context.Context, attempt int) (launch, error)
	// retry reports whether a failed first attempt deserves a second one
	// (Apache: the port was taken between choosing and binding it).
	retry(*StartError) bool
	// cleanup removes what a stopped backend leaves in the run folder.
	cleanup()
}

// NewRunner returns a process Runner for spec. It checks the spec, not the
// system: missing binaries show up in Check and in Start. The Runner also
// has ProcessGroup() (Group, bool), for the engine to record, and the
// runners of the database stacks (mariadb, postgres) are a Database.
func NewRunner(spec Spec) (Runner, error) {
	if err := processRuntime(); err != nil {
		return nil, err
	}
	if err := spec.validate(); err != nil {
		return nil, err
	}
	var be backend
	switch spec.Stack {
	case stackdef.PHP:
		be = newApache(spec, systemTools())
	case stackdef.Uvicorn:
		be = newUvicorn(spec, systemTools())
	case stackdef.Gunicorn, stackdef.WSGI:
		be = newGunicorn(spec, systemTools())
	case stackdef.UWSGI:
		be = newUWSGI(spec, systemTools())
	case stackdef.MariaDB, stackdef.MySQL, stackdef.Postgres, stackdef.Redis, stackdef.Mailpit:
		return newDataRunner(spec, systemTools()) // data_process.go
	default:
		return nil, fmt.Errorf("service %s: stack %q: %w (use %s)", spec.label(), spec.Stack, ErrUnknownStack, stackList)
	}
	return newProcRunner(spec, be), nil
}

// procRunner is the process runtime's Runner: the lifecycle shared with
// the container runtime, around one process group per run.
type procRunner struct {
	spec Spec
	be   backend
	lifecycle[*process]
}

func newProcRunner(spec Spec, be backend) *procRunner {
	return &procRunner{spec: spec, be: be, lifecycle: newLifecycle[*process]()}
}

func (r *procRunner) Start(ctx context.Context) (Upstream, error) {
	ctx, end, err := r.beginStart(ctx)
	if err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	defer end()

	if cur := r.current(); cur != nil {
		if cur.running() {
			return cur.upstream, nil
		}
		// It crashed, or an earlier Stop gave up: finish that first.
		if err := r.stopProcess(ctx, cur); err != nil {
			return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
		}
	}

	if _, ok := ctx.Deadline(); !ok {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, DefaultReadyTimeout)
		defer cancelTimeout()
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
		}
		l, err := r.be.prepare(ctx, attempt)
		if err != nil {
			return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
		}
		l.supervisor, l.grace = r.spec.Supervisor, r.spec.StopTimeout
		p, err := spawn(l, r.spec.LogPath)
		if err != nil {
			return Upstream{}, err
		}
		err = p.waitReady(ctx)
		if err == nil {
			if r.ready(p) {
				return l.upstream, nil
			}
			<-p.done // exited right after answering: report it like any early exit
			err = p.exitErr()
		}
		// Take down whatever is left before reading the log: its last
		// words are usually the reason.
		stopCtx, stopCancel := context.WithTimeout(context.WithoutCancel(ctx), r.spec.StopTimeout+DefaultStopTimeout)
		stopErr := r.stopProcess(stopCtx, p)
		stopCancel()
		if stopErr != nil {
			r.setCurrent(p) // Stop will finish it
		}
		se := p.startError(err)
		if attempt == 0 && ctx.Err() == nil && r.be.retry(se) {
			continue
		}
		return Upstream{}, se
	}
}

// stopProcess terminates p and cleans the run folder; the lifecycle must
// be held.
func (r *procRunner) stopProcess(ctx context.Context, p *process) error {
	if err := p.terminate(ctx, r.spec.StopTimeout); err != nil {
		return err
	}
	r.be.cleanup()
	r.forget(p)
	if onExit := p.exitFunc(); onExit != nil { // it had started: its watchers learn it is gone
		onExit(nil)
	}
	return nil
}

func (r *procRunner) Stop(ctx context.Context) error {
	end, err := r.beginStop(ctx)
	if err != nil {
		return fmt.Errorf("stop %s: %w", r.spec.label(), err)
	}
	defer end()
	p := r.current()
	if p == nil {
		return nil
	}
	if err := r.stopProcess(ctx, p); err != nil {
		return fmt.Errorf("stop %s: %w", r.spec.label(), err)
	}
	return nil
}
