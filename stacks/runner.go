package stacks

import (
	"context"
	"fmt"
	"sync"
)

// Runner runs one service.
type Runner interface {
	// Start launches the backend and returns once a real HTTP request got an
	// answer (any status). A backend that exits first, or does not answer
	// before ctx's deadline (DefaultReadyTimeout when ctx has none), comes
	// back as a *StartError, and nothing of it is left running. Start on a
	// running backend returns its upstream.
	Start(ctx context.Context) (Upstream, error)
	// Stop sends SIGTERM to the backend's process group, SIGKILL after
	// Spec.StopTimeout, and returns once nothing of the group is left. It
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
// system: missing binaries show up in Check and in Start.
func NewRunner(spec Spec) (Runner, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	var be backend
	switch spec.Stack {
	case StackPHP:
		be = newApache(spec, systemTools())
	case StackUvicorn:
		be = newUvicorn(spec, systemTools())
	default:
		return nil, fmt.Errorf("service %s: stack %q: %w (use php or uvicorn)", spec.label(), spec.Stack, ErrUnknownStack)
	}
	return newProcRunner(spec, be), nil
}

// procRunner is the lifecycle every process stack shares.
type procRunner struct {
	spec Spec
	be   backend
	sem  chan struct{} // held by Start and Stop: one lifecycle change at a time

	mu      sync.Mutex
	cur     *process      // the running (or not yet fully stopped) backend
	stopReq chan struct{} // closed by Stop to cancel the Starts begun before it
	exited  chan struct{} // Exited's channel for the current or next run
	closed  bool          // exited has been closed: the next run needs a new one
	err     error         // why the last run crashed
}

func newProcRunner(spec Spec, be backend) *procRunner {
	return &procRunner{
		spec:    spec,
		be:      be,
		sem:     make(chan struct{}, 1),
		stopReq: make(chan struct{}),
		exited:  make(chan struct{}),
	}
}

func (r *procRunner) acquire(ctx context.Context) error {
	select {
	case r.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *procRunner) release() { <-r.sem }

func (r *procRunner) Start(ctx context.Context) (Upstream, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	stopReq := r.stopReq
	r.mu.Unlock()
	// A Stop from now on cancels this Start. The goroutine ends with Start.
	go func(done <-chan struct{}) {
		select {
		case <-stopReq:
			cancel()
		case <-done:
		}
	}(ctx.Done())
	if err := r.acquire(ctx); err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	defer r.release()

	r.mu.Lock()
	cur := r.cur
	r.mu.Unlock()
	if cur != nil {
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
		p, err := spawn(l, r.spec.LogPath)
		if err != nil {
			return Upstream{}, err
		}
		err = p.waitReady(ctx)
		if err == nil {
			r.mu.Lock()
			if r.closed {
				r.exited, r.closed = make(chan struct{}), false
			}
			r.err = nil
			ch := r.exited
			ok := p.markReady(func(err error) { r.endRun(ch, err) })
			if ok {
				r.cur = p
			}
			r.mu.Unlock()
			if ok {
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
			r.mu.Lock()
			r.cur = p // Stop will finish it
			r.mu.Unlock()
		}
		se := p.startError(err)
		if attempt == 0 && ctx.Err() == nil && r.be.retry(se) {
			continue
		}
		return Upstream{}, se
	}
}

// endRun closes the Exited channel ch of a run that ended, once; err is
// the crash, or nil for a Stop.
func (r *procRunner) endRun(ch chan struct{}, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.exited != ch || r.closed {
		return
	}
	if err != nil {
		r.err = err
	}
	close(ch)
	r.closed = true
}

// stopProcess terminates p and cleans the run folder; r.sem must be held.
func (r *procRunner) stopProcess(ctx context.Context, p *process) error {
	if err := p.terminate(ctx, r.spec.StopTimeout); err != nil {
		return err
	}
	r.be.cleanup()
	r.mu.Lock()
	if r.cur == p {
		r.cur = nil
	}
	r.mu.Unlock()
	if onExit := p.exitFunc(); onExit != nil { // it had started: its watchers learn it is gone
		onExit(nil)
	}
	return nil
}

func (r *procRunner) Stop(ctx context.Context) error {
	r.mu.Lock()
	close(r.stopReq)
	r.stopReq = make(chan struct{})
	r.mu.Unlock()
	if err := r.acquire(ctx); err != nil {
		return fmt.Errorf("stop %s: %w", r.spec.label(), err)
	}
	defer r.release()
	r.mu.Lock()
	p := r.cur
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := r.stopProcess(ctx, p); err != nil {
		return fmt.Errorf("stop %s: %w", r.spec.label(), err)
	}
	return nil
}

func (r *procRunner) Exited() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.exited
}

func (r *procRunner) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
