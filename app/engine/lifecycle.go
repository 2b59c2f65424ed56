package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// ErrNotRunning is returned when stopping a project that is not running.
var ErrNotRunning = errors.New("not running")

// ErrNoEngine means an operation needs the proxy, and this Manager is not serving.
var ErrNoEngine = errors.New("no devport engine is running")

// errInterrupted is the error of a start that a stop, rm or quit cut short.
var errInterrupted = errors.New("interrupted: the project was stopped while it started")

const (
	startTimeout = 30 * time.Second
	// StopAllTimeout bounds stopping every project when the engine quits.
	StopAllTimeout = 20 * time.Second
)

// Crash loops: a project whose backends exit on their own is started
// again after 1, 2, 4, 8… s. Crashes are counted over a window, not since
// the last good start, so an app that starts fine and dies a few seconds
// later is given up on too: crashLimit crashes within crashWindow make
// the project failed, and nothing restarts it until the user does.
const (
	restartBackoff = time.Second
	crashLimit     = 5
	crashWindow    = time.Minute
	// logTailLines are the lines of a service's log a failure shows.
	logTailLines = 8
)

// run is a project that is starting, running, stopping, crashed or
// failed. A new run replaces it on every start.
type run struct {
	state    wire.State
	reason   string // why it crashed or failed
	services map[string]*serviceRun
	// ready opens when the start of this run ended, in success or
	// failure, after the route table says which: the proxy holds the
	// requests of a starting (or crashed, restarting) project on it
	// (proxy.Route.Pending).
	ready *gate
	// hold, while set, holds the requests of a running project as ready
	// does for a starting one: its databases are being restored
	// (branch.go), and no request may see them half-loaded.
	hold *gate
}

func newRun(state wire.State) *run {
	return &run{state: state, services: map[string]*serviceRun{}, ready: newGate()}
}

// settle opens the run's gate: waiting requests route again.
func (r *run) settle() { r.ready.open() }

// gate is a channel closed once.
type gate struct {
	ch   chan struct{}
	once sync.Once
}

func newGate() *gate  { return &gate{ch: make(chan struct{})} }
func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

type serviceRun struct {
	runner   stacks.Runner
	upstream stacks.Upstream
	err      error     // set when it exited on its own
	data     bool      // a data service: started first, stopped last
	php      phpChoice // a php service: the version it runs
}

// startKind says who asked for a start.
type startKind int

const (
	userStart   startKind = iota // devport start, the window, serve --start: runs before_start
	userRestart                  // devport restart: the old run's requests wait for the new one
	autoRestart                  // the engine, after a crash: no hook, counts as the same start
	saveStart                    // a save in a failed project (reload.go): a user's start, only while the project is still failed
)

// Start starts every service of a project, waits until each answers, and
// then routes its domains to them. Requests that arrive meanwhile wait for
// the outcome. When one service fails, the ones already started are
// stopped again, the project is failed, and the error says why.
func (m *Manager) Start(ctx context.Context, name string) error {
	return m.start(ctx, name, userStart)
}

// Restart stops a project if it runs and starts it again; requests that
// arrive in between wait for the new backends.
func (m *Manager) Restart(ctx context.Context, name string) error {
	return m.start(ctx, name, userRestart)
}

