package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/manifest"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// Reload on save (issue 16): PHP reads a changed file on the next request,
// a Python server does not. While a project with a Python service runs, or
// has failed, a watcher (one per run, started where the run becomes
// running or its start fails, and ended when it is no longer the project's
// run or the engine stops) watches the
// project folder and its subfolders. A little after the last change to a
// file that concerns a Python service (its code, templates or config, and
// devport.toml's reload_include, less its reload_exclude), it restarts
// those services, and only those: the data services and the other web
// services keep running. Meanwhile the project is starting, so the proxy
// holds its requests until the new backends answer, as for a start, and
// no request sees a 502. Containers see the same files through their bind
// mount, and restart the same way.
//
// A reload that fails leaves the project failed with the error, which the
// proxy's page, devport ls and the window show; the next save tries again.
// It is the user's doing, like a start: it never counts toward the crash
// loop's give-up (lifecycle.go's crashLimit), and a good reload clears the
// crashes counted so far. A save in a project whose start failed (a
// syntax error at devport start), or that the crash loop gave up on,
// starts it again as devport start does, data services and hook too; one
// the user stopped has no run, so no watcher, and a save does nothing.
//
// In a Django project a change under its static sources (STATICFILES_DIRS
// and the apps' static/ folders, django.go) runs collectstatic again
// instead: the proxy serves STATIC_ROOT itself, so the service keeps
// running and the next request gets the new file. STATIC_ROOT itself is
// never watched: collectstatic's copies would trigger it again.

// reloadDebounce is how long the watcher waits after the last change
// before it reloads: an editor's save (a temporary file, a rename) or a
// git checkout is one reload.
const reloadDebounce = 300 * time.Millisecond

// reloadAlive is how often a watcher checks that its run is still the
// project's.
var reloadAlive = time.Second

// reloadSkipDirs are the folders never watched, wherever they are: version
// control, environments, caches and dependencies, which change without
// the app's code changing (a pip install, a bytecode write).
var reloadSkipDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true,
	".venv": true, "venv": true,
	"__pycache__": true, ".mypy_cache": true, ".pytest_cache": true, ".ruff_cache": true, ".tox": true,
	"node_modules": true,
}

// The files that reload a Python service by default: its code, its
// config, and templates under a folder named templates.
var (
	reloadCode      = []string{"*.py"}
	reloadConfig    = []string{"*.toml", "*.cfg", "*.ini", "*.env", ".env", "*.yaml", "*.yml"}
	reloadTemplates = []string{"*.html", "*.jinja", "*.jinja2", "*.j2", "*.txt"}
)

// reloadRule says which changed files reload one service.
type reloadRule struct {
	service          string
	include, exclude []string
}

// reloadRules are the rules of p's services that reload on save: the
// Python ones, unless devport.toml says reload = false, or the service
// runs under the debugger (a restart would end the IDE's session in the
// middle of a step; devport restart applies edits then).
func reloadRules(p store.Project) []reloadRule {
	var out []reloadRule
	for _, s := range p.Services {
		if stackdef.IsPython(s.Stack) && !s.NoReload && !s.Debug {
			out = append(out, reloadRule{service: s.Name, include: s.ReloadInclude, exclude: s.ReloadExclude})
		}
	}
	return out
}

// wants reports whether a change to the file at rel (slash-separated,
// relative to the project folder) reloads the rule's service.
func (rl reloadRule) wants(rel string) bool {
	if matchesAny(rl.exclude, rel) {
		return false
	}
	return reloadDefault(rel) || matchesAny(rl.include, rel)
}

// skipsDir reports whether the rule can want nothing under the folder rel.
func (rl reloadRule) skipsDir(rel string) bool { return matchesAny(rl.exclude, rel) }

// reloadDefault reports whether the file at rel reloads a Python service
// by default. devport.toml is devport's, read at add, not the app's.
func reloadDefault(rel string) bool {
	base := path.Base(rel)
	switch {
	case base == manifest.FileName:
		return false
	case nameMatches(reloadCode, base) || nameMatches(reloadConfig, base):
		return true
	}
	return nameMatches(reloadTemplates, base) && slices.Contains(strings.Split(path.Dir(rel), "/"), "templates")
}

