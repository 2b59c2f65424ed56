package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

const (
	startTimeout = 30 * time.Second
	// StopAllTimeout bounds stopping every project when the engine quits.
	StopAllTimeout = 20 * time.Second
)

// Start starts every service of a project, waits until each answers, and
// then routes its domains to them. When one service fails, the ones
// already started are stopped again and the error says why.
func (m *Manager) Start(ctx context.Context, name string) error {
	if m.srv.Load() == nil {
		return fmt.Errorf("start %s: %w; start one with: devport serve --headless --start %s", name, ErrNoEngine, name)
	}
	l := m.lock(name)
	l.Lock()
	defer l.Unlock()
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if r := m.runs[name]; r != nil && r.state == wire.StateRunning {
		m.mu.Unlock()
		return nil
	}
	r := &run{state: wire.StateStarting, services: map[string]*serviceRun{}}
	old := m.runs[name]
	m.runs[name] = r
	m.mu.Unlock()
	m.stateEvent(name, wire.StateStarting, "")
	if old != nil { // crashed: make sure nothing of the old run is left
		m.stopServices(ctx, old)
	}

	if err := m.runBeforeStart(ctx, p); err != nil { // app/hooks.go: devport.toml's hooks.before_start
		m.mu.Lock()
		delete(m.runs, name)
		m.mu.Unlock()
		m.event(ctx, store.Event{Project: name, Kind: "failed", Detail: err.Error()})
		m.stateEvent(name, wire.StateStopped, err.Error())
		return fmt.Errorf("start %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	declared, err := m.db.Routes(ctx, name)
	chains := chainLinks(p, declared) // app/chain.go: Apache → sibling services
	if err == nil && len(chains) > 0 {
		err = m.shareRunFolders()
	}
	if err != nil {
		m.mu.Lock()
		delete(m.runs, name)
		m.mu.Unlock()
		m.stateEvent(name, wire.StateStopped, err.Error())
		return fmt.Errorf("start %s: %w", name, err)
	}
	for _, s := range startOrder(p, chains) {
		if stackdef.RunsNothing(s.Stack) {
			continue
		}
		m.mu.Lock()
		links, err := stackLinks(chains[s.Name], r.services)
		m.mu.Unlock()
		var sr *serviceRun
		if err == nil {
			sr, err = m.startService(ctx, p, s, links)
		}
		if err != nil {
			m.stopServices(context.WithoutCancel(ctx), r)
			m.mu.Lock()
			delete(m.runs, name)
			m.mu.Unlock()
			m.event(ctx, store.Event{Project: name, Service: s.Name, Kind: "failed", Detail: err.Error()})
			m.stateEvent(name, wire.StateStopped, err.Error())
			return fmt.Errorf("start %s, service %s: %w", name, s.Name, err)
		}
		m.mu.Lock()
		r.services[s.Name] = sr
		m.mu.Unlock()
	}
	m.mu.Lock()
	r.state = wire.StateRunning
	m.mu.Unlock()
	for svc, sr := range r.services {
		go m.watch(name, svc, r, sr)
	}
	m.event(ctx, store.Event{Project: name, Kind: "started"})
	m.publish()
	m.stateEvent(name, wire.StateRunning, "")
	return nil
}

func (m *Manager) startService(ctx context.Context, p store.Project, s store.Service, links []stacks.Link) (*serviceRun, error) {
	runner, err := m.serviceRunner(ctx, p, s, links) // by runtime: app/containers.go
	if err != nil {
		return nil, err
	}
	up, err := runner.Start(ctx)
	if err != nil {
		// Stop is safe after a failed start and reaps whatever is left.
		_ = runner.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	return &serviceRun{runner: runner, upstream: up}, nil
}

// watch waits for a service to exit on its own and marks the project
// crashed, so the proxy answers with a 502 page that says how to restart it.
func (m *Manager) watch(project, service string, r *run, sr *serviceRun) {
	<-sr.runner.Exited()
	m.mu.Lock()
	if m.runs[project] != r || r.state != wire.StateRunning {
		m.mu.Unlock()
		return // stopped on purpose
	}
	sr.err = sr.runner.Err()
	r.state = wire.StateCrashed
	r.reason = fmt.Sprintf("service %s exited: %v", service, sr.err)
	m.mu.Unlock()
	m.log.Warn("backend crashed", "project", project, "service", service, "err", sr.err)
	m.event(context.Background(), store.Event{Project: project, Service: service, Kind: "crashed", Detail: fmt.Sprint(sr.err)})
	m.publish()
	m.stateEvent(project, wire.StateCrashed, r.reason)
	m.autoRestart(project, r)
}

// Crashed projects are started again after 1, 2, 4 and 8 s; a backend
// that still fails is left crashed, with why, for the user to look at.
const (
	restartBackoff = time.Second
	maxRestarts    = 4
)

// autoRestart starts a crashed project again with backoff, unless the
// user stops, restarts or removes it first, or the engine stops.
func (m *Manager) autoRestart(project string, r *run) {
	delay := restartBackoff
	for attempt := 1; attempt <= maxRestarts; attempt++ {
		time.Sleep(delay)
		delay *= 2
		m.mu.Lock()
		cur := m.runs[project]
		m.mu.Unlock()
		if cur != r || m.srv.Load() == nil {
			return // someone else took over, or the engine is stopping
		}
		ctx := context.Background()
		err := m.Start(ctx, project)
		if err == nil {
			m.log.Info("backend restarted", "project", project, "attempt", attempt)
			m.event(ctx, store.Event{Project: project, Kind: "restarted", Detail: fmt.Sprintf("attempt %d", attempt)})
			return
		}
		// Start forgot the failed run: keep the project crashed, saying why.
		m.mu.Lock()
		if m.runs[project] != nil {
			m.mu.Unlock()
			return
		}
		r.reason = fmt.Sprintf("restart %d of %d failed: %v", attempt, maxRestarts, firstLine(err))
		if attempt == maxRestarts {
			r.reason = fmt.Sprintf("gave up after %d restarts: %v", maxRestarts, firstLine(err))
		}
		m.runs[project] = r
		m.mu.Unlock()
		m.publish()
		m.stateEvent(project, wire.StateCrashed, r.reason)
	}
}

// firstLine is an error's first line: start errors carry log tails.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// Stop stops every service of a project and routes its domains to the
// "stopped" page. When it returns, no process of the project is left.
func (m *Manager) Stop(ctx context.Context, name string) error {
	l := m.lock(name)
	l.Lock()
	defer l.Unlock()
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
	m.mu.Unlock()
	m.publish() // route to the stopped page before the backend goes away
	m.stateEvent(name, wire.StateStopping, "")
	err := m.stopServices(ctx, r)
	m.mu.Lock()
	delete(m.runs, name)
	m.mu.Unlock()
	m.publish()
	m.event(ctx, store.Event{Project: name, Kind: "stopped"})
	m.stateEvent(name, wire.StateStopped, "")
	return err
}

// Restart stops a project if it runs and starts it again.
func (m *Manager) Restart(ctx context.Context, name string) error {
	if err := m.Stop(ctx, name); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	return m.Start(ctx, name)
}

// StopAll stops every project that runs.
func (m *Manager) StopAll(ctx context.Context) error {
	m.mu.Lock()
	names := make([]string, 0, len(m.runs))
	for n := range m.runs {
		names = append(names, n)
	}
	m.mu.Unlock()
	var errs []error
	for _, n := range names {
		if err := m.Stop(ctx, n); err != nil && !errors.Is(err, ErrNotRunning) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) stopServices(ctx context.Context, r *run) error {
	m.mu.Lock()
	srs := make([]*serviceRun, 0, len(r.services))
	for _, sr := range r.services {
		srs = append(srs, sr)
	}
	m.mu.Unlock()
	var errs []error
	for _, sr := range srs {
		if err := sr.runner.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
