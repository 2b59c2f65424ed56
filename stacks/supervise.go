//go:build unix

package stacks

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

// supervisorPoll is how often a supervisor checks that its parent is alive
// (in case the parent-death signal never comes) and reaps orphans.
const supervisorPoll = 200 * time.Millisecond

// Supervise runs one command the way systemd's KillMode=control-group
// runs a unit: nothing the command starts outlives it, its supervisor or
// the engine that started the supervisor. args are
//
//	[-grace DURATION] [-parent PID] [--] PROGRAM [ARG...]
//
// where PID is the engine's (the process runtime passes it): a supervisor
// whose parent is another process by the time it looks is an orphan
// already, and starts nothing.
//
// It runs PROGRAM in its own process group (the supervisor's: the engine
// starts it as a group leader), with the supervisor as the subreaper of
// everything below it (on Linux), so that what a worker leaves behind is
// reparented to the supervisor, not to init. When the supervisor gets
// SIGTERM (a stop), or its parent dies (the kernel's parent-death signal,
// SIGUSR2, which the engine's SysProcAttr asks for; a parent that vanishes
// is also noticed by polling), it sends SIGTERM to the group and to every
// descendant that left it, and SIGKILL to all of them after the grace
// period (DefaultStopTimeout by default).
// When PROGRAM exits on its own (a crash, or a hook that finished), what is
// left of its tree is killed at once. The supervisor reaps every process it
// adopted and returns PROGRAM's exit status (re-raising the signal that
// killed it, for SIGKILL, SIGTERM, SIGINT and SIGHUP, so that the engine
// sees what it would have seen without a supervisor).
//
// The exit codes of its own are 2 for bad arguments and 127 when PROGRAM
// cannot be started.
func Supervise(args []string) int {
	fs := flag.NewFlagSet("devport "+SuperviseCommand, flag.ContinueOnError)
	usage := func() {
		fmt.Fprintf(os.Stderr, "usage: devport %s [-grace DURATION] [-parent PID] [--] PROGRAM [ARG...]\n", SuperviseCommand)
	}
	fs.Usage = usage
	grace := fs.Duration("grace", DefaultStopTimeout, "how long a stop waits after SIGTERM before SIGKILL")
	parent := fs.Int("parent", 0, "the engine's pid (default: the parent at start)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 || *grace < 0 || *parent < 0 {
		usage()
		return 2
	}
	ppid := os.Getppid()
	if *parent != 0 && ppid != *parent {
		fmt.Fprintf(os.Stderr, "devport: the engine (pid %d) is gone: not starting %s\n", *parent, fs.Arg(0))
		return 1
	}
	// Signals go to the group: it must be ours alone, never the engine's.
	if syscall.Getpgrp() != os.Getpid() {
		_ = syscall.Setpgid(0, 0)
	}
	s := &supervisor{grace: *grace, self: os.Getpid(), pgid: syscall.Getpgrp(), ppid: ppid}
	return s.run(fs.Args())
}

// supervisor is the state of Supervise.
type supervisor struct {
	grace time.Duration
	self  int // the supervisor's pid
	pgid  int // its process group, which the command shares
	ppid  int // the engine; another parent means the engine is gone
}

func (s *supervisor) run(argv []string) int {
	_ = setSubreaper() // without it (not Linux), orphans go to init: the group signals still reach them
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGCHLD, parentDeathSignal)
	if os.Getppid() != s.ppid { // it died before the parent-death signal had a handler
		fmt.Fprintf(os.Stderr, "devport: the engine is gone: not starting %s\n", argv[0])
		return 1
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr // *os.File: inherited, nothing copies
	cmd.SysProcAttr = supervisedChildAttr()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "devport: %v\n", err)
		return 127
	}
	child := cmd.Process.Pid // reaped below with wait4(-1), never cmd.Wait

	var (
		status    syscall.WaitStatus
		childDone bool
		stopping  bool             // SIGTERM went out
		killing   bool             // SIGKILL goes out until nothing is left
		killAt    <-chan time.Time // the end of the grace period
	)
	stop := func(why string) {
		if stopping {
			return
		}
		stopping = true
		if why != "" {
			fmt.Fprintf(os.Stderr, "devport: %s: stopping %s\n", why, argv[0])
		}
		s.signal(syscall.SIGTERM)
		t := time.NewTimer(s.grace)
		killAt = t.C
	}
	poll := time.NewTicker(supervisorPoll)
	defer poll.Stop()
	for {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
			if pid == child {
				status, childDone = ws, true
			}
		}
		if childDone && !stopping {
			killing = true // it ended on its own: nothing of its tree outlives it
		}
		if killing {
			s.signal(syscall.SIGKILL)
		}
		if childDone && !s.anyLeft() {
			signal.Stop(sigs)
			return exitStatus(status)
		}
		select {
		case sig := <-sigs:
			switch {
			case sig == syscall.SIGCHLD:
			case sig != parentDeathSignal:
				stop("")
			case os.Getppid() != s.ppid:
				stop("the engine is gone")
			}
		case <-poll.C:
			if os.Getppid() != s.ppid {
				stop("the engine is gone")
			}
		case <-killAt:
			killAt = nil
			if !s.anyLeft() && childDone {
				continue
			}
			fmt.Fprintf(os.Stderr, "devport: %s still running %s after SIGTERM: killing it\n", argv[0], s.grace)
			killing = true
		}
	}
}

// signal sends sig to the supervised group and to every descendant that
// left it, but never to the supervisor itself: SIGTERM goes to the whole
// group at once (the supervisor ignores its own), SIGKILL to each other
// process. Without /proc (not Linux), SIGKILL goes to the group, the
// supervisor's last act.
func (s *supervisor) signal(sig syscall.Signal) {
	others := treeAndGroup(s.self, s.pgid)
	if sig == syscall.SIGTERM {
		_ = syscall.Kill(-s.pgid, sig)
		for _, p := range others {
			if p.pgid != s.pgid {
				_ = syscall.Kill(p.pid, sig)
			}
		}
		return
	}
	if _, ok := listProcs(); !ok {
		_ = syscall.Kill(-s.pgid, sig)
		return
	}
	for _, p := range others {
		if p.live() {
			_ = syscall.Kill(p.pid, sig)
		}
	}
}

// anyLeft reports whether a process of the group or below the supervisor
// still runs (zombies are reaped or about to be).
func (s *supervisor) anyLeft() bool {
	if _, ok := listProcs(); !ok {
		return false // without /proc only the command itself is known; it is reaped
	}
	return slices.ContainsFunc(treeAndGroup(s.self, s.pgid), procInfo.live)
}

// exitStatus turns the command's wait status into the supervisor's exit:
// the same code, or the same signal for the ones the Go runtime lets a
// program die of (others become 128+N, as a shell reports them).
func exitStatus(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		sig := ws.Signal()
		if sig == syscall.SIGKILL || sig == syscall.SIGTERM || sig == syscall.SIGINT || sig == syscall.SIGHUP {
			signal.Reset(sig)
			_ = syscall.Kill(os.Getpid(), sig)
			time.Sleep(time.Second) // the signal ends the process
		}
		return 128 + int(sig)
	}
	return 1
}
