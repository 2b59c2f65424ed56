package app

import (
	"strings"
	"testing"

	"github.com/devport/devport/export"
	"github.com/devport/devport/store"
)

func TestParseUpstream(t *testing.T) {
	cases := []struct{ in, network, address, protocol string }{
		{"http://127.0.0.1:8081", "tcp", "127.0.0.1:8081", export.ProtocolHTTP},
		{"unix:/run/d/api.sock", "unix", "/run/d/api.sock", export.ProtocolHTTP},
		{"uwsgi://127.0.0.1:3031", "tcp", "127.0.0.1:3031", export.ProtocolUWSGI},
		{"uwsgi:unix:/run/d/web.sock", "unix", "/run/d/web.sock", export.ProtocolUWSGI},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			n, a, p := parseUpstream(c.in)
			if n != c.network || a != c.address || p != c.protocol {
				t.Errorf("parseUpstream(%q) = %q %q %q, want %q %q %q", c.in, n, a, p, c.network, c.address, c.protocol)
			}
		})
	}
}

// TestExportOf converts a stopped split project: sockets where devport
// would start the Python services, a warning for php's port, stripping
// exactly where the proxy strips, and live upstreams when running.
func TestExportOf(t *testing.T) {
	paths := Paths{Data: "/d", Logs: "/d/logs", Run: "/d/run"}
	sp := store.Project{Name: "shop", Root: t.TempDir(), Domains: []string{"shop.test"}, Services: []store.Service{
		{Name: "api", Stack: "uvicorn", App: "main:app", PathPrefix: "/api"},
		{Name: "legacy", Stack: "uwsgi", App: "app:app", PathPrefix: "/legacy"},
		{Name: "web", Stack: "php", PathPrefix: "/"},
	}}
	routes := []store.Route{{Project: "shop", PathPrefix: "/static", Kind: store.RouteStatic, Target: "/srv/static",
		CacheControl: "max-age=60"}}

	p, warnings, err := exportOf(sp, routes, nil, paths)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]export.Service{}
	for _, s := range p.Services {
		byName[s.Name] = s
	}
	cases := []struct {
		name string
		got  export.Service
		want export.Service
	}{
		{"uvicorn: socket, stripped", byName["api"], export.Service{Name: "api", Stack: "uvicorn", App: "main:app",
			Prefix: "/api", Strip: true, Network: "unix", Address: "/d/run/shop-api/api.sock"}},
		{"uwsgi: socket, uwsgi protocol, not stripped", byName["legacy"], export.Service{Name: "legacy", Stack: "uwsgi",
			App: "app:app", Prefix: "/legacy", Network: "unix", Address: "/d/run/shop-legacy/legacy.sock", Protocol: export.ProtocolUWSGI}},
		{"php: placeholder port", byName["web"], export.Service{Name: "web", Stack: "php", Prefix: "/", Network: "tcp",
			Address: "127.0.0.1:8080"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %+v\nwant %+v", c.got, c.want)
			}
		})
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "devport start shop") {
		t.Errorf("warnings = %q, want one telling to start shop", warnings)
	}
	if len(p.Routes) != 1 || p.Routes[0].Kind != export.KindStatic || p.Routes[0].CacheControl != "max-age=60" {
		t.Errorf("routes = %+v", p.Routes)
	}

	t.Run("running: live upstreams, no warning", func(t *testing.T) {
		live := map[string]string{"web": "http://127.0.0.1:41000", "api": "unix:/x/api.sock", "legacy": "uwsgi:unix:/x/l.sock"}
		p, warnings, err := exportOf(sp, nil, live, paths)
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) != 0 {
			t.Errorf("warnings = %q", warnings)
		}
		for _, s := range p.Services {
			if want := live[s.Name]; !strings.HasSuffix(want, s.Address) {
				t.Errorf("service %s address %q, want from %q", s.Name, s.Address, want)
			}
		}
	})
}
