//go:build unix

package engine

import "syscall"

// umask sets the process umask and returns the old one. The control
// socket is created under a strict umask so it is never, even briefly,
// reachable by other users.
func umask(mask int) int { return syscall.Umask(mask) }
