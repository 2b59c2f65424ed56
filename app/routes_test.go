package app

import (
	"slices"
	"strings"
	"testing"

	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

func TestCertNames(t *testing.T) {
	m := &Manager{}
	hosts := map[string]string{"shop.test": "shop.test", "api.shop.test": "api.shop.test", "blog.localhost": "blog.localhost"}
	m.hosts.Store(&hosts)
	tests := []struct {
		server string
		want   []string
	}{
		{"shop.test", []string{"shop.test", "*.shop.test"}},
		{"SHOP.test.", []string{"shop.test", "*.shop.test"}},
		{"www.shop.test", []string{"shop.test", "*.shop.test"}},
		{"api.shop.test", []string{"api.shop.test", "*.api.shop.test"}},
		{"v1.api.shop.test", []string{"api.shop.test", "*.api.shop.test"}},
		{"blog.localhost", []string{"blog.localhost", "*.blog.localhost"}},
		{"a.b.shop.test", []string{"shop.test", "*.shop.test", "a.b.shop.test"}},
		{"other.test", nil},
		{"", nil},
	}
	for _, tc := range tests {
		t.Run(tc.server, func(t *testing.T) {
			got := m.certNames(tc.server)
			if !slices.Equal(got, tc.want) {
				t.Errorf("certNames(%q) = %v, want %v", tc.server, got, tc.want)
			}
		})
	}
}

// TestRoutes checks what the proxy is told for each state a project can
// be in: where a running service lives, and what a down one should say.
func TestRoutes(t *testing.T) {
	projects := []store.Project{
		{Name: "shop", Domains: []string{"shop.test"}, Services: []store.Service{
			{Name: "web", Stack: "php", PathPrefix: "/"},
			{Name: "api", Stack: "uvicorn", PathPrefix: "/api"},
		}},
		{Name: "ext", Domains: []string{"ext.test"}, Services: []store.Service{
			{Name: "web", Stack: "proxy", PathPrefix: "/", URL: "http://127.0.0.1:3000"},
		}},
	}
	running := &run{state: StateRunning, services: map[string]*serviceRun{
		"web": {upstream: stacks.Upstream{Network: "tcp", Address: "127.0.0.1:8081"}},
		"api": {upstream: stacks.Upstream{Network: "unix", Address: "/run/api.sock"}},
	}}
	tests := []struct {
		name     string
		run      *run
		wantUp   map[string]string // service -> upstream address ("" = down)
		wantDown string            // substring of Down for down services
		wantCmd  string
	}{
		{"stopped", nil, map[string]string{"web": "", "api": ""}, "stopped", "devport start shop"},
		{"running", running, map[string]string{"web": "127.0.0.1:8081", "api": "/run/api.sock"}, "", "devport start shop"},
		{"starting", &run{state: StateStarting}, map[string]string{"web": "", "api": ""}, "starting", "devport start shop"},
		{"crashed", &run{state: StateCrashed, reason: "service api exited: exit status 1"},
			map[string]string{"web": "", "api": ""}, "crashed (service api exited", "devport restart shop"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &Manager{runs: map[string]*run{}}
			if tc.run != nil {
				m.runs["shop"] = tc.run
			}
			rs := m.routes(projects, nil)
			if len(rs) != 3 {
				t.Fatalf("got %d routes, want 3", len(rs))
			}
			for _, r := range rs {
				if r.Project == "ext" {
					if r.URL == nil || r.URL.String() != "http://127.0.0.1:3000" || r.Upstream != nil {
						t.Errorf("external route: %+v", r)
					}
					continue
				}
				want := tc.wantUp[r.Service]
				switch {
				case want == "" && r.Upstream != nil:
					t.Errorf("%s: upstream %v, want none", r.Service, r.Upstream)
				case want == "" && !strings.Contains(r.Down, tc.wantDown):
					t.Errorf("%s: Down %q lacks %q", r.Service, r.Down, tc.wantDown)
				case want != "" && (r.Upstream == nil || r.Upstream.Address != want):
					t.Errorf("%s: upstream %v, want %s", r.Service, r.Upstream, want)
				}
				if r.StartCommand != tc.wantCmd {
					t.Errorf("%s: StartCommand %q, want %q", r.Service, r.StartCommand, tc.wantCmd)
				}
				if strip := r.Service == "api"; r.StripPrefix != strip {
					t.Errorf("%s: StripPrefix %v, want %v", r.Service, r.StripPrefix, strip)
				}
			}
		})
	}
}
