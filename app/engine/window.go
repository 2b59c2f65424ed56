package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/devport/devport/app/wire"
)

// One window: the engine knows whether a window is open on it, the one
// that hosts it (desktop calls AttachWindow) or one attached through the
// control socket (an event stream opened with ?window=1), so that a
// second launch of the window asks that one to come to the front
// (RaiseWindow, POST /v1/window/raise) instead of opening another window
// and another tray icon.
//
// Two launches at once (a double click) would both find no engine and
// both start one: the window lock (LockWindow) lets one process at a time
// open a window on a data folder, and the other waits for it to answer.

// windows counts the windows open on a Manager.
type windows struct{ n atomic.Int64 }

// AttachWindow says a window is open on this engine until detach is
// called (more than once is fine).
func (m *Manager) AttachWindow() (detach func()) {
	m.windows.n.Add(1)
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			m.windows.n.Add(-1)
		}
	}
}

// RaiseWindow asks the open window to come to the front and start
// req.Start, as an EventRaise. It returns an error wrapping
// wire.ErrNoWindow when no window is open on this engine.
func (m *Manager) RaiseWindow(req wire.RaiseRequest) error {
	if m.windows.n.Load() == 0 {
		return fmt.Errorf("the engine runs without a window: %w", wire.ErrNoWindow)
	}
	m.emit(wire.Event{Kind: wire.EventRaise, Raise: &req})
	return nil
}

// ErrWindowOpen means another process holds the window lock of the data
// folder: a devport window is open on it, or starting.
var ErrWindowOpen = errors.New("another devport window is open or starting")

// LockWindow takes the window lock of the data folder (window.lock), so
// that one process at a time opens a window on it; unlock releases it, as
// the kernel does when the process dies. It returns an error wrapping
// ErrWindowOpen while another process holds it.
func LockWindow(p Paths) (unlock func(), err error) {
	if err := p.ensure(); err != nil {
		return nil, err
	}
	path := filepath.Join(p.Data, "window.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("window lock: %w", err)
	}
	if err := lockFile(f); err != nil { // sys_unix.go
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%s: %w", path, ErrWindowOpen)
		}
		return nil, fmt.Errorf("window lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
