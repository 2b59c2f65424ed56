package engine

import (
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/proxy"
	"github.com/devport/devport/store"
)

// publish rebuilds the proxy's route table from the store and the live
// state of each project, and swaps it in. Every project gets routes, so a
// stopped one answers with a page that says how to start it. Publishes
// are serialised: the table swapped in last is built from the newest
// state, and so is the issuer's host map.
func (m *Manager) publish() {
	if srv := m.srv.Load(); srv != nil {
		m.publishTo(srv)
	}
}

// publishTo is publish for srv, which may not serve yet.
func (m *Manager) publishTo(srv *proxy.Server) {
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	ps, err := m.db.Projects(context.Background())
	if err != nil {
		m.log.Error("publish routes", "err", err)
		return
	}
	hosts := make(map[string]string)
	for _, p := range ps {
		for _, d := range p.Domains {
			hosts[d] = d
		}
	}
	m.hosts.Store(&hosts)
	extra, err := m.db.Routes(context.Background(), "")
	if err != nil {
		m.log.Error("publish routes: load declared routes", "err", err)
	}
	parked, err := m.db.ParkedProjects(context.Background())
	if err != nil {
		m.log.Error("publish routes: load parked projects", "err", err)
	}
	srv.SetRoutes(proxy.NewTable(m.parkedRoutes(ps, extra, parked)))
}

// AccessLog is the access log of one project, written by the proxy and
// read by devport logs NAME --access.
func (p Paths) AccessLog(project string) string {
	return filepath.Join(p.Logs, project, "access.log")
}

// routes is the route table for the given projects: each service at its
// own PathPrefix, plus the routes declared in the store (devport route),
// which replace a service's default route at the same prefix.
func (m *Manager) routes(ps []store.Project, declared []store.Route) []proxy.Route {
	return m.parkedRoutes(ps, declared, nil)
}

// parkedRoutes is routes, where the projects of parked folders (parked:
// project to folder) start on their first request (app/engine/park.go).
func (m *Manager) parkedRoutes(ps []store.Project, declared []store.Route, parked map[string]string) []proxy.Route {
	gone := m.park.goneDirs()
	m.mu.Lock()
	defer m.mu.Unlock()
	byProject := make(map[string][]store.Route)
	for _, r := range declared {
		byProject[r.Project] = append(byProject[r.Project], r)
	}
	var out []proxy.Route
	for _, p := range ps {
		r := m.runs[p.Name]
		taken := make(map[string]bool)
		for _, d := range byProject[p.Name] {
			taken[d.PathPrefix] = true
		}
		services := make(map[string]proxy.Route, len(p.Services))
		dir, isParked := parked[p.Name]
		var wake func() <-chan struct{}
		if isParked && !gone[dir] {
			wake = m.waker(p.Name)
		}
		for _, s := range p.Services {
			rt := m.serviceRoute(p, s, r)
			switch {
			case !isParked || rt.Kind() != proxy.KindDown:
			case gone[dir]:
				if r == nil {
					rt.Down = "its folder went with the parked folder " + dir + "; it comes back when that folder does"
				}
			case r == nil || r.state == wire.StateFailed || r.state == wire.StateStopping:
				rt.Wake = wake // the next request starts it
			}
			services[s.Name] = rt
			if !taken[cleanPrefix(s.PathPrefix)] {
				out = append(out, rt)
			}
		}
		for _, d := range byProject[p.Name] {
			out = append(out, declaredRoute(p, d, services))
		}
		if rt, ok := m.mailRoute(p, r); ok {
			out = append(out, rt)
		}
	}
	return out
}

// mailRoute routes mail.DOMAIN of each domain of p to the UI of its first
// Mailpit service, in run state r. The project's certificate covers it
// (it carries *.DOMAIN).
func (m *Manager) mailRoute(p store.Project, r *run) (proxy.Route, bool) {
	i := slices.IndexFunc(p.Data, func(d store.DataService) bool { return d.Stack == stackdef.Mailpit })
	if i < 0 {
		return proxy.Route{}, false
	}
	rt := m.serviceRoute(p, store.Service{Name: p.Data[i].Name, Stack: stackdef.Mailpit, PathPrefix: "/"}, r)
	rt.Domains = make([]string, len(p.Domains))
	for j, d := range p.Domains {
		rt.Domains[j] = mailDomain(d)
	}
	return rt, true
}

// cleanPrefix is a service's prefix as routes spell it ("" is "/").
func cleanPrefix(prefix string) string {
	if prefix == "" {
		return "/"
	}
	return prefix
}

