package resolve

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotSupported is returned by [InstallSplit] and [RemoveSplit] on an OS
// where devport has no split-DNS wiring. The hosts-file method still works.
var ErrNotSupported = errors.New("split DNS is not supported on this OS; use the hosts file (devport dns hosts)")

// ErrResolvedNotRunning is returned on Linux when systemd-resolved is not the
// running resolver, so a resolved.conf.d drop-in would have no effect.
var ErrResolvedNotRunning = errors.New("systemd-resolved is not running, so a split-DNS drop-in has no effect; use the hosts file (devport dns hosts)")

// ErrBrokenBlock is returned when the hosts file holds a devport begin line
// without its end line (or the other way round), which only a hand edit can
// cause. devport does not guess which lines are its own.
var ErrBrokenBlock = errors.New("the devport block in the hosts file is broken (a begin line without an end line, or the reverse)")

// NeedsElevationError says that the process may not write a system file and
// that the user must run Command (pkexec or sudo, as data: the caller decides
// whether to run it, show it, or ask first).
type NeedsElevationError struct {
	// Path is the file that could not be written.
	Path string
	// Command is the command line that does the same with privileges,
	// for example ["pkexec", "/usr/bin/devport", "dns", "hosts", "--apply"].
	Command []string
	// Err is the underlying permission error.
	Err error
}

func (e *NeedsElevationError) Error() string {
	return fmt.Sprintf("%s is not writable by this user: run %s", e.Path, strings.Join(e.Command, " "))
}

func (e *NeedsElevationError) Unwrap() error { return e.Err }

// CmdError keeps a failed command and its output, as a user needs to see it.
type CmdError struct {
	Command []string
	Output  string
	Err     error
}

func (e *CmdError) Error() string {
	out := strings.TrimSpace(e.Output)
	if out == "" {
		return fmt.Sprintf("%s: %v", strings.Join(e.Command, " "), e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", strings.Join(e.Command, " "), e.Err, out)
}

func (e *CmdError) Unwrap() error { return e.Err }
