//go:build unix

package stacks

import (
	"os"
	"syscall"
)

// processRuntime says whether the process runtime can run here.
func processRuntime() error { return nil }

// kill sends sig to pid (a negative pid: to the process group -pid).
func kill(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

// ownerIDs are the uid and gid that own fi.
func ownerIDs(fi os.FileInfo) (uid, gid uint32, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return st.Uid, st.Gid, true
}