func (m *Manager) start(ctx context.Context, name string, kind startKind) error {
	if m.srv.Load() == nil {
		return fmt.Errorf("start %s: %w; start one with: devport serve --headless --start %s", name, ErrNoEngine, name)
	}
	// A stop, rm or quit of this project cancels ctx, so that it wins at
	// once over a start stuck in its hook, an image pull or a probe.
	ctx, done := m.startCtx(ctx, name)
	defer done()
	l := m.lock(name)
	l.Lock()
	defer l.Unlock()
	if ctx.Err() != nil {
		return fmt.Errorf("start %s: %w", name, errInterrupted)
	}
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return err
	}

	m.mu.Lock()
	old := m.runs[name]
	if old != nil && old.state == wire.StateRunning && kind == userStart {
		m.mu.Unlock()
		return nil
	}
	if kind == saveStart && (old == nil || old.state != wire.StateFailed) {
		m.mu.Unlock()
		return nil // stopped, or started by someone else, since the save
	}
	r := newRun(wire.StateStarting)
	if old != nil && old.state == wire.StateStarting && old.services == nil {
		r = old // serve --start's placeholder: requests already wait on it
		r.services = map[string]*serviceRun{}
	}
	m.runs[name] = r
	if kind != autoRestart {
		delete(m.crashes, name) // the user asked: count from zero
	}
	m.mu.Unlock()
	// Requests wait for this start (Route.Pending), the old run's too; both
	// gates open after the last publish below says how it went.
	defer r.settle()
	if old != nil {
		defer old.settle()
	}
	m.publish()
	m.stateEvent(name, wire.StateStarting, "")
	if old != nil && old != r { // running (restart), crashed or failed: nothing of it may stay
		_ = m.stopServices(context.WithoutCancel(ctx), old)
	}

	err = m.startServices(ctx, p, r, kind)
	if err != nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("start %s: %w", name, errInterrupted)
	}
	if err != nil {
		if m.stopServices(context.WithoutCancel(ctx), r) == nil {
			m.forgetGroups(ctx, name)
		}
		m.mu.Lock()
		current := m.runs[name] == r
		if current {
			r.state, r.reason = wire.StateFailed, err.Error()
		}
		m.mu.Unlock()
		if current && !errors.Is(err, errInterrupted) {
			m.followReload(p, r) // reload.go: the next save starts it again
		}
		if current && kind != autoRestart && !errors.Is(err, errInterrupted) {
			m.recordRunning(ctx, name, false) // restore.go: a failed project is not restored
		}
		if kind == autoRestart && current && !errors.Is(err, errInterrupted) {
			return err // a crash like the others: restartAfter counts it
		}
		m.event(ctx, store.Event{Project: name, Kind: "failed", Detail: err.Error()})
		m.publish()
		m.stateEvent(name, wire.StateFailed, err.Error())
		return err
	}
	m.mu.Lock()
	r.state = wire.StateRunning
	m.mu.Unlock()
	for svc, sr := range r.services {
		m.goBackground(func(ctx context.Context) { m.watch(ctx, name, svc, r, sr) })
	}
	m.followBranch(p, r)             // branch.go: databases that follow the git branch
	m.followReload(p, r)             // reload.go: Python services restart when their files change
	m.recordRunning(ctx, name, true) // restore.go: the next engine starts it again
	m.event(ctx, store.Event{Project: name, Kind: "started"})
	m.publish()
	m.stateEvent(name, wire.StateRunning, "")
	return nil
}

