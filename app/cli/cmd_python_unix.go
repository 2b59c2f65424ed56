//go:build unix

package cli

import (
	"os"
	"syscall"
	"unsafe"
)

// isTerminal reports whether f is a terminal: only a terminal answers
// TIOCGWINSZ (/dev/null, also a character device, does not).
func isTerminal(f *os.File) bool {
	var ws [4]uint16 // struct winsize
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), uintptr(syscall.TIOCGWINSZ), uintptr(unsafe.Pointer(&ws)))
	return errno == 0
}
