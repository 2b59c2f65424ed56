package engine

import (
	"fmt"
	"sync/atomic"

	"github.com/devport/devport/app/wire"
)

// One window: the engine knows whether a window is open on it, the one
// that hosts it (desktop calls AttachWindow) or one attached through the
// control socket (an event stream opened with ?window=1), so that a
// second launch of the window asks that one to come to the front
// (RaiseWindow, POST /v1/window/raise) instead of opening another window
// and another tray icon.

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
