package stacks

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/devport/devport/internal/shellquote"
)

// launch is one attempt at starting a backend, as a backend prepared it.
type launch struct {
	path     string   // program
	args     []string // arguments after the program
	dir      string   // working directory
	env      []string // full environment
	upstream Upstream // where it will answer once ready
	token    string   // when set, the probe's answer must carry it in probeTokenHeader

	// ready, when set, replaces the HTTP probe of upstream: it returns nil
	// once the backend serves (a database answers its own protocol).
	// afterReady, when set, runs once after that, before Start returns
	// (a database creates its user); its error fails the start like an
	// exit, with the log tail.
	ready      func(ctx context.Context) error
	afterReady func(ctx context.Context) error

	// supervisor, when set, is the argv prefix that runs the backend under
	// Supervise (Spec.Supervisor), with grace as its stop grace period.
	supervisor []string
	grace      time.Duration
}

func (l launch) command() string { return shellquote.Join(append([]string{l.path}, l.args...)) }

// process is one running backend: the leader of its own process group
// (or its supervisor, which leads the group the backend runs in). The
// goroutine started by spawn owns cmd.Wait; everything else learns of the
// exit through done.
type process struct {
	cmd        *exec.Cmd
	command    string // the backend's, without the supervisor
	pgid       int
	group      Group // what ProcessGroup reports
	supervised bool  // the leader is a supervisor: it forwards a stop
	upstream   Upstream
	token      string
	readyCheck func(context.Context) error // launch.ready
	afterReady func(context.Context) error // launch.afterReady
	logPath    string
	logOffset  int64 // where this run's output starts in the log

	done    chan struct{} // closed once the leader is reaped
	waitErr error         // cmd.Wait's result; read only after done

	mu       sync.Mutex
	exited   bool        // the leader was reaped
	ready    bool        // Start succeeded; an exit from now on is a crash
	stopping bool        // Stop (or a failed Start) asked for the exit
	gone     bool        // the group was seen empty: never signal its id again
	onExit   func(error) // set by markReady: reports the end of a started run (the crash, or nil)
}

// spawn starts l in a new process group with its output appended to logPath.
// Every process of the group carries the group's token in its environment
// (groupEnv), by which KillGroups knows it later.
func spawn(l launch, logPath string) (*process, error) {
	command := l.command()
	f, off, err := openLog(logPath, command)
	if err != nil {
		return nil, &StartError{Command: command, Err: err}
	}
	argv := append([]string{l.path}, l.args...)
	attr := sysProcAttr()
	if len(l.supervisor) > 0 {
		argv = supervisorArgv(l.supervisor, l.grace, argv)
		attr = supervisorProcAttr()
	}
	token := rand.Text()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = l.dir
	cmd.Env = append(slices.Clip(l.env), groupEnv+"="+token)
	cmd.Stdout, cmd.Stderr = f, f // *os.File: the child writes to it directly, no copying goroutine
	cmd.SysProcAttr = attr
	err = cmd.Start()
	f.Close() // the child has its own descriptor now
	if err != nil {
		return nil, &StartError{Command: command, Err: err}
	}
	pid := cmd.Process.Pid // Setpgid with Pgid 0: the group id is the leader's pid
	p := &process{
		cmd:        cmd,
		command:    command,
		pgid:       pid,
		group:      newGroup(pid, token),
		supervised: len(l.supervisor) > 0,
		upstream:   l.upstream,
		token:      l.token,
		readyCheck: l.ready,
		afterReady: l.afterReady,
		logPath:    logPath,
		logOffset:  off,
		done:       make(chan struct{}),
	}
	go p.wait()
	return p, nil
}

// wait reaps the leader. After a successful start an exit is a crash: the
// rest of the group (Apache's workers) is killed, and onExit reports it.
func (p *process) wait() {
	err := p.cmd.Wait()
	p.mu.Lock()
	p.waitErr = err
	p.exited = true
	crashed := p.ready && !p.stopping
	onExit := p.onExit
	p.mu.Unlock()
	close(p.done)
	if !crashed {
		return
	}
	p.signal(syscall.SIGKILL)
	onExit(p.exitErr())
}

