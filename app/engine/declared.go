package engine

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/store"
)

// This file holds the routes a project declares beyond its services' own
// prefixes (`devport route`, devport.toml's [[routes]]): adding and
// removing them, and listing every route of a project.

// AddRoute declares a route of project name, stores it and publishes the
// new route table: a request sent after AddRoute returns takes it.
func (m *Manager) AddRoute(ctx context.Context, name string, req wire.RouteRequest) (wire.RouteStatus, error) {
	r := store.Route{Project: name, PathPrefix: req.Prefix, StripPrefix: req.Strip, CacheControl: req.CacheControl,
		ConnectTimeout: req.ConnectTimeout, ReadTimeout: req.ReadTimeout, WriteTimeout: req.WriteTimeout, MaxBody: req.MaxBody}
	n := 0
	for _, t := range []struct{ kind, target string }{
		{store.RouteService, req.Service}, {store.RouteStatic, req.Static}, {store.RouteURL, req.URL}} {
		if t.target != "" {
			r.Kind, r.Target, n = t.kind, t.target, n+1
		}
	}
	if n != 1 {
		return wire.RouteStatus{}, &store.ValidationError{Field: "route", Value: req.Prefix,
			Reason: "needs exactly one target", Fix: "give one of --service, --static or --url"}
	}
	if r.Kind == store.RouteStatic {
		p, err := m.db.Project(ctx, name)
		if err != nil {
			return wire.RouteStatus{}, err
		}
		if r.Target, err = routeFolder(p, r.Target); err != nil {
			return wire.RouteStatus{}, err
		}
	}
	r, err := m.db.AddRoute(ctx, r)
	if err != nil {
		return wire.RouteStatus{}, err
	}
	m.publish()
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	return declaredRow(r, nil), nil
}

// RemoveRoute removes the declared route at prefix of project name and
// publishes the new route table.
func (m *Manager) RemoveRoute(ctx context.Context, name, prefix string) error {
	if err := m.db.RemoveRoute(ctx, name, prefix); err != nil {
		return err
	}
	m.publish()
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	return nil
}

// Routes returns every route of project name: the declared ones, then
// each service's own (`devport route NAME ls`).
func (m *Manager) Routes(ctx context.Context, name string) ([]wire.RouteStatus, error) {
	p, declared, err := m.projectRoutes(ctx, name)
	if err != nil {
		return nil, err
	}
	return routeRows(p, declared), nil
}

// projectRoutes loads the stored project name and its declared routes.
func (m *Manager) projectRoutes(ctx context.Context, name string) (store.Project, []store.Route, error) {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return store.Project{}, nil, err
	}
	routes, err := m.db.Routes(ctx, name)
	if err != nil {
		return store.Project{}, nil, err
	}
	return p, routes, nil
}

// routeRows is every route of p: the declared ones, then each service's
// own at its prefix unless a declared route takes it.
func routeRows(p store.Project, declared []store.Route) []wire.RouteStatus {
	taken := make(map[string]bool)
	chains := chainLinks(p, declared)
	var rows []wire.RouteStatus
	for _, d := range declared {
		if d.Project != p.Name {
			continue
		}
		taken[d.PathPrefix] = true
		rows = append(rows, declaredRow(d, chains[d.Target]))
	}
	for _, s := range p.Services {
		if taken[cleanPrefix(s.PathPrefix)] {
			continue
		}
		row := wire.RouteStatus{Prefix: cleanPrefix(s.PathPrefix), Kind: store.RouteService, Target: s.Name,
			Strip: stackdef.StripsPrefix(s.Stack) && cleanPrefix(s.PathPrefix) != "/", FilesFirst: publicFolder(p, s)}
		if s.Stack == stackdef.Proxy {
			row.Kind, row.Target = store.RouteURL, s.URL
		}
		if s.Stack == stackdef.Static {
			row.Kind, row.Target, row.Strip = store.RouteStatic, staticFolder(p, s), false
		}
		rows = append(rows, row)
	}
	return rows
}

// declaredRow is a declared route as a row; links are the chain links of
// its target, when it sends the prefix to a php service.
func declaredRow(d store.Route, links []chainLink) wire.RouteStatus {
	row := wire.RouteStatus{Prefix: d.PathPrefix, Kind: d.Kind, Target: d.Target, Strip: d.StripPrefix,
		CacheControl: d.CacheControl, Limits: limitsText(d), Declared: true}
	for _, l := range links {
		if l.prefix == d.PathPrefix {
			row.ForwardsTo = l.target
		}
	}
	return row
}

func limitsText(r store.Route) string {
	var parts []string
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"connect", r.ConnectTimeout}, {"read", r.ReadTimeout}, {"write", r.WriteTimeout}} {
		if d.v > 0 {
			parts = append(parts, d.name+"="+d.v.String())
		}
	}
	switch {
	case r.MaxBody < 0:
		parts = append(parts, "max-body=unlimited")
	case r.MaxBody > 0:
		parts = append(parts, "max-body="+strconv.FormatInt(r.MaxBody, 10))
	}
	return strings.Join(parts, " ")
}
