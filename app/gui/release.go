package gui

import (
	"runtime/debug"
	"time"
)

// releaseDelay is how long after a window closes (or the pane lets a
// project go) the memory it held is handed back: closing several in a row
// hands back once.
const releaseDelay = 2 * time.Second

// released hands back to the system what closed windows held. Go keeps
// the pages a window's widgets used as headroom for the next window, and
// the C heap keeps what the GL driver freed; a desktop app that sits in
// the tray for days should not hold either (docs/performance.md, "Window
// memory"). It runs off the UI thread, after releaseDelay, once for a
// burst of closes.
func (u *UI) released() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.releaseTimer != nil {
		u.releaseTimer.Reset(releaseDelay)
		return
	}
	u.releaseTimer = time.AfterFunc(releaseDelay, func() {
		if u.ctx.Err() != nil {
			return
		}
		debug.FreeOSMemory()
		if u.opts.TrimCHeap != nil {
			u.opts.TrimCHeap()
		}
	})
}