func nameMatches(patterns []string, name string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { ok, _ := path.Match(p, name); return ok })
}

func matchesAny(patterns []string, rel string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matchPattern(p, rel) })
}

// matchPattern matches a reload_include or reload_exclude pattern against
// the path rel. A pattern without "/" matches any one name along rel
// ("*.graphql", "generated"); one with "/" matches from the project
// folder ("generated/*", "src/schema.sql"). Either way a folder matched
// covers what is in it.
func matchPattern(pattern, rel string) bool {
	parts := strings.Split(rel, "/")
	if !strings.Contains(pattern, "/") {
		return slices.ContainsFunc(parts, func(name string) bool { ok, _ := path.Match(pattern, name); return ok })
	}
	pattern = strings.TrimSuffix(pattern, "/")
	for i := 1; i <= len(parts); i++ {
		if ok, _ := path.Match(pattern, strings.Join(parts[:i], "/")); ok {
			return true
		}
	}
	return false
}

// followReload starts the reload watcher of run r of project p, when a
// service of p reloads on save: as r becomes running, or when its start
// failed. It ends when r is no longer the project's run or the engine
// stops.
func (m *Manager) followReload(p store.Project, r *run) {
	rules := reloadRules(p)
	if len(rules) == 0 || p.Root == "" {
		return
	}
	rw := &reloadWatch{m: m, project: p.Name, root: filepath.Clean(p.Root), rules: rules, r: r,
		runners: map[string]stacks.Runner{}, was: map[string]stacks.Upstream{}}
	for _, d := range []string{m.paths.Data, m.paths.Logs, m.paths.Run} {
		if d = filepath.Clean(d); d != rw.root && within(rw.root, d) {
			rw.own = append(rw.own, d) // a data dir inside the project
		}
	}
	m.goBackground(rw.watch)
}

// reloadWatch is the watcher of one run.
type reloadWatch struct {
	m       *Manager
	project string
	root    string
	rules   []reloadRule
	r       *run
	own     []string // devport's own folders (data, logs, run) in the project, never watched
	w       *fsnotify.Watcher
	// failed is the reason the last reload left on the run, "" when it
	// did not fail: a failed run with this reason is the watcher's to
	// try again.
	failed string
	// full is set once a watch could not be added (the inotify limit):
	// said once.
	full bool
	// runners are the runners of the services reloaded so far, kept when
	// a reload fails to start one: the next reload starts it again. A
	// runner started again skips what a new one does first (the check of
	// the stack's programs, the probe for the interpreter).
	runners map[string]stacks.Runner
	// was is the address each service had before the last reload, for
	// the php services that forward to it.
	was map[string]stacks.Upstream
	// statics are the Django project's static sources, relative to the
	// project folder and slash-separated: a change under one runs
	// collectstatic. staticRoot is STATIC_ROOT, never watched. Both are
	// read when the watcher starts and again after each reload (the
	// settings may have changed).
	statics    []string
	staticRoot string
}

// reloadOutcome is what the watcher does after a reload.
type reloadOutcome int

const (
	reloadKeep  reloadOutcome = iota // watch on
	reloadEnd                        // the run is no longer the project's: end
	reloadStart                      // the run failed for another reason: start the project again, then end
)

