package gui

import (
	"os"
	"runtime/debug"
	"time"
)

// releaseDelay is how long after a window closes (or the pane lets a
// project go) the memory it held is handed back: closing several in a row
// hands back once.
const releaseDelay = 2 * time.Second

// fyneCacheLife is how long Fyne keeps a widget's renderer and a text's
// texture after they were last drawn: a minute, or FYNE_CACHE, which Fyne
// reads the same way (fyne.io/fyne/v2/internal/cache).
func fyneCacheLife() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("FYNE_CACHE")); err == nil && d > 0 {
		return d
	}
	return time.Minute
}

// fyneCleanEvery is the least time between two runs of Fyne's cache
// cleaner, which drops expired renderers only after a redraw.
const fyneCleanEvery = 10 * time.Second

// releaser times the hand-backs of released. Tests shorten its delays.
type releaser struct {
	first *time.Timer // releaseDelay after the last close
	// settle fires once Fyne's caches have expired what the last closes
	// drew: it has the window redraw, so that Fyne frees them, and
	// sweep hands them back cleanAfter later.
	settle, sweep               *time.Timer
	delay, settleAt, cleanAfter time.Duration
}

func newReleaser() releaser {
	return releaser{delay: releaseDelay, settleAt: fyneCacheLife() + 2*time.Second, cleanAfter: fyneCleanEvery + time.Second}
}

// released hands back to the system what closed windows held. Go keeps
// the pages a window's widgets used as headroom for the next window, and
// the C heap keeps what the GL driver freed; a desktop app that sits in
// the tray for days should not hold either (docs/performance.md, "Window
// memory"). It runs off the UI thread, releaseDelay after the last of a
// burst of closes, and once more when Fyne has let go of what those
// windows and panes drew: Fyne keeps renderers and text textures for a
// minute after their last frame, and frees them only on a redraw.
func (u *UI) released() {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := &u.release
	if r.first != nil {
		r.first.Reset(r.delay)
		r.settle.Reset(r.settleAt)
		if r.sweep != nil {
			r.sweep.Stop()
		}
		return
	}
	r.first = time.AfterFunc(r.delay, u.handBack)
	r.settle = time.AfterFunc(r.settleAt, func() {
		// A redraw with something queued frees the expired textures and
		// lets Fyne's cleaner drop the expired renderers, within
		// fyneCleanEvery.
		u.do(func() { u.Status.Refresh() })
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.ctx.Err() != nil {
			return
		}
		if r.sweep == nil {
			r.sweep = time.AfterFunc(r.cleanAfter, u.handBack)
		} else {
			r.sweep.Reset(r.cleanAfter)
		}
	})
}

// handBack returns the Go heap's free pages and the C heap's free memory
// to the system, unless the UI has closed.
func (u *UI) handBack() {
	if u.ctx.Err() != nil {
		return
	}
	debug.FreeOSMemory()
	if u.opts.TrimCHeap != nil {
		u.opts.TrimCHeap()
	}
}

// stopReleases stops the pending hand-backs (Close).
func (u *UI) stopReleases() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, t := range []*time.Timer{u.release.first, u.release.settle, u.release.sweep} {
		if t != nil {
			t.Stop()
		}
	}
}