// exitErr is why the leader exited; call it only after done is closed.
func (p *process) exitErr() error {
	if p.waitErr == nil {
		return errExitedZero
	}
	return p.waitErr
}

// errExitedZero stands for a backend that exited with status 0 although
// nobody asked it to: for a server, that is a failure too.
var errExitedZero = errors.New("exit status 0")

// markReady records a successful start, unless the leader already exited.
// onExit is called with the crash when it exits on its own, or with nil
// once Stop has taken it down; it must tolerate being called twice.
func (p *process) markReady(onExit func(error)) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return false
	}
	p.ready = true
	p.onExit = onExit
	return true
}

func (p *process) exitFunc() func(error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.onExit
}

// running reports whether the leader is alive and nobody asked it to stop.
func (p *process) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.exited && !p.stopping
}

// signal sends sig to the whole group, unless the group is known to be gone
// (its id could then belong to someone else).
func (p *process) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.gone {
		_ = kill(-p.pgid, sig) // ESRCH: already gone, which is what we want
	}
}

// signalStop asks the backend to stop: SIGTERM to the group, or to the
// supervisor alone, which forwards it to the group and to what left it.
func (p *process) signalStop() {
	if !p.supervised {
		p.signal(syscall.SIGTERM)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.exited {
		_ = kill(p.pgid, syscall.SIGTERM)
	}
}

// waitReady probes the upstream until it answers, the leader exits, or ctx
// ends. The backoff starts at 5 ms (Apache is up in ~40 ms) and caps at 50 ms:
// a refused connection costs next to nothing, and uvicorn (~250 ms) should
// not wait a long step after it is up.
func (p *process) waitReady(ctx context.Context) error {
	// An exit also aborts a probe in flight: on a port someone else holds,
	// a probe can hang while Apache has already given up.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	check, closeIdle := readiness(p.upstream, p.token)
	defer closeIdle()
	what := "no HTTP answer on " + p.upstream.String()
	if p.readyCheck != nil {
		check, what = p.readyCheck, "not ready"
	}
	delay := 5 * time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last error
	for {
		select {
		case <-p.done:
			return p.exitErr()
		case <-ctx.Done():
			select {
			case <-p.done: // the exit canceled ctx
				return p.exitErr()
			default:
			}
			if last != nil {
				return fmt.Errorf("%s (last try: %v): %w", what, last, ctx.Err())
			}
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-timer.C:
		}
		if last = check(ctx); last == nil {
			return p.finishReady(ctx)
		}
		timer.Reset(delay)
		delay = min(delay*2, 50*time.Millisecond)
	}
}

// finishReady runs afterReady, if any. An exit during it is reported as
// the exit, not as the canceled step.
func (p *process) finishReady(ctx context.Context) error {
	if p.afterReady == nil {
		return nil
	}
	err := p.afterReady(ctx)
	select {
	case <-p.done:
		return p.exitErr()
	default:
		return err
	}
}

// terminate stops the whole group: SIGTERM, SIGKILL after grace, and it
// returns once the leader is reaped and no process of the group is left.
// A supervisor gets a margin to escalate first. When ctx ends first it
// sends SIGKILL and returns ctx's error; calling it again finishes the job.
func (p *process) terminate(ctx context.Context, grace time.Duration) error {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	p.signalStop()
	if p.supervised {
		grace += supervisorMargin
	}

	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	done := p.done
	for {
		select {
		case <-done:
			done = nil // the leader is reaped; from now on only the group matters
		case <-poll.C:
		case <-deadline.C:
			p.signal(syscall.SIGKILL)
		case <-ctx.Done():
			p.signal(syscall.SIGKILL)
			return fmt.Errorf("%s still running, killed: %w", commandName(p.command), ctx.Err())
		}
		if done == nil && !groupAlive(p.pgid) {
			p.mu.Lock()
			p.gone = true
			p.mu.Unlock()
			return nil
		}
	}
}

// startError wraps why a start failed with this run's log tail. Call it
// after terminate, so that the log holds the backend's last words.
func (p *process) startError(err error) *StartError {
	return &StartError{Command: p.command, Tail: logTail(p.logPath, p.logOffset, tailLines), Err: err}
}
