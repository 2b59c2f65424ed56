//go:build !linux

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

// groupAlive reports whether any process is still in group pgid.
func groupAlive(pgid int) bool {
	return !errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
}
