//go:build !unix

package engine

import (
	"errors"
	"os"
)

// The engine serves on Linux and macOS. Elsewhere it compiles, so that
// its platform files cannot rot unseen (make vet), and says why it cannot
// serve.

func umask(mask int) int { return 0 }

func lockFile(*os.File) error {
	return errors.New("the engine needs Linux or macOS: its lock, process groups and unix sockets are Unix's")
}

func ownerOf(os.FileInfo) int { return -1 }

func folderOwner(string) (uid, gid int, ok bool) { return 0, 0, false }
