package gui

import (
	"context"
	"fmt"
	"sync"

	"github.com/devport/devport/app"
	"github.com/devport/devport/certs"
	"github.com/devport/devport/resolve"
)

// Engine is what the window drives: the Manager it hosts, or a running
// engine it attached to through the control socket.
type Engine interface {
	List(ctx context.Context) ([]app.ProjectStatus, error)
	Add(ctx context.Context, req app.AddRequest) (app.ProjectStatus, error)
	Start(ctx context.Context, name string) error
	Stop(ctx context.Context, name string) error
	Restart(ctx context.Context, name string) error
	Remove(ctx context.Context, name string) error
	// SetRuntime switches a service to another runtime (devport set).
	SetRuntime(ctx context.Context, name string, req app.RuntimeRequest) (app.ProjectStatus, error)
	// Subscribe returns change events and a function that ends them.
	Subscribe() (<-chan app.Event, func())
	// Info returns the engine's pid and ports.
	Info(ctx context.Context) (app.EngineInfo, error)
}

// Host is what the settings need beyond Engine; only a window that hosts
// the engine has it (nil when attached to another process's engine).
type Host interface {
	CA() *certs.Authority
	Paths() app.Paths
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string) error
	// NameStatus and UseHostsFile are the settings' Names card.
	NameStatus(ctx context.Context) (string, []resolve.Result, error)
	UseHostsFile(ctx context.Context, elevate func(argv []string) error) ([]string, error)
}

// Local is the Engine of a Manager this process hosts.
func Local(m *app.Manager) Engine { return local{m} }

type local struct{ *app.Manager }

func (l local) Add(ctx context.Context, req app.AddRequest) (app.ProjectStatus, error) {
	p, err := l.Manager.Add(ctx, req)
	if err != nil {
		return app.ProjectStatus{}, err
	}
	return find(ctx, l.Manager, p.Name)
}

func (l local) SetRuntime(ctx context.Context, name string, req app.RuntimeRequest) (app.ProjectStatus, error) {
	if _, err := l.Manager.SetRuntime(ctx, name, req); err != nil {
		return app.ProjectStatus{}, err
	}
	return find(ctx, l.Manager, name)
}

func (l local) Info(context.Context) (app.EngineInfo, error) { return l.Manager.Engine(), nil }

func find(ctx context.Context, e interface {
	List(context.Context) ([]app.ProjectStatus, error)
}, name string) (app.ProjectStatus, error) {
	ps, err := e.List(ctx)
	if err != nil {
		return app.ProjectStatus{}, err
	}
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
	}
	return app.ProjectStatus{}, fmt.Errorf("project %s: not found after adding it", name)
}

// Remote is the Engine of an engine another process runs. While anyone
// subscribes it follows the engine's event stream (GET /v1/events), so
// changes made elsewhere (the CLI, another window) show at once; it also
// announces the changes it makes itself, in case the stream is down.
func Remote(c *app.Client) Engine { return &remote{c: c} }

type remote struct {
	c          *app.Client
	mu         sync.Mutex
	next       int
	subs       map[int]chan app.Event
	stopStream context.CancelFunc // ends the engine's event stream; nil when none is open
}

func (r *remote) List(ctx context.Context) ([]app.ProjectStatus, error) { return r.c.List(ctx) }

func (r *remote) Info(ctx context.Context) (app.EngineInfo, error) { return r.c.Engine(ctx) }

func (r *remote) Add(ctx context.Context, req app.AddRequest) (app.ProjectStatus, error) {
	p, err := r.c.Add(ctx, req)
	if err == nil {
		r.emit(app.Event{Kind: app.EventAdded, Project: p.Name})
	}
	return p, err
}

func (r *remote) act(ctx context.Context, action, name string) error {
	p, err := r.c.Act(ctx, action, name)
	if err == nil {
		r.emit(app.Event{Kind: app.EventState, Project: name, State: p.State})
	}
	return err
}

func (r *remote) Start(ctx context.Context, name string) error   { return r.act(ctx, "start", name) }
func (r *remote) Stop(ctx context.Context, name string) error    { return r.act(ctx, "stop", name) }
func (r *remote) Restart(ctx context.Context, name string) error { return r.act(ctx, "restart", name) }

func (r *remote) Remove(ctx context.Context, name string) error {
	err := r.c.Remove(ctx, name)
	if err == nil {
		r.emit(app.Event{Kind: app.EventRemoved, Project: name})
	}
	return err
}

func (r *remote) SetRuntime(ctx context.Context, name string, req app.RuntimeRequest) (app.ProjectStatus, error) {
	p, err := r.c.SetRuntime(ctx, name, req)
	if err == nil {
		r.emit(app.Event{Kind: app.EventAdded, Project: name})
	}
	return p, err
}

func (r *remote) Subscribe() (<-chan app.Event, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.subs == nil {
		r.subs = map[int]chan app.Event{}
	}
	if len(r.subs) == 0 {
		ctx, cancel := context.WithCancel(context.Background())
		// A failed stream leaves the self-announced events, and the
		// Refresh button, as before.
		if _, err := r.c.Events(ctx, r.emit); err != nil {
			cancel()
		} else {
			r.stopStream = cancel
		}
	}
	id := r.next
	r.next++
	ch := make(chan app.Event, 64)
	r.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			delete(r.subs, id)
			close(ch)
			if len(r.subs) == 0 && r.stopStream != nil {
				r.stopStream()
				r.stopStream = nil
			}
		})
	}
}

func (r *remote) emit(e app.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range r.subs {
		select {
		case ch <- e:
		default:
		}
	}
}
