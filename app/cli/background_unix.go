//go:build unix

package cli

import "syscall"

// detached puts a background engine in a session of its own, so the
// terminal's hangup and Ctrl-C do not reach it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// processAlive reports whether pid exists (and is not a zombie we could
// not see past: signal 0 succeeds for those too, briefly).
func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }
