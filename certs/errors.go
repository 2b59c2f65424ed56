package certs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

var (
	// ErrNameNotAllowed is wrapped by Issue and GetCertificate when a name is
	// outside what the CA may sign: the managed TLDs, "localhost" and the
	// loopback addresses.
	ErrNameNotAllowed = errors.New("name not allowed by the devport CA")

	// ErrNotSupported is wrapped in a StoreResult when a trust store cannot be
	// managed on this operating system.
	ErrNotSupported = errors.New("trust store not supported on this system")

	// ErrRetired is wrapped when a root that Authority.Renew replaced is
	// asked to issue, renew or write a bundle: it can only be untrusted.
	ErrRetired = errors.New("the root was replaced by a new one")

	// ErrNotRetired is wrapped by Authority.Forget for the root in use.
	ErrNotRetired = errors.New("the root is in use, not retired")

	// ErrNeedsRoot is wrapped in a StoreResult when changing the system trust
	// store needs privileges this process does not have.
	ErrNeedsRoot = errors.New("changing the system trust store needs root")
)

// CAFileError reports a CA file that exists but cannot be used. Error() says
// which file is wrong and how to recover.
type CAFileError struct {
	Path string // the offending file
	Err  error  // what is wrong with it
}

func (e *CAFileError) Error() string {
	dir := filepath.Dir(e.Path)
	return fmt.Sprintf("certs: CA file %s: %v; delete %s and %s to create a new CA, then run \"devport trust\" again",
		e.Path, e.Err, filepath.Join(dir, certFile), filepath.Join(dir, keyFile))
}

func (e *CAFileError) Unwrap() error { return e.Err }

// MissingToolError reports a helper program that is not installed, with the
// command that installs it.
type MissingToolError struct {
	Tool string // e.g. "certutil"
	Hint string // e.g. "apt-get install libnss3-tools"
}

func (e *MissingToolError) Error() string {
	return fmt.Sprintf("%s not found: %s", e.Tool, e.Hint)
}

// CommandError keeps a failed helper command and the tail of its output,
// which is what a user needs to see.
type CommandError struct {
	Args   []string // command line
	Output string   // last lines of combined stdout and stderr
	Err    error
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s: %v", strings.Join(e.Args, " "), e.Err)
	if e.Output != "" {
		msg += "\n  " + strings.ReplaceAll(e.Output, "\n", "\n  ")
	}
	return msg
}

func (e *CommandError) Unwrap() error { return e.Err }

// tail returns the last n non-empty lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
