package engine

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/store"
)

// While the engine serves, each parked folder has a watcher (started by
// Serve for the folders parked before, by Park for a new one, ended by
// Unpark and by the Serve's end). It watches the folder, and the
// subfolders that are no project yet (so the files that make one, copied
// in after the folder was created, or a devport.toml fixed, are seen), and
// scans the folder again a little after the last change. A folder that
// vanishes has its projects stopped (parkedGone), and the watcher looks
// for it every parkPoll until it is back.

// parkDebounce is how long a watcher waits after the last change in a
// parked folder before it scans it: a copy or a git clone is one scan.
const parkDebounce = 300 * time.Millisecond

// parkPoll is how often a watcher looks for a parked folder that vanished.
var parkPoll = time.Second

// watchParked starts the watcher of dir while the engine serves; it
// reports false when the engine does not serve.
func (m *Manager) watchParked(dir string) bool {
	pk := &m.park
	pk.stateMu.Lock()
	if pk.watches[dir] != nil {
		pk.stateMu.Unlock()
		return true
	}
	if pk.watches == nil {
		pk.watches = map[string]chan struct{}{}
	}
	stop := make(chan struct{})
	pk.watches[dir] = stop
	pk.stateMu.Unlock()
	ok := m.goBackground(func(ctx context.Context) {
		defer m.forgetWatch(dir, stop)
		m.watchParkedDir(ctx, dir, stop)
	})
	if !ok {
		m.forgetWatch(dir, stop)
	}
	return ok
}

// unwatchParked ends the watcher of dir, if any.
func (m *Manager) unwatchParked(dir string) {
	pk := &m.park
	pk.stateMu.Lock()
	defer pk.stateMu.Unlock()
	if stop := pk.watches[dir]; stop != nil {
		close(stop)
		delete(pk.watches, dir)
	}
}

// forgetWatch removes the watcher entry of dir if it is still stop's.
func (m *Manager) forgetWatch(dir string, stop chan struct{}) {
	pk := &m.park
	pk.stateMu.Lock()
	defer pk.stateMu.Unlock()
	if pk.watches[dir] == stop {
		delete(pk.watches, dir)
	}
}

// startParking watches every parked folder, and stops the parked projects
// nobody uses (park_idle.go), until the Serve ends.
func (m *Manager) startParking(ctx context.Context) {
	dirs, err := m.db.ParkedDirs(ctx)
	if err != nil {
		m.log.Error("parked folders", "err", err)
	}
	for _, d := range dirs {
		m.watchParked(d.Path)
	}
	m.goBackground(m.stopIdleParked)
}

// parkWatch is one watcher's state: what it said last, so a scan that
// finds the same skipped subfolder again says nothing new.
type parkWatch struct {
	m    *Manager
	dir  string
	said map[string]bool // the skipped lines of the last scan
	subs []string        // the subfolders watched
}

// watchParkedDir watches dir until stop is closed or ctx ends.
func (m *Manager) watchParkedDir(ctx context.Context, dir string, stop <-chan struct{}) {
	pw := &parkWatch{m: m, dir: dir}
	first := true
	for {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			m.log.Error("watch parked folder", "dir", dir, "err", err)
			return
		}
		if err := w.Add(dir); err != nil {
			w.Close()
			// Gone (or not a folder now): its projects stop, and the
			// watcher waits for it.
			pw.scan(ctx, nil, !first)
			first = false
			if !waitFor(ctx, stop, dir) {
				return
			}
			continue
		}
		// Whatever changed while nobody watched (the engine was down, or
		// the folder was away).
		pw.subs = nil
		pw.scan(ctx, w, !first)
		first = false
		vanished := pw.follow(ctx, stop, w)
		w.Close()
		if !vanished {
			return
		}
		if !waitFor(ctx, stop, dir) {
			return
		}
	}
}

// follow turns the watcher's events into scans, a little after the last
// one. It returns true when the folder vanished, false when told to stop.
func (pw *parkWatch) follow(ctx context.Context, stop <-chan struct{}, w *fsnotify.Watcher) (vanished bool) {
	timer := time.NewTimer(parkDebounce)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-stop:
			return false
		case err, ok := <-w.Errors:
			if !ok {
				return false
			}
			// An overflow loses events: look at everything again.
			pw.m.log.Warn("watch parked folder", "dir", pw.dir, "err", err)
			timer.Reset(parkDebounce)
		case ev, ok := <-w.Events:
			if !ok {
				return false
			}
			if ev.Op == fsnotify.Chmod || !pw.concerns(ev.Name) {
				continue
			}
			if ev.Name == pw.dir && !isDir(pw.dir) {
				pw.scan(ctx, nil, true)
				return true
			}
			timer.Reset(parkDebounce)
		case <-timer.C:
			if !isDir(pw.dir) {
				pw.scan(ctx, nil, true)
				return true
			}
			pw.scan(ctx, w, true)
		}
	}
}

// concerns reports whether a change at path can change the folder's
// projects: the folder itself, a subfolder, or what is directly in one,
// but nothing hidden at the top (.git, .DS_Store).
func (pw *parkWatch) concerns(path string) bool {
	if path == pw.dir {
		return true
	}
	rel, err := filepath.Rel(pw.dir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return false
	}
	top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
	return !strings.HasPrefix(top, ".")
}

// scan scans the folder (unless it was unparked meanwhile), logs what
// changed, tells the window about subfolders newly skipped when announce
// is set (a change the user just made; not the scan at the engine's
// start), and, with w, watches the subfolders that are no project yet.
func (pw *parkWatch) scan(ctx context.Context, w *fsnotify.Watcher, announce bool) {
	m := pw.m
	m.park.mu.Lock()
	dirs, err := m.db.ParkedDirs(ctx)
	if err != nil || !slices.ContainsFunc(dirs, func(d store.ParkedDir) bool { return d.Path == pw.dir }) {
		m.park.mu.Unlock()
		return // unparked: Unpark removed its projects
	}
	lines, waiting := m.scanParked(ctx, pw.dir)
	m.park.mu.Unlock()
	said := map[string]bool{}
	for _, l := range lines {
		if strings.HasPrefix(l, "skipped ") {
			said[l] = true
			if pw.said[l] {
				continue // said before
			}
			if announce {
				m.emit(wire.Event{Kind: wire.EventWarning, Detail: "parked folder " + pw.dir + ": " + l})
			}
		}
		m.log.Info("parked folder", "dir", pw.dir, "change", l)
	}
	pw.said = said
	if w == nil {
		return
	}
	for _, sub := range pw.subs {
		if !slices.Contains(waiting, sub) {
			_ = w.Remove(sub) // a project now; gone, and unwatched by the kernel already
		}
	}
	for _, sub := range waiting {
		if !slices.Contains(pw.subs, sub) {
			if err := w.Add(sub); err != nil {
				m.log.Debug("watch subfolder of parked folder", "dir", sub, "err", err)
			}
		}
	}
	pw.subs = waiting
}

// waitFor looks for dir every parkPoll until it is a folder again (true),
// or stop is closed or ctx ends (false).
func waitFor(ctx context.Context, stop <-chan struct{}, dir string) bool {
	t := time.NewTicker(parkPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-stop:
			return false
		case <-t.C:
			if isDir(dir) {
				return true
			}
		}
	}
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
