package gui

import (
	"time"

	"github.com/devport/devport/app/wire"
)

// troubleQuiet is how long a project runs without crashing before its
// next crash counts as a new failure. The engine gives up after 5 crashes
// in a minute (app/engine, crashLimit and crashWindow), so a crash loop
// stays within it.
const troubleQuiet = 2 * time.Minute

// trouble is the failure of a project that follow has notified.
type trouble struct {
	last   time.Time // the latest crashed or failed event of it
	failed bool      // the engine gave up, or the start failed
}

// notifyState says whether a project's state event starts a new failure,
// which deserves a desktop notification. A crash loop (crashes, restarts,
// and perhaps the engine giving up) is one failure, and notifies once;
// the failure ends when the project stops, when it starts again after it
// failed (Try again), or when it runs troubleQuiet without a crash. It
// runs on follow's goroutine only.
func (u *UI) notifyState(project string, s wire.State, now time.Time) bool {
	t, known := u.troubles[project]
	switch s {
	case wire.StateCrashed, wire.StateFailed:
		if u.troubles == nil {
			u.troubles = map[string]trouble{}
		}
		u.troubles[project] = trouble{last: now, failed: s == wire.StateFailed}
		return !known || now.Sub(t.last) > u.troubleQuiet
	case wire.StateStopped:
		delete(u.troubles, project)
	case wire.StateStarting:
		if known && t.failed { // the engine never restarts a failed project: the user did
			delete(u.troubles, project)
		}
	}
	return false
}
