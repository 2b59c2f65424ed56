package stacks

import (
	"context"
	"os/exec"
	"syscall"
	"time"
)

// SupervisedCommand returns a command that runs name with arg (e.g. the
// engine's before_start hook, "/bin/sh", "-c", HOOK) the way the process
// runtime runs a backend: under supervisor (the argv prefix of
// Spec.Supervisor; empty runs it directly) as the leader of a process group
// of its own, so that nothing it starts outlives it. When the command ends,
// what it left running is killed; when the engine dies, even by SIGKILL,
// the supervisor takes the whole tree down (grace after SIGTERM, then
// SIGKILL). When ctx ends, the command gets SIGTERM (through the
// supervisor, which forwards it to everything the command started) and the
// group SIGKILL after grace (plus a margin for the supervisor); Wait
// returns at the latest a second after that. grace <= 0 means
// DefaultStopTimeout.
//
// The caller sets Dir, Env, Stdout and Stderr, and runs it with Run, or
// Start and Wait.
func SupervisedCommand(ctx context.Context, supervisor []string, grace time.Duration, name string, arg ...string) *exec.Cmd {
	if grace <= 0 {
		grace = DefaultStopTimeout
	}
	argv := append([]string{name}, arg...)
	attr := sysProcAttr()
	if len(supervisor) > 0 {
		argv = supervisorArgv(supervisor, grace, argv)
		attr = supervisorProcAttr()
		grace += supervisorMargin
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = attr
	cmd.Cancel = func() error {
		pgid := cmd.Process.Pid
		if len(supervisor) > 0 {
			_ = kill(pgid, syscall.SIGTERM) // the supervisor forwards it
		} else {
			_ = kill(-pgid, syscall.SIGTERM)
		}
		// The group gets SIGKILL after grace; this goroutine ends then, or
		// as soon as the group is gone.
		go func() {
			deadline := time.Now().Add(grace)
			for time.Now().Before(deadline) {
				if !groupAlive(pgid) {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			if groupAlive(pgid) { // while a member lives, no other group can have its id
				_ = kill(-pgid, syscall.SIGKILL)
			}
		}()
		return nil
	}
	cmd.WaitDelay = grace + time.Second
	return cmd
}
