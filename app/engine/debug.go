package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// debugPort is where debugpy listens for an IDE (stacks.DefaultDebugPort,
// VS Code's default); tests point it at a free port.
var debugPort = stacks.DefaultDebugPort

// SetDebug turns debugging of a Python service of project name on or off
// (devport debug NAME on|off): the service then runs under debugpy,
// listening on 127.0.0.1:5678 for an IDE to attach. service "" is the
// project's only Python service. A running project restarts to apply it;
// when that fails, the flag goes back and the project starts as before.
// Turning it on when it is on (or off when off) changes nothing.
func (m *Manager) SetDebug(ctx context.Context, name, service string, on bool) (store.Project, error) {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return store.Project{}, err
	}
	svc, err := debugService(p, service)
	if err != nil {
		return store.Project{}, err
	}
	if svc.Debug == on {
		return p, nil
	}
	m.mu.Lock()
	_, running := m.runs[name]
	m.mu.Unlock()
	if on {
		if err := stacks.CheckDebugPort(debugPort); err != nil {
			return store.Project{}, fmt.Errorf("debug %s/%s: %w, held by %s: close it (another debug session?) and try again",
				name, svc.Name, err, describeHolder(debugPort))
		}
	}
	if err := m.db.SetServiceDebug(ctx, name, svc.Name, on); err != nil {
		return store.Project{}, err
	}
	if running {
		if err := m.Restart(ctx, name); err != nil {
			rerr := m.db.SetServiceDebug(context.WithoutCancel(ctx), name, svc.Name, !on)
			if rerr == nil {
				rerr = m.Start(context.WithoutCancel(ctx), name)
			}
			if rerr != nil {
				err = errors.Join(err, fmt.Errorf("restore debug %s: %w", onOff(!on), rerr))
			}
			return store.Project{}, fmt.Errorf("debug %s/%s %s (kept %s): %w", name, svc.Name, onOff(on), onOff(!on), err)
		}
	}
	m.event(ctx, store.Event{Project: name, Service: svc.Name, Kind: "debug", Detail: onOff(on)})
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	return m.db.Project(ctx, name)
}

// debugService is the service of p that devport debug names: service, or
// the only Python one. Only the stacks devport runs under debugpy qualify.
func debugService(p store.Project, service string) (store.Service, error) {
	s, err := namedOrOnly(p, service, "Python", stackdef.IsPython, &store.ValidationError{Field: "service",
		Reason: "project " + p.Name + " has no Python service to debug", Fix: "debugging is for the uvicorn, gunicorn and wsgi stacks"})
	if err != nil {
		return store.Service{}, err
	}
	switch s.Stack {
	case stackdef.Uvicorn, stackdef.Gunicorn, stackdef.WSGI:
		return s, nil
	case stackdef.UWSGI:
		return store.Service{}, &store.ValidationError{Field: "service", Value: s.Name,
			Reason: stacks.ErrNoDebugger.Error(), Fix: "devport debug runs uvicorn, gunicorn and wsgi services"}
	}
	return store.Service{}, &store.ValidationError{Field: "service", Value: s.Name,
		Reason: "service " + s.Name + " runs " + s.Stack + ", not Python under debugpy", Fix: "debugging is for the uvicorn, gunicorn and wsgi stacks"}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// namedOrOnly is the service of p that a command names (service), or,
// when it names none, the only one of kind (match): --service picks among
// several. none is the error when the project has none of kind.
func namedOrOnly(p store.Project, service, kind string, match func(stack string) bool, none *store.ValidationError) (store.Service, error) {
	var found []store.Service
	for _, s := range p.Services {
		if s.Name == service || (service == "" && match(s.Stack)) {
			found = append(found, s)
		}
	}
	switch {
	case len(found) == 0 && service != "":
		return store.Service{}, &store.ValidationError{Field: "service", Value: service,
			Reason: "no such service in project " + p.Name, Fix: "see devport ls --json for its services"}
	case len(found) == 0:
		return store.Service{}, none
	case len(found) > 1:
		return store.Service{}, &store.ValidationError{Field: "service", Reason: "the project has several " + kind + " services",
			Fix: "name one with --service NAME"}
	}
	return found[0], nil
}