// watch follows the project folder until the run ends or ctx does.
func (rw *reloadWatch) watch(ctx context.Context) {
	m := rw.m
	w, err := fsnotify.NewWatcher()
	if err != nil {
		m.log.Warn("reload on save: no watcher", "project", rw.project, "err", err)
		return
	}
	defer w.Close()
	rw.w = w
	rw.readStatic(ctx)
	rw.addTree(rw.root, nil)
	pending := map[string]bool{}    // the services to reload
	collect := false                // whether to run collectstatic
	var changed []string            // the files that changed, for the log
	note := func(rel string) bool { // whether rel reloads a service, or is collected
		if rw.inStatic(rel) { // Django serves it from STATIC_ROOT: collect, no restart
			collect = true
			if !slices.Contains(changed, rel) {
				changed = append(changed, rel)
			}
			return true
		}
		hit := false
		for _, rl := range rw.rules {
			if rl.wants(rel) {
				pending[rl.service], hit = true, true
			}
		}
		if hit && !slices.Contains(changed, rel) {
			changed = append(changed, rel)
		}
		return hit
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	alive := time.NewTicker(reloadAlive)
	defer alive.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if rw.event(ev, note) {
				debounce.Reset(reloadDebounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			m.log.Warn("reload on save: watcher", "project", rw.project, "err", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) { // changes were lost: reload them all
				for _, rl := range rw.rules {
					pending[rl.service] = true
				}
				collect = len(rw.statics) > 0
				debounce.Reset(reloadDebounce)
			}
		case <-alive.C:
			if !rw.current() {
				return
			}
		case <-debounce.C:
			if len(pending) == 0 && !collect {
				continue
			}
			services := slices.Sorted(maps.Keys(pending))
			files, collectNow := changed, collect
			pending, changed, collect = map[string]bool{}, nil, false
			if len(services) > 0 {
				switch rw.reload(ctx, services, files) {
				case reloadEnd:
					return
				case reloadStart:
					rw.startAgain(ctx, files) // it collects too
					return
				}
				rw.readStatic(ctx)
			}
			if collectNow && !rw.collect(ctx, files) {
				return
			}
		}
	}
}

// event notes what a change means and reports whether it concerns a
// service (then the debounce starts over). A new folder is watched, and
// the files already in it count as changed.
func (rw *reloadWatch) event(ev fsnotify.Event, note func(rel string) bool) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	rel, ok := rw.rel(ev.Name)
	if !ok || rw.skipped(ev.Name, rel) {
		return false
	}
	if !ev.Has(fsnotify.Create) || !isDir(ev.Name) {
		return note(rel)
	}
	seen := false
	rw.addTree(ev.Name, func(rel string) {
		if note(rel) {
			seen = true
		}
	})
	return seen
}

// rel is path relative to the project folder, slash-separated.
func (rw *reloadWatch) rel(p string) (string, bool) {
	r, err := filepath.Rel(rw.root, p)
	if err != nil || r == "." || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// skipped reports whether the path p (rel in the project) is in a folder
// never watched: one of reloadSkipDirs, devport's own folders, or one
// every service's reload_exclude leaves out.
func (rw *reloadWatch) skipped(p, rel string) bool {
	if slices.ContainsFunc(strings.Split(rel, "/"), func(name string) bool { return reloadSkipDirs[name] }) {
		return true
	}
	if slices.ContainsFunc(rw.own, func(d string) bool { return within(d, p) }) || rw.staticRoot != "" && within(rw.staticRoot, p) {
		return true
	}
	return !slices.ContainsFunc(rw.rules, func(rl reloadRule) bool { return !rl.skipsDir(rel) })
}

// addTree watches dir and every folder below it that is not skipped, and
// calls found (when not nil) with each file in them. A folder is watched
// before it is read, so a file written meanwhile is either listed or seen.
func (rw *reloadWatch) addTree(dir string, found func(rel string)) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // gone meanwhile, or unreadable: nothing to watch there
		}
		rel, ok := rw.rel(p)
		if !d.IsDir() {
			if ok && found != nil && !rw.skipped(p, rel) {
				found(rel)
			}
			return nil
		}
		if p != rw.root && (!ok || rw.skipped(p, rel)) {
			return filepath.SkipDir
		}
		if err := rw.w.Add(p); err != nil {
			if errors.Is(err, syscall.ENOSPC) && !rw.full {
				rw.full = true
				rw.m.log.Warn("reload on save: too many folders to watch; raise fs.inotify.max_user_watches (sysctl), or reload_exclude the folders that do not matter",
					"project", rw.project, "folder", p)
				rw.m.emit(wire.Event{Kind: wire.EventWarning, Project: rw.project,
					Detail: "reload on save misses changes in " + p + ": too many folders to watch (raise fs.inotify.max_user_watches)"})
			}
			return filepath.SkipDir
		}
		return nil
	})
}

// current reports whether the watcher's run is still the project's.
func (rw *reloadWatch) current() bool {
	rw.m.mu.Lock()
	defer rw.m.mu.Unlock()
	return rw.m.runs[rw.project] == rw.r
}

