//go:build unix

package engine

import (
	"os/exec"
	"syscall"
)

// ownGroup puts cmd in its own process group and makes cancelling it send
// SIGTERM to the whole group, so nothing a hook started outlives it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
}
