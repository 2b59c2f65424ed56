package stacks

import (
	"context"
	"sync"
)

// instance is one started backend of a runtime: a process group or a
// container.
type instance interface {
	comparable
	// running reports whether it is still up.
	running() bool
	// markReady arms onExit, which it calls once when the instance goes
	// away after this point (err nil for a Stop). It returns false when
	// the instance is already gone. It must not call onExit itself.
	markReady(onExit func(error)) bool
}

// lifecycle is the part of a Runner every runtime shares: one Start or
// Stop at a time, a Stop that cancels the Starts begun before it, and the
// Exited/Err bookkeeping of each run. T is the runtime's instance type.
type lifecycle[T instance] struct {
	sem chan struct{} // held by Start and Stop: one lifecycle change at a time

	mu      sync.Mutex
	cur     T             // the running (or not yet fully stopped) instance; zero: none
	stopReq chan struct{} // closed by Stop to cancel the Starts begun before it
	exited  chan struct{} // Exited's channel for the current or next run
	closed  bool          // exited has been closed: the next run needs a new one
	err     error         // why the last run crashed
}

func newLifecycle[T instance]() lifecycle[T] {
	return lifecycle[T]{sem: make(chan struct{}, 1), stopReq: make(chan struct{}), exited: make(chan struct{})}
}

// beginStart takes the lifecycle for a Start. The returned context ends
// when a Stop is asked for (or ctx ends); end releases the lifecycle.
func (l *lifecycle[T]) beginStart(ctx context.Context) (_ context.Context, end func(), _ error) {
	ctx, cancel := context.WithCancel(ctx)
	l.mu.Lock()
	stopReq := l.stopReq
	l.mu.Unlock()
	// A Stop from now on cancels this Start. The goroutine ends with it.
	go func(done <-chan struct{}) {
		select {
		case <-stopReq:
			cancel()
		case <-done:
		}
	}(ctx.Done())
	if err := l.acquire(ctx); err != nil {
		cancel()
		return nil, nil, err
	}
	return ctx, func() { l.release(); cancel() }, nil
}

// beginStop cancels the Starts in progress and takes the lifecycle; end
// releases it.
func (l *lifecycle[T]) beginStop(ctx context.Context) (end func(), _ error) {
	l.mu.Lock()
	close(l.stopReq)
	l.stopReq = make(chan struct{})
	l.mu.Unlock()
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	return l.release, nil
}

func (l *lifecycle[T]) acquire(ctx context.Context) error {
	select {
	case l.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *lifecycle[T]) release() { <-l.sem }

// current is the instance of the last successful Start, or zero.
func (l *lifecycle[T]) current() T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// setCurrent records c as the instance a later Stop must take down.
func (l *lifecycle[T]) setCurrent(c T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cur = c
}

// forget drops c once it is gone.
func (l *lifecycle[T]) forget(c T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == c {
		var zero T
		l.cur = zero
	}
}

// ready makes c the running instance of a new run, with a fresh Exited
// channel that closes when c goes away. It returns false, and changes
// nothing, when c died right after answering.
func (l *lifecycle[T]) ready(c T) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		l.exited, l.closed = make(chan struct{}), false
	}
	l.err = nil
	ch := l.exited
	ok := c.markReady(func(err error) { l.endRun(ch, err) })
	if ok {
		l.cur = c
	}
	return ok
}

// endRun closes the Exited channel ch of a run that ended, once; err is
// the crash, or nil for a Stop.
func (l *lifecycle[T]) endRun(ch chan struct{}, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.exited != ch || l.closed {
		return
	}
	if err != nil {
		l.err = err
	}
	close(ch)
	l.closed = true
}

// Exited is closed when the instance started by the last successful
// Start is gone (see Runner).
func (l *lifecycle[T]) Exited() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.exited
}

// Err says why the last run ended on its own (see Runner).
func (l *lifecycle[T]) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}