// reload restarts services of the run (and those a failed reload left
// down) because files changed. It reports reloadEnd when the run is no
// longer the project's, and the watcher ends, and reloadStart when the
// run failed other than by a reload: a start failed, or the crash loop
// gave up.
func (rw *reloadWatch) reload(ctx context.Context, services, files []string) reloadOutcome {
	m, name, r := rw.m, rw.project, rw.r
	// A stop, rm or quit of the project cancels ctx, as for a start.
	ctx, done := m.startCtx(ctx, name)
	defer done()
	l := m.lock(name)
	l.Lock()
	defer l.Unlock()
	if ctx.Err() != nil {
		return reloadEnd
	}
	want := map[string]bool{}
	for _, s := range services {
		want[s] = true
	}
	m.mu.Lock()
	switch {
	case m.runs[name] != r:
		m.mu.Unlock()
		return reloadEnd
	case r.state == wire.StateRunning:
	case r.state == wire.StateFailed && rw.failed != "" && r.reason == rw.failed:
		// The last reload failed: try again.
	case r.state == wire.StateFailed:
		// Its start failed, or the crash loop gave up: the save starts
		// it again, as devport start does (startAgain, once the lock is
		// let go).
		m.mu.Unlock()
		return reloadStart
	default:
		// Crashed (the restart on its way starts the new code), or
		// starting or stopping by someone else's hand: not the watcher's.
		m.mu.Unlock()
		return reloadKeep
	}
	// Requests wait for the new backends, as for a start.
	gate := newGate()
	r.state, r.reason, r.ready = wire.StateStarting, "", gate
	m.mu.Unlock()
	m.publish()
	m.stateEvent(name, wire.StateStarting, "")
	t0 := time.Now()

	restarted, err := rw.restart(ctx, want)
	interrupted := err != nil && ctx.Err() != nil
	m.mu.Lock()
	mine := m.runs[name] == r && r.state == wire.StateStarting
	switch {
	case !mine:
		// Someone else moved the run on (a crash of another service):
		// theirs to finish.
	case interrupted:
		// A stop (or the engine's end) cancelled it: it waits for the
		// lock and takes over from here, the page and the gate too.
	case err != nil:
		r.state = wire.StateFailed
		r.reason = "the reload after a change to " + listFiles(files) + " failed (the next save tries again): " + err.Error()
		rw.failed = r.reason
	default:
		r.state, r.reason, rw.failed = wire.StateRunning, "", ""
		delete(m.crashes, name) // a reload is the user's start: count from zero
	}
	state, reason := r.state, r.reason
	exited := rw.exitedMeanwhile(restarted)
	m.mu.Unlock()
	if mine {
		switch state {
		case wire.StateFailed:
			m.log.Warn("reload failed", "project", name, "files", files, "err", err)
			m.event(ctx, store.Event{Project: name, Kind: "failed", Detail: reason})
		case wire.StateRunning:
			m.log.Info("reloaded", "project", name, "services", slices.Sorted(maps.Keys(restarted)),
				"files", files, "took", time.Since(t0).Round(time.Millisecond))
		}
	}
	if interrupted {
		return reloadEnd
	}
	m.publish()
	gate.open() // the requests held meanwhile route again, by the new table
	if mine {
		m.stateEvent(name, state, reason)
	}
	if mine && state == wire.StateRunning && exited != "" {
		// Another service exited while the project was reloading, when its
		// crash watch stands aside: a crash like the others.
		m.mu.Lock()
		sr := r.services[exited]
		sr.err = sr.runner.Err()
		why := sr.err
		m.mu.Unlock()
		m.log.Warn("backend crashed", "project", name, "service", exited, "err", why)
		m.event(context.WithoutCancel(ctx), store.Event{Project: name, Service: exited, Kind: "crashed", Detail: fmt.Sprint(why)})
		m.crashed(name, r, fmt.Sprintf("service %s exited: %v", exited, why), m.paths.ServiceLog(name, exited))
	}
	return reloadKeep
}

// startAgain starts the failed project again after a save, as devport
// start does: data services, before_start and collectstatic too. It
// starts nothing when the project is no longer failed (the user stopped
// or started it meanwhile). The new run has its own watcher, whether it
// runs or fails again.
func (rw *reloadWatch) startAgain(ctx context.Context, files []string) {
	m := rw.m
	m.log.Info("starting the failed project after a change", "project", rw.project, "files", files)
	if err := m.start(ctx, rw.project, saveStart); err != nil {
		m.log.Warn("start after a change failed", "project", rw.project, "files", files, "err", err)
	}
}

