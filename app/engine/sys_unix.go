//go:build unix

package engine

import (
	"errors"
	"os"
	"syscall"
)

// umask sets the process umask and returns the old one. The control
// socket is created under a strict umask so it is never, even briefly,
// reachable by other users.
func umask(mask int) int { return syscall.Umask(mask) }

// lockFile takes an exclusive flock on f without waiting; errLocked when
// another process holds it. The kernel releases it even when the holder
// is killed.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}

// ownerOf is the uid that owns fi, -1 when the system does not say.
func ownerOf(fi os.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// folderOwner is the uid and gid that own path; ok is false when the
// system does not say.
func folderOwner(path string) (uid, gid int, ok bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, false
	}
	if st, is := fi.Sys().(*syscall.Stat_t); is {
		return int(st.Uid), int(st.Gid), true
	}
	return 0, 0, false
}