// serviceRoute is the route of service s of project p in run state r.
func (m *Manager) serviceRoute(p store.Project, s store.Service, r *run) proxy.Route {
	rt := proxy.Route{
		Project:      p.Name,
		Service:      s.Name,
		Domains:      p.Domains,
		PathPrefix:   s.PathPrefix,
		StripPrefix:  stackdef.StripsPrefix(s.Stack) && s.PathPrefix != "/",
		StartCommand: "devport start " + p.Name,
	}
	if dir := publicFolder(p, s); dir != "" { // app/static.go
		rt.TryFiles, rt.CacheControl, rt.Confine = dir, staticCacheControl, p.Root
	}
	switch {
	case s.Stack == stackdef.Static:
		staticRoute(&rt, p, s) // app/static.go
	case s.Stack == stackdef.Proxy:
		u, err := url.Parse(s.URL)
		if err != nil { // the store validated it; never route to garbage
			rt.Down = "its URL " + s.URL + " does not parse"
			break
		}
		rt.URL = u
		rt.StartCommand = ""
	case r == nil:
		rt.Down = "the project is stopped"
	case r.state == wire.StateRunning && r.hold != nil:
		// Its databases are being restored (branch.go): wait for them.
		rt.Pending, rt.Down = r.hold.ch, "its databases are being restored"
	case r.state == wire.StateRunning && r.services[s.Name] != nil:
		up := r.services[s.Name].upstream
		rt.Upstream = &proxy.Upstream{Network: up.Network, Address: up.Address, Protocol: up.Protocol}
	case r.state == wire.StateStarting:
		// Requests wait for the start's outcome, then route again.
		rt.Pending, rt.Down = r.ready.ch, "the project is still starting"
	case r.state == wire.StateCrashed:
		// A restart is on its way (a crash loop ends as failed): wait for it.
		rt.Pending = r.ready.ch
		rt.Down = "it crashed (" + r.reason + ") and devport is starting it again"
		rt.StartCommand = "devport restart " + p.Name
	case r.state == wire.StateFailed:
		rt.Down = "it failed: " + r.reason
	default:
		rt.Down = "the project is " + string(r.state)
	}
	return rt
}

// routeFolder is the folder a static route of p serves, from dir as the
// user named it: a relative dir is the project folder's (not the working
// directory of the engine or of the shell that ran devport route), so
// "staticfiles" means the same thing from anywhere. A folder that does not
// exist is refused with its full path: served, it would only fail later
// with "the static folder of this route is missing".
func routeFolder(p store.Project, dir string) (string, error) {
	full := dir
	if !filepath.IsAbs(dir) {
		if p.Root == "" {
			return "", &store.ValidationError{Field: "static", Value: dir,
				Reason: "is relative, and project " + p.Name + " has no folder to resolve it against",
				Fix:    "give the folder's full path with --static"}
		}
		full = filepath.Join(p.Root, dir)
	}
	full = filepath.Clean(full)
	where := ""
	if !filepath.IsAbs(dir) {
		where = " (a relative --static is a folder of the project, " + p.Root + ")"
	}
	fi, err := os.Stat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", &store.ValidationError{Field: "static", Value: full, Reason: "does not exist" + where,
			Fix: "create the folder, or name one that exists"}
	case err != nil:
		return "", &store.ValidationError{Field: "static", Value: full, Reason: err.Error(), Fix: "name a folder devport can read"}
	case !fi.IsDir():
		return "", &store.ValidationError{Field: "static", Value: full, Reason: "is a file, not a folder" + where,
			Fix: "name the folder that holds the files"}
	}
	return full, checkStaticFolder("static", p.Root, full)
}

// declaredRoute turns a route from the store into a proxy route; a
// service route takes the state of that service's own route.
func declaredRoute(p store.Project, d store.Route, services map[string]proxy.Route) proxy.Route {
	rt := proxy.Route{
		Project:      p.Name,
		Domains:      p.Domains,
		PathPrefix:   d.PathPrefix,
		StripPrefix:  d.StripPrefix,
		CacheControl: d.CacheControl,
		Limits: proxy.Limits{
			Connect: d.ConnectTimeout,
			Read:    d.ReadTimeout,
			Write:   d.WriteTimeout,
			MaxBody: d.MaxBody,
		},
	}
	switch d.Kind {
	case store.RouteService:
		svc, ok := services[d.Target]
		rt.Service = d.Target
		if !ok {
			rt.Down = "the project has no service " + d.Target + "; see devport route " + p.Name + " ls"
			break
		}
		rt.Upstream, rt.URL, rt.Down, rt.StartCommand, rt.Pending, rt.Wake = svc.Upstream, svc.URL, svc.Down, svc.StartCommand, svc.Pending, svc.Wake
	case store.RouteStatic:
		rt.Service = "static"
		rt.Static = d.Target
		if within(p.Root, d.Target) { // one the user named elsewhere is served as named
			rt.Confine = p.Root
		}
	case store.RouteURL:
		rt.Service = "url"
		u, err := url.Parse(d.Target)
		if err != nil {
			rt.Down = "its URL " + d.Target + " does not parse"
			break
		}
		rt.URL = u
	}
	return rt
}

// certNames tells the issuer which names a certificate for serverName
// should carry: the project's domain and its wildcard, so one certificate
// covers shop.test and api.shop.test, plus the name itself when it is
// deeper (a.b.shop.test). Unknown names get nil, and the issuer decides
// (it refuses names outside the managed TLDs).
func (m *Manager) certNames(serverName string) []string {
	hosts := *m.hosts.Load()
	full := strings.TrimSuffix(strings.ToLower(serverName), ".")
	name := full
	for {
		if d, ok := hosts[name]; ok {
			names := []string{d, "*." + d}
			// A wildcard covers one label; a deeper name needs its own SAN.
			if full != d && strings.Count(strings.TrimSuffix(full, "."+d), ".") > 0 {
				names = append(names, full)
			}
			return names
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return nil
		}
		name = name[i+1:]
	}
}