// collect runs collectstatic again after a change to the Django project's
// static sources, with no restart: the proxy serves STATIC_ROOT, so the
// next request gets the new file. It holds the project's lock, as a start
// does (which collects by itself), and a stop cancels it. It reports
// false when the run is no longer the project's, and the watcher ends.
func (rw *reloadWatch) collect(ctx context.Context, files []string) bool {
	m, name := rw.m, rw.project
	ctx, done := m.startCtx(ctx, name)
	defer done()
	l := m.lock(name)
	l.Lock()
	defer l.Unlock()
	if ctx.Err() != nil || !rw.current() {
		return false
	}
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return false
	}
	t0 := time.Now()
	if err := m.collectFiles(ctx, p); err != nil {
		if ctx.Err() != nil {
			return false
		}
		m.log.Warn("collectstatic after a change failed", "project", name, "files", files, "err", err)
		m.emit(wire.Event{Kind: wire.EventWarning, Project: name,
			Detail: "collectstatic after a change to " + listFiles(files) + " failed (the site serves the files collected before): " + firstLine(err.Error())})
		return true
	}
	m.log.Info("collected static files", "project", name, "files", files, "took", time.Since(t0).Round(time.Millisecond))
	return true
}

// readStatic reads the Django project's static sources and STATIC_ROOT
// (django.go's djangoStatic), for collect. Sources outside the project
// folder are not watched.
func (rw *reloadWatch) readStatic(ctx context.Context) {
	p, err := rw.m.db.Project(ctx, rw.project)
	if err != nil {
		return
	}
	root, sources := rw.m.djangoStatic(ctx, p)
	rw.staticRoot, rw.statics = root, nil
	realRoot, _ := filepath.EvalSymlinks(rw.root) // Django's BASE_DIR is resolved
	for _, s := range sources {
		for _, base := range []string{rw.root, realRoot} {
			if base != "" && within(base, s) && filepath.Clean(s) != filepath.Clean(base) {
				rw.statics = append(rw.statics, relTo(base, s))
				break
			}
		}
	}
	if root != "" && realRoot != "" && !within(rw.root, root) && within(realRoot, root) {
		rw.staticRoot = filepath.Join(rw.root, relTo(realRoot, root))
	}
}

// inStatic reports whether the file at rel is under a static source.
func (rw *reloadWatch) inStatic(rel string) bool {
	return slices.ContainsFunc(rw.statics, func(s string) bool { return rel == s || strings.HasPrefix(rel, s+"/") })
}

