package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/store"
)

// Rename gives project old the name req.Name and, with req.Domain, a new
// primary domain. A primary domain of the form OLD.TLD, the one add gives,
// follows the name (shop.test becomes store.test); any other stays. The
// project's folder, services, routes and parked folder stay; for a
// parked project the name sticks, since its folder is what ties it to the
// parked folder. A running project is stopped, renamed and started again
// under its new name. A refused name or domain changes nothing.
func (m *Manager) Rename(ctx context.Context, old string, req wire.RenameRequest) (store.Project, error) {
	p, err := m.db.Project(ctx, old)
	if err != nil {
		return store.Project{}, err
	}
	name := req.Name
	if name == "" {
		name = old
	}
	domain := req.Domain
	if domain == "" {
		domain = p.Domains[0]
		if tld, ok := strings.CutPrefix(domain, old+"."); ok && !strings.Contains(tld, ".") {
			domain = name + "." + tld
		}
	}
	if name == old && domain == p.Domains[0] {
		return p, nil
	}
	// Validate before stopping anything: a refused name must not cost a
	// running project its backends.
	if err := store.ValidateName("name", name); err != nil {
		return store.Project{}, err
	}
	if name != old {
		if err := refuseDataRename(p); err != nil { // data.go
			return store.Project{}, err
		}
	}
	m.cancelStarts(old)
	// Both names' locks, in a fixed order, so that no start of either
	// slips in and two renames cannot wait on each other.
	names := []string{old}
	if name != old {
		names = append(names, name)
		slices.Sort(names)
	}
	for _, n := range names {
		m.lock(n).Lock()
	}
	unlock := func() {
		for _, n := range names {
			m.lock(n).Unlock()
		}
	}
	m.mu.Lock()
	_, running := m.runs[old]
	m.mu.Unlock()
	if running {
		if err := m.stopLocked(ctx, old); err != nil && !errors.Is(err, ErrNotRunning) {
			unlock()
			return store.Project{}, fmt.Errorf("rename %s: stop it first: %w", old, err)
		}
	}
	renamed, err := m.db.RenameProject(ctx, old, name, domain)
	if err == nil && name != old {
		if merr := m.moveDataFolders(old, name); merr != nil { // data.go
			m.log.Warn("rename: move the data folders", "project", old, "err", merr)
			err = merr
			if _, rerr := m.db.RenameProject(context.WithoutCancel(ctx), name, old, p.Domains[0]); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}
	if err == nil && name != old {
		// Containers and volumes carry the project's name: the old ones go,
		// the next start makes them under the new name.
		if rerr := m.removeProjectContainers(ctx, p); rerr != nil {
			m.log.Warn("rename: remove the old containers", "project", old, "err", rerr)
		}
	}
	unlock()
	if err != nil {
		if running {
			err = errors.Join(err, m.Start(context.WithoutCancel(ctx), old))
		}
		return store.Project{}, err
	}
	m.event(ctx, store.Event{Project: name, Kind: "renamed", Detail: old + " " + p.Domains[0] + " → " + name + " " + renamed.Domains[0]})
	m.publish()
	m.syncHosts(ctx)
	m.emit(wire.Event{Kind: wire.EventRemoved, Project: old})
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	m.issueCert(renamed.Domains[0])
	if running {
		if err := m.Start(ctx, name); err != nil {
			return renamed, fmt.Errorf("renamed %s to %s, but it did not start again: %w", old, name, err)
		}
	}
	return renamed, nil
}
