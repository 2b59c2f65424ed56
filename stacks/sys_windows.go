package stacks

import (
	"errors"
	"os"
	"syscall"
)

// The process runtime needs Unix process groups and signals: on Windows
// it compiles, so that its platform files cannot rot unseen (make vet),
// but runs nothing; the container runtime is the way there.

// errNoProcessGroups is what the process runtime says on Windows.
var errNoProcessGroups = errors.New("the process runtime needs Linux or macOS: use --runtime container")

func processRuntime() error { return errNoProcessGroups }

func kill(int, syscall.Signal) error { return errNoProcessGroups }

func ownerIDs(os.FileInfo) (uid, gid uint32, ok bool) { return 0, 0, false }
