package app

import (
	"context"
	"net/url"
	"strings"

	"github.com/devport/devport/proxy"
	"github.com/devport/devport/store"
)

// publish rebuilds the proxy's route table from the store and the live
// state of each project, and swaps it in. Every project gets routes, so a
// stopped one answers with a page that says how to start it.
func (m *Manager) publish() {
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
	if srv := m.srv.Load(); srv != nil {
		srv.SetRoutes(proxy.NewTable(m.routes(ps)))
	}
}

// routes is the route table for the given projects.
func (m *Manager) routes(ps []store.Project) []proxy.Route {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []proxy.Route
	for _, p := range ps {
		r := m.runs[p.Name]
		for _, s := range p.Services {
			rt := proxy.Route{
				Project:      p.Name,
				Service:      s.Name,
				Domains:      p.Domains,
				PathPrefix:   s.PathPrefix,
				StripPrefix:  s.Stack == "uvicorn" && s.PathPrefix != "/",
				StartCommand: "devport start " + p.Name,
			}
			switch {
			case s.Stack == "proxy":
				u, err := url.Parse(s.URL)
				if err != nil { // the store validated it; never route to garbage
					rt.Down = "its URL " + s.URL + " does not parse"
					break
				}
				rt.URL = u
				rt.StartCommand = ""
			case r == nil:
				rt.Down = "the project is stopped"
			case r.state == StateRunning && r.services[s.Name] != nil:
				up := r.services[s.Name].upstream
				rt.Upstream = &proxy.Upstream{Network: up.Network, Address: up.Address}
			case r.state == StateCrashed:
				rt.Down = "it crashed (" + r.reason + "); see devport logs " + p.Name
				rt.StartCommand = "devport restart " + p.Name
			default:
				rt.Down = "the project is " + string(r.state)
			}
			out = append(out, rt)
		}
	}
	return out
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
