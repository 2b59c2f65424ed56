package stacks

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// attach watches the container for its exit and opens the service log;
// streamLogs then copies the container's output into it. Docker ends a
// log stream at once for a container that is not running yet, so a new
// container is attached before its start and streamed after it.
func (r *containerRunner) attach(ctx context.Context, id, command string, since time.Time) (*runningContainer, error) {
	f, off, err := openLog(r.spec.LogPath, command)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	noStream := make(chan struct{})
	close(noStream)
	c := &runningContainer{id: id, command: command, logPath: r.spec.LogPath, logOff: off, logFile: f, wctx: wctx,
		logDone: noStream, done: make(chan struct{}), cancel: cancel}
	// A created container is "not running" yet: wait for its next exit.
	cond := container.WaitConditionNotRunning
	if since.IsZero() {
		cond = container.WaitConditionNextExit
	}
	waitC, errC := r.cli.ContainerWait(wctx, id, cond)
	go func() {
		var err error
		select {
		case w := <-waitC:
			err = &containerExit{code: w.StatusCode}
			if w.Error != nil && w.Error.Message != "" {
				err = fmt.Errorf("%w: %s", err, w.Error.Message)
			}
		case e := <-errC:
			if wctx.Err() != nil { // Stop canceled the watch
				close(c.done)
				return
			}
			err = fmt.Errorf("lost the container: %w", r.wrap(e))
		}
		c.mu.Lock()
		c.dead = true
		c.exitErr = err
		crashed := c.onExit != nil && !c.stopping
		onExit := c.onExit
		c.mu.Unlock()
		close(c.done)
		if crashed {
			// Let the log stream deliver the last words first.
			select {
			case <-c.logStream():
			case <-time.After(time.Second):
			}
			onExit(c.crashError(err))
		}
	}()
	return c, nil
}

// streamLogs copies the container's output (from since; zero: from its
// beginning) into the service log until the container is gone.
func (r *containerRunner) streamLogs(c *runningContainer, since time.Time) error {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true}
	if !since.IsZero() {
		opts.Since = strconv.FormatInt(since.Unix(), 10)
	}
	logs, err := r.cli.ContainerLogs(c.wctx, c.id, opts)
	if err != nil {
		return fmt.Errorf("stream container logs: %w", r.wrap(err))
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.logDone = done
	c.mu.Unlock()
	go func() {
		defer close(done)
		defer logs.Close()
		_, _ = stdcopy.StdCopy(c.logFile, c.logFile, logs) // ends when the container is gone or wctx ends
	}()
	return nil
}

func (c *runningContainer) logStream() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logDone
}

// waitReady probes the published port until an HTTP answer comes back (over
// the uwsgi protocol for uWSGI), the container exits, or ctx ends. Docker's
// proxy accepts connections before the server in the container listens;
// those fail and are retried.
func (c *runningContainer) waitReady(ctx context.Context) error {
	check, closeIdle := readiness(c.upstream, "")
	defer closeIdle()
	delay := 10 * time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last error
	for {
		select {
		case <-c.done:
			return c.exitErr
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("no HTTP answer on %s (last try: %v): %w", c.upstream, last, ctx.Err())
			}
			return fmt.Errorf("no HTTP answer on %s: %w", c.upstream, ctx.Err())
		case <-timer.C:
		}
		if last = check(ctx); last == nil {
			return nil
		}
		timer.Reset(delay)
		delay = min(delay*2, 50*time.Millisecond)
	}
}

func (c *runningContainer) markReady(onExit func(error)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return false
	}
	c.onExit = onExit
	return true
}

func (c *runningContainer) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.dead && !c.stopping
}

// startError wraps why a start failed with the container's last log lines.
func (c *runningContainer) startError(err error) *StartError {
	return &StartError{Command: c.command, Tail: logTail(c.logPath, c.logOff, tailLines), Err: err}
}

// crashError is a started container's exit, with its last log lines.
func (c *runningContainer) crashError(err error) error {
	tail := logTail(c.logPath, c.logOff, 5)
	if len(tail) == 0 {
		return fmt.Errorf("container %s: %w", shortID(c.id), err)
	}
	return fmt.Errorf("container %s: %w (last log line: %s)", shortID(c.id), err, tail[len(tail)-1])
}