// restart stops and starts again each service in want, in the start's
// order, with the services a failed reload left down and the php
// services whose Apache forwards to a service whose address changed.
// Each restarted service is in the returned set.
func (rw *reloadWatch) restart(ctx context.Context, want map[string]bool) (map[string]bool, error) {
	m, name, r := rw.m, rw.project, rw.r
	restarted := map[string]bool{}
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return restarted, err
	}
	declared, err := m.db.Routes(ctx, name)
	if err != nil {
		return restarted, fmt.Errorf("reload %s: %w", name, err)
	}
	chains := chainLinks(p, declared)
	moved := map[string]bool{} // restarted at another address
	for _, s := range startOrder(p, chains) {
		if stackdef.RunsNothing(s.Stack) {
			continue
		}
		follows := slices.ContainsFunc(chains[s.Name], func(l chainLink) bool { return moved[l.target] })
		m.mu.Lock()
		old := r.services[s.Name]
		if !want[s.Name] && !follows && old != nil {
			m.mu.Unlock()
			continue // neither changed nor left down by a failed reload
		}
		// Out of the run first: the crash watch of the old backend sees
		// it replaced, not crashed (lifecycle.go's watch).
		delete(r.services, s.Name)
		m.mu.Unlock()
		runner := rw.runners[s.Name]
		if old != nil && len(chains[s.Name]) == 0 {
			if ok, err := rw.reloadInPlace(ctx, s.Name, old); ok || err != nil {
				if err != nil {
					return restarted, err
				}
				restarted[s.Name] = true
				continue
			}
		}
		if old != nil {
			rw.was[s.Name], runner = old.upstream, old.runner
			if err := old.runner.Stop(context.WithoutCancel(ctx)); err != nil {
				m.log.Warn("reload: stop the old backend", "project", name, "service", s.Name, "err", err)
			}
		}
		if runner != nil {
			rw.runners[s.Name] = runner // a failed start leaves it for the next save
		}
		sctx, cancel := context.WithTimeout(ctx, startTimeout)
		var sr *serviceRun
		if len(chains[s.Name]) == 0 && runner != nil {
			// The same spec: its runner starts again.
			sr, err = m.restartRunner(sctx, name, s.Name, runner)
		} else {
			// New links go into a new runner (Apache's config).
			var links []stacks.Link
			m.mu.Lock()
			links, err = stackLinks(chains[s.Name], r.services)
			m.mu.Unlock()
			if err == nil {
				sr, err = m.startService(sctx, p, s, links)
			} else {
				err = fmt.Errorf("start %s/%s: %w", name, s.Name, err)
			}
		}
		cancel()
		if err != nil {
			return restarted, err // it names the project and the service
		}
		rw.runners[s.Name] = sr.runner
		m.mu.Lock()
		r.services[s.Name] = sr
		m.mu.Unlock()
		restarted[s.Name] = true
		if was, ok := rw.was[s.Name]; !ok || sr.upstream != was {
			moved[s.Name] = true
		}
		rw.was[s.Name] = sr.upstream
		m.goBackground(func(ctx context.Context) { m.watch(ctx, name, s.Name, r, sr) })
	}
	return restarted, nil
}

// reloadInPlace restarts the server of service svc where its runner can
// do that without a new container (stacks.Reloader): the same run goes
// back into the project, at the same upstream, and the crash watch that
// follows it keeps doing so. ok is false, with no error, when it cannot be
// done in place: stop and start it instead. An error is a server that no
// longer starts; the runner is kept for the next save's start.
func (rw *reloadWatch) reloadInPlace(ctx context.Context, svc string, old *serviceRun) (ok bool, err error) {
	rl, can := old.runner.(stacks.Reloader)
	if !can {
		return false, nil
	}
	sctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	up, err := rl.Reload(sctx)
	switch {
	case errors.Is(err, stacks.ErrNoReload):
		rw.m.log.Info("reload: restart in place not possible, starting anew", "project", rw.project, "service", svc, "err", err)
		return false, nil
	case err != nil:
		rw.runners[svc] = old.runner
		rw.was[svc] = old.upstream
		return false, fmt.Errorf("start %s/%s: %w", rw.project, svc, err)
	}
	rw.m.mu.Lock()
	rw.r.services[svc] = old
	rw.m.mu.Unlock()
	rw.runners[svc], rw.was[svc] = old.runner, up
	return true, nil
}

// restartRunner starts a stopped runner of service svc again, as
// startService starts a new one.
func (m *Manager) restartRunner(ctx context.Context, project, svc string, runner stacks.Runner) (*serviceRun, error) {
	up, err := runner.Start(ctx)
	if err != nil {
		_ = runner.Stop(context.WithoutCancel(ctx)) // safe after a failed start
		return nil, err
	}
	m.recordGroup(ctx, project, svc, runner) // a new process group
	return &serviceRun{runner: runner, upstream: up}, nil
}

// exitedMeanwhile is a service of the run, other than the restarted
// ones, that exited on its own ("" when none). The caller holds m.mu.
func (rw *reloadWatch) exitedMeanwhile(restarted map[string]bool) string {
	for _, n := range slices.Sorted(maps.Keys(rw.r.services)) {
		if restarted[n] {
			continue
		}
		select {
		case <-rw.r.services[n].runner.Exited():
			return n
		default:
		}
	}
	return ""
}

// listFiles names the files of a reload for its error: the first three.
func listFiles(files []string) string {
	switch {
	case len(files) == 0:
		return "the project's files"
	case len(files) > 3:
		return strings.Join(files[:3], ", ") + fmt.Sprintf(" and %d more", len(files)-3)
	}
	return strings.Join(files, ", ")
}
