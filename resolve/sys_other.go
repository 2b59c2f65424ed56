//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package resolve

import (
	"context"
	"io/fs"
)

// lockDir has no cross-process lock on this OS; the atomic rename still
// keeps the file whole, but two concurrent writers may lose an update.
func lockDir(ctx context.Context, dir string) (func(), error) {
	return func() {}, ctx.Err()
}

func fileOwner(fs.FileInfo) (uid, gid int, ok bool) { return -1, -1, false }
