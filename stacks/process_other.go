//go:build unix && !linux

package stacks

import (
	"errors"
	"syscall"
)

// sysProcAttr puts the backend in its own process group, so Stop can signal
// everything it spawns. (Pdeathsig exists only on Linux.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// supervisorProcAttr starts a supervisor as the leader of the backend's
// group; it notices its parent's death by polling.
func supervisorProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// supervisedChildAttr keeps a supervisor's command in its group.
func supervisedChildAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

// groupAlive reports whether any process is still in group pgid.
func groupAlive(pgid int) bool {
	return !errors.Is(kill(-pgid, 0), syscall.ESRCH)
}
