package engine

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/store"
)

// This file holds what a project's services get in their environment
// (devport set NAME --env) and its before_start hook (devport set NAME
// --before-start): devport.toml sets both when the project is added, and
// these change them afterwards (issue 15, item 1: the window's Settings
// tab). Values are checked by store.ValidateEnv, the same rule
// devport.toml's env meets; the backends get them through exec's and
// Docker's environment lists, never through a file or a shell line.

// SetEnv changes the environment of the services of project name:
// each change names its service, or none for the project's only service
// that runs something. Bad names or values are refused and nothing
// changes. A running project restarts to apply the change, as a php.ini
// change does; when that fails, the old environment comes back and the
// project starts as before.
func (m *Manager) SetEnv(ctx context.Context, name string, req wire.EnvRequest) (store.Project, error) {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return store.Project{}, err
	}
	changes, err := envChanges(p, req)
	if err != nil {
		return store.Project{}, err
	}
	if _, err := m.db.SetServiceEnv(ctx, name, changes); err != nil {
		return store.Project{}, err
	}
	if err := m.restartFor(ctx, name, func(ctx context.Context) error {
		_, err := m.db.SetServiceEnv(ctx, name, envUndo(p, changes))
		return err
	}); err != nil {
		return store.Project{}, fmt.Errorf("env of %s (kept as it was): %w", name, err)
	}
	for _, c := range changes {
		m.event(ctx, store.Event{Project: name, Service: c.Service, Kind: "env", Detail: envDetail(c)})
	}
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	return m.db.Project(ctx, name)
}

// envChanges turns req into the store's changes, one a service: a
// request that names no service means the project's only one that runs
// something, and two changes of one service merge in order.
func envChanges(p store.Project, req wire.EnvRequest) ([]store.EnvChange, error) {
	var out []store.EnvChange
	at := map[string]int{} // service -> index in out
	for _, r := range req.Services {
		if len(r.Set) == 0 && len(r.Unset) == 0 {
			continue
		}
		s, err := envService(p, r.Service)
		if err != nil {
			return nil, err
		}
		i, ok := at[s.Name]
		if !ok {
			i = len(out)
			at[s.Name] = i
			out = append(out, store.EnvChange{Service: s.Name, Set: map[string]string{}})
		}
		c := &out[i]
		for _, k := range slices.Sorted(maps.Keys(r.Set)) {
			c.Set[k] = r.Set[k]
			c.Unset = slices.DeleteFunc(c.Unset, func(u string) bool { return u == k })
		}
		for _, k := range r.Unset {
			delete(c.Set, k)
			if !slices.Contains(c.Unset, k) {
				c.Unset = append(c.Unset, k)
			}
		}
	}
	if len(out) == 0 {
		return nil, &store.ValidationError{Field: "env", Reason: "nothing to change",
			Fix: "devport set NAME --env [SERVICE:]KEY=VALUE, or --env-unset [SERVICE:]KEY"}
	}
	return out, nil
}

// envService is the service of p an env change names: service, or the
// only one that runs something when it names none. A service that runs
// nothing (static, proxy) has no environment. The errors name the
// services that have one.
func envService(p store.Project, service string) (store.Service, error) {
	var runs []string
	for _, s := range p.Services {
		if !stackdef.RunsNothing(s.Stack) {
			runs = append(runs, s.Name)
		}
	}
	if service == "" {
		switch len(runs) {
		case 0:
			return store.Service{}, &store.ValidationError{Field: "env", Value: p.Name, Reason: "the project runs no backend of its own",
				Fix: "env is for the services devport runs, not for static folders or proxied URLs"}
		case 1:
			service = runs[0]
		default:
			return store.Service{}, &store.ValidationError{Field: "service", Reason: "the project has several services (" + strings.Join(runs, ", ") + ")",
				Fix: "name one before the key: --env " + runs[0] + ":KEY=VALUE"}
		}
	}
	for _, s := range p.Services {
		if s.Name != service {
			continue
		}
		if stackdef.RunsNothing(s.Stack) {
			return store.Service{}, &store.ValidationError{Field: "service", Value: s.Name,
				Reason: "is stack " + s.Stack + ", which runs nothing, so it has no environment",
				Fix:    "name one of " + cmp.Or(strings.Join(runs, ", "), "the services devport runs")}
		}
		return s, nil
	}
	return store.Service{}, &store.ValidationError{Field: "service", Value: service, Reason: "no such service in project " + p.Name,
		Fix: "name one of " + cmp.Or(strings.Join(runs, ", "), "the services devport runs")}
}

// envUndo is the change that puts back the environment changes replaced:
// the old values of the keys they touched, and none of the keys they
// added.
func envUndo(p store.Project, changes []store.EnvChange) []store.EnvChange {
	var out []store.EnvChange
	for _, c := range changes {
		var old map[string]string
		for _, s := range p.Services {
			if s.Name == c.Service {
				old = s.Env
			}
		}
		u := store.EnvChange{Service: c.Service, Set: map[string]string{}}
		for _, k := range append(slices.Sorted(maps.Keys(c.Set)), c.Unset...) {
			if v, ok := old[k]; ok {
				u.Set[k] = v
			} else {
				u.Unset = append(u.Unset, k)
			}
		}
		out = append(out, u)
	}
	return out
}

// envDetail is the event detail of an env change: the names only, as
// values may be secrets (tokens, keys) the events list should not keep.
func envDetail(c store.EnvChange) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c.Set)) {
		parts = append(parts, k)
	}
	for _, k := range c.Unset {
		parts = append(parts, "-"+k)
	}
	return strings.Join(parts, " ")
}

// SetBeforeStart sets the before_start hook of project name (a shell
// command, as devport.toml's hooks.before_start is); "" removes it. It
// runs at the next start: a running project keeps running, since running
// the hook again (composer install, a migration) is not for a settings
// change to decide.
func (m *Manager) SetBeforeStart(ctx context.Context, name, cmd string) (store.Project, error) {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return store.Project{}, err
	}
	if p.BeforeStart == cmd {
		return p, nil
	}
	if err := m.db.SetBeforeStart(ctx, name, cmd); err != nil {
		return store.Project{}, err
	}
	detail := "removed"
	if cmd != "" {
		detail = "set"
	}
	m.event(ctx, store.Event{Project: name, Kind: "hooks.before_start", Detail: detail})
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	return m.db.Project(ctx, name)
}
