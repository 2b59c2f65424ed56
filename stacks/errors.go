package stacks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

var (
	// ErrUnknownStack is wrapped by NewRunner and Check for a stack this
	// package cannot run.
	ErrUnknownStack = errors.New("unknown stack")
	// ErrNotDetected is wrapped by Detect when a folder matches no stack.
	ErrNotDetected = errors.New("no stack detected")
	// ErrNotReadable is wrapped when the account Apache's workers run as
	// cannot read the document root: the project folder's owner or nobody
	// when devport runs as root (WorkerUser), the owner or www-data in a
	// container.
	ErrNotReadable = errors.New("not readable by apache's user")
	// ErrSocketPath is wrapped when a unix socket path is too long for the
	// platform (sun_path is 104 bytes on macOS, 108 on Linux).
	ErrSocketPath = errors.New("unix socket path too long")
)

// StartError is a backend that did not come up: it exited during Start, or
// it never answered before the deadline. It keeps what the user needs to
// see: the command and the last lines it logged during this start.
type StartError struct {
	Command string   // the full command line, quoted for a shell
	Tail    []string // last lines of the service log written during this start
	Err     error    // exit status, exec failure, or the readiness timeout
}

// Error is the command's name, what happened and the log tail, one indented
// line each:
//
//	apache2 exited at start: exit status 1
//	  AH00072: make_sock: could not bind to address 127.0.0.1:8081
func (e *StartError) Error() string {
	var b strings.Builder
	b.WriteString(commandName(e.Command))
	var exit *exec.ExitError
	switch {
	case errors.As(e.Err, &exit), errors.Is(e.Err, errExitedZero), errors.As(e.Err, new(*containerExit)):
		b.WriteString(" exited at start: ")
	case errors.Is(e.Err, context.DeadlineExceeded), errors.Is(e.Err, context.Canceled):
		b.WriteString(" did not become ready: ")
	default:
		b.WriteString(" failed to start: ")
	}
	b.WriteString(fmt.Sprint(e.Err))
	for _, l := range e.Tail {
		b.WriteString("\n  ")
		b.WriteString(l)
	}
	return b.String()
}

func (e *StartError) Unwrap() error { return e.Err }

// commandName is the short name of a command line: the program's base name,
// or the module for "python -m module".
func commandName(cmd string) string {
	f := strings.Fields(cmd)
	switch {
	case len(f) == 0:
		return "backend"
	case len(f) >= 3 && f[0] == "docker" && f[1] == "run":
		return "container " + strings.Trim(f[2], `'`)
	case len(f) >= 3 && f[1] == "-m":
		return strings.Trim(f[2], `'`)
	default:
		return filepath.Base(strings.Trim(f[0], `'`))
	}
}

// MissingError is a prerequisite that is not installed, with the Debian
// package that provides it.
type MissingError struct {
	Binary  string // "apache2", "mod_php", "uvicorn"
	Package string // "apache2 libapache2-mod-php"
}

// Error reads `apache2 is not installed: sudo apt-get install apache2 libapache2-mod-php`.
func (e *MissingError) Error() string {
	return fmt.Sprintf("%s is not installed: sudo apt-get install %s", e.Binary, e.Package)
}

// hintError gives a wrapped error a message of its own, for when the wrapped
// error's text alone would point the user at the wrong fix.
type hintError struct {
	msg string
	err error
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }

// folderMissing is the error for a project folder that is not there.
func folderMissing(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		return fmt.Errorf("%q is not a folder", dir)
	}
	return &hintError{msg: fmt.Sprintf("folder %q does not exist", dir), err: os.ErrNotExist}
}