// startServices starts the data services of p, runs the before_start
// hook (for the user's starts only; it may migrate the database), and
// starts every web service of p into r, links first.
func (m *Manager) startServices(ctx context.Context, p store.Project, r *run, kind startKind) error {
	if err := m.startDataServices(ctx, p, r); err != nil { // data.go
		return err
	}
	if kind != autoRestart {
		if err := m.runBeforeStart(ctx, p); err != nil { // hooks.go: devport.toml's hooks.before_start
			return fmt.Errorf("start %s: %w", p.Name, err)
		}
	}
	if err := m.collectStatic(ctx, p); err != nil { // django.go: STATIC_ROOT filled before the site starts
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	declared, err := m.db.Routes(ctx, p.Name)
	chains := chainLinks(p, declared) // chain.go: Apache → sibling services
	if err == nil && len(chains) > 0 {
		err = m.shareRunFolders()
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	for _, s := range startOrder(p, chains) {
		if stackdef.RunsNothing(s.Stack) {
			continue
		}
		m.mu.Lock()
		links, err := stackLinks(chains[s.Name], r.services)
		m.mu.Unlock()
		if err != nil {
			return fmt.Errorf("start %s/%s: %w", p.Name, s.Name, err)
		}
		sr, err := m.startService(ctx, p, s, links)
		if err != nil {
			return err // startService's errors name the project and the service
		}
		m.mu.Lock()
		r.services[s.Name] = sr
		m.mu.Unlock()
	}
	return nil
}

// startService starts one service. Its errors name the project and the
// service once: a runner's own ("start shop/web: apache2 exited at
// start: …"), or, before there is a runner, "start shop/web: …".
func (m *Manager) startService(ctx context.Context, p store.Project, s store.Service, links []stacks.Link) (*serviceRun, error) {
	runner, php, err := m.serviceRunner(ctx, p, s, links) // by runtime: containers.go
	if err != nil {
		return nil, fmt.Errorf("start %s/%s: %w", p.Name, s.Name, err)
	}
	up, err := runner.Start(ctx)
	if err != nil {
		// Stop is safe after a failed start and reaps whatever is left.
		_ = runner.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	m.recordGroup(ctx, p.Name, s.Name, runner) // orphans.go: what a killed engine leaves is found
	return &serviceRun{runner: runner, upstream: up, php: php}, nil
}

// watch waits for a service to exit on its own (or for the engine to
// stop) and then handles the crash.
func (m *Manager) watch(ctx context.Context, project, service string, r *run, sr *serviceRun) {
	select {
	case <-sr.runner.Exited():
	case <-ctx.Done():
		return
	}
	m.mu.Lock()
	if m.runs[project] != r || r.state != wire.StateRunning || r.services[service] != sr {
		m.mu.Unlock()
		return // stopped on purpose, replaced by a reload (reload.go), or another service's crash came first
	}
	sr.err = sr.runner.Err()
	m.mu.Unlock()
	m.log.Warn("backend crashed", "project", project, "service", service, "err", sr.err)
	m.event(context.Background(), store.Event{Project: project, Service: service, Kind: "crashed", Detail: fmt.Sprint(sr.err)})
	m.crashed(project, r, fmt.Sprintf("service %s exited: %v", service, sr.err), m.paths.ServiceLog(project, service))
}

// crashed counts a crash of run r (a backend that exited, or a restart
// that failed) and either schedules the next restart or, at crashLimit
// crashes within crashWindow, gives up: the project is failed, with the
// log's last lines, and every backend of it is stopped.
func (m *Manager) crashed(project string, r *run, why, logPath string) {
	now := time.Now()
	m.mu.Lock()
	if m.runs[project] != r {
		m.mu.Unlock()
		return
	}
	recent := m.crashes[project][:0]
	for _, t := range m.crashes[project] {
		if now.Sub(t) < crashWindow {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	m.crashes[project] = recent
	n := len(recent)
	if n >= crashLimit {
		r.state = wire.StateFailed
		r.reason = fmt.Sprintf("crashed %d times in %v, so devport stopped restarting it; the last time: %s", n, crashWindow, firstLine(why))
		tail := logTail(logPath, logTailLines)
		if logPath == "" { // a restart that failed: its error carries the log's tail
			_, tail, _ = strings.Cut(why, "\n")
		}
		if tail != "" {
			r.reason += "\n" + tail
		}
	} else {
		r.state = wire.StateCrashed
		r.reason = why
		r.ready = newGate() // requests wait for the restart
	}
	state, reason := r.state, r.reason
	m.mu.Unlock()
	if state == wire.StateFailed {
		m.log.Warn("gave up restarting", "project", project, "crashes", n)
		m.recordRunning(context.Background(), project, false)
		m.event(context.Background(), store.Event{Project: project, Kind: "failed", Detail: reason})
		if m.stopServices(context.Background(), r) == nil {
			m.forgetGroups(context.Background(), project)
		}
		m.publish()
		m.stateEvent(project, state, reason)
		return
	}
	m.publish() // requests wait for the restart (Route.Pending of the crashed run)
	m.stateEvent(project, state, reason)
	delay := restartBackoff << (n - 1)
	m.goBackground(func(ctx context.Context) { m.restartAfter(ctx, project, r, delay) })
}

// restartAfter starts a crashed project again after delay, unless the
// user stopped, restarted or removed it first, or the engine stops. A
// restart that fails counts as another crash.
func (m *Manager) restartAfter(ctx context.Context, project string, r *run, delay time.Duration) {
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return
	}
	m.mu.Lock()
	cur := m.runs[project]
	m.mu.Unlock()
	if cur != r {
		return // someone else took over
	}
	err := m.start(ctx, project, autoRestart)
	if err == nil {
		m.log.Info("backend restarted", "project", project)
		m.event(ctx, store.Event{Project: project, Kind: "restarted"})
		return
	}
	if ctx.Err() != nil || errors.Is(err, errInterrupted) {
		return
	}
	m.mu.Lock()
	nr := m.runs[project]
	m.mu.Unlock()
	if nr != nil && nr != r && nr.state == wire.StateFailed {
		m.crashed(project, nr, "the restart failed: "+err.Error(), "")
	}
}

// firstLine is an error's first line: start errors carry log tails.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// Stop stops every service of a project and routes its domains to the
// "stopped" page. A start in progress is cancelled first, hook and all.
// When Stop returns, no process of the project is left.
// The project is no longer one the next engine starts again (restore.go).
func (m *Manager) Stop(ctx context.Context, name string) error {
	return m.stop(ctx, name, true)
}

// stop is Stop; forget says whether the record of what runs forgets the
// project: not when the engine quits (StopAll), so that the next one
// starts it again.
func (m *Manager) stop(ctx context.Context, name string, forget bool) error {
	m.cancelStarts(name)
	l := m.lock(name)
	l.Lock()
	defer l.Unlock()
	return m.stopRun(ctx, name, forget)
}

// stopLocked is Stop for a caller that holds the project's lock.
func (m *Manager) stopLocked(ctx context.Context, name string) error {
	return m.stopRun(ctx, name, true)
}

func (m *Manager) stopRun(ctx context.Context, name string, forget bool) error {
	if forget {
		defer m.recordRunning(ctx, name, false)
	}
	m.mu.Lock()
	r := m.runs[name]
	if r == nil {
		m.mu.Unlock()
		if _, err := m.db.Project(ctx, name); err != nil {
			return err
		}
		return fmt.Errorf("%s: %w", name, ErrNotRunning)
	}
	r.state = wire.StateStopping
	delete(m.crashes, name)
	m.mu.Unlock()
	m.publish() // route to the stopped page before the backend goes away
	m.stateEvent(name, wire.StateStopping, "")
	err := m.stopServices(ctx, r)
	if err == nil {
		m.forgetGroups(ctx, name) // nothing of them runs any more
	}
	m.mu.Lock()
	if m.runs[name] == r {
		delete(m.runs, name)
	}
	m.mu.Unlock()
	r.settle()
	m.publish()
	m.event(ctx, store.Event{Project: name, Kind: "stopped"})
	m.stateEvent(name, wire.StateStopped, "")
	return err
}

// StopAll stops every project that runs. Background work (crash watches,
// restart timers) is ended first, so no restart runs after StopAll. The
// engine is quitting: the projects stay recorded as running, and the next
// engine starts them again (restore.go).
func (m *Manager) StopAll(ctx context.Context) error {
	m.stopBackground()
	m.mu.Lock()
	names := make([]string, 0, len(m.runs))
	for n := range m.runs {
		names = append(names, n)
	}
	m.mu.Unlock()
	var errs []error
	for _, n := range names {
		if err := m.stop(ctx, n, false); err != nil && !errors.Is(err, ErrNotRunning) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopServices stops every service of r: the web services first, then the
// data services they use.
func (m *Manager) stopServices(ctx context.Context, r *run) error {
	m.mu.Lock()
	srs := make([]*serviceRun, 0, len(r.services))
	for _, sr := range r.services {
		srs = append(srs, sr)
	}
	m.mu.Unlock()
	slices.SortStableFunc(srs, func(a, b *serviceRun) int {
		switch {
		case a.data == b.data:
			return 0
		case a.data:
			return 1
		}
		return -1
	})
	var errs []error
	for _, sr := range srs {
		if err := sr.runner.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// startCtx registers a start of project name that a Stop of it cancels;
// done unregisters it.
func (m *Manager) startCtx(ctx context.Context, name string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	m.mu.Lock()
	id := m.nextStart
	m.nextStart++
	if m.starts[name] == nil {
		m.starts[name] = map[int]context.CancelFunc{}
	}
	m.starts[name][id] = cancel
	m.mu.Unlock()
	return ctx, func() {
		m.mu.Lock()
		delete(m.starts[name], id)
		m.mu.Unlock()
		cancel()
	}
}

// cancelStarts cancels every start of project name in progress.
func (m *Manager) cancelStarts(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, cancel := range m.starts[name] {
		cancel()
	}
}

// goBackground runs fn in a goroutine that the Manager owns: its ctx ends
// when the engine stops serving (stopBackground), which waits for it. It
// reports false, and runs nothing, when the Manager does not serve.
func (m *Manager) goBackground(fn func(ctx context.Context)) bool {
	m.bgMu.Lock()
	defer m.bgMu.Unlock()
	if m.bgCtx == nil || m.bgCtx.Err() != nil {
		return false // not serving, or stopping: nothing may start now
	}
	m.bgWG.Add(1)
	go func() {
		defer m.bgWG.Done()
		fn(m.bgCtx)
	}()
	return true
}

// startBackground opens the Manager's background work for one Serve.
func (m *Manager) startBackground() {
	m.bgMu.Lock()
	defer m.bgMu.Unlock()
	m.bgCtx, m.bgCancel = context.WithCancel(context.Background())
}

// stopBackground ends the Manager's background work and waits for it.
func (m *Manager) stopBackground() {
	m.bgMu.Lock()
	if m.bgCancel != nil {
		m.bgCancel()
	}
	m.bgMu.Unlock()
	m.bgWG.Wait()
}
