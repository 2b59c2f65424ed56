package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
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
	running := &run{state: wire.StateRunning, services: map[string]*serviceRun{
		"web": {upstream: stacks.Upstream{Network: "tcp", Address: "127.0.0.1:8081"}},
		"api": {upstream: stacks.Upstream{Network: "unix", Address: "/run/api.sock"}},
	}}
	starting, crashed := newRun(wire.StateStarting), newRun(wire.StateCrashed)
	crashed.reason = "service api exited: exit status 1"
	failed := newRun(wire.StateFailed)
	failed.reason = "crashed 5 times in 1m0s, so devport stopped restarting it"
	tests := []struct {
		name     string
		run      *run
		wantUp   map[string]string // service -> upstream address ("" = down)
		wantDown string            // substring of Down for down services
		wantCmd  string
		pending  bool // requests wait for the run's start
	}{
		{"stopped", nil, map[string]string{"web": "", "api": ""}, "stopped", "devport start shop", false},
		{"running", running, map[string]string{"web": "127.0.0.1:8081", "api": "/run/api.sock"}, "", "devport start shop", false},
		{"starting", starting, map[string]string{"web": "", "api": ""}, "starting", "devport start shop", true},
		{"crashed", crashed, map[string]string{"web": "", "api": ""}, "crashed (service api exited", "devport restart shop", true},
		{"failed", failed, map[string]string{"web": "", "api": ""}, "failed: crashed 5 times", "devport start shop", false},
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
				if wait := r.Pending != nil; wait != tc.pending || (wait && r.Pending != tc.run.ready.ch) {
					t.Errorf("%s: Pending %v, want the run's gate: %v", r.Service, r.Pending, tc.pending)
				}
				if strip := r.Service == "api"; r.StripPrefix != strip {
					t.Errorf("%s: StripPrefix %v, want %v", r.Service, r.StripPrefix, strip)
				}
			}
		})
	}
}

// TestDeclaredRoutes adds routes through the Manager, as `devport route`
// does with or without an engine, and checks the proxy routes built from
// them: a declared / replaces the service's own and takes its upstream
// and limits; a static route keeps its folder and Cache-Control.
func TestDeclaredRoutes(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	proj, public := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(proj, "index.php"), []byte("<?php echo 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(ctx, wire.AddRequest{Dir: proj, Name: "shop", Stack: stackdef.PHP}); err != nil {
		testenv.Need(t, "the php stack", !errors.As(err, new(*stacks.MissingError)), err.Error())
		t.Fatal(err)
	}
	for _, req := range []wire.RouteRequest{
		{Prefix: "/static", Static: public, CacheControl: "public, max-age=2592000"},
		{Prefix: "/", Service: "web", ReadTimeout: 30 * time.Second, MaxBody: 10 << 20},
	} {
		if _, err := m.AddRoute(ctx, "shop", req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.AddRoute(ctx, "shop", wire.RouteRequest{Prefix: "/x", Static: public, URL: "http://127.0.0.1:1"}); wire.FieldOf(withField(err)) != "route" {
		t.Errorf("two targets: %v, want a route error", err)
	}
	ps, err := m.db.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	declared, err := m.db.Routes(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	m.runs["shop"] = &run{state: wire.StateRunning, services: map[string]*serviceRun{
		"web": {upstream: stacks.Upstream{Network: "tcp", Address: "127.0.0.1:8081"}},
	}}
	rs := m.routes(ps, declared)
	delete(m.runs, "shop") // a pretend run: nothing for Close to stop
	if len(rs) != 2 {
		t.Fatalf("got %d routes, want / (declared, replacing the service default) and /static: %+v", len(rs), rs)
	}
	for _, r := range rs {
		switch r.PathPrefix {
		case "/":
			if r.Upstream == nil || r.Upstream.Address != "127.0.0.1:8081" || r.Limits.Read != 30*time.Second || r.Limits.MaxBody != 10<<20 {
				t.Errorf("/ route: %+v", r)
			}
		case "/static":
			if r.Static != public || r.CacheControl != "public, max-age=2592000" {
				t.Errorf("/static route: %+v", r)
			}
		default:
			t.Errorf("unexpected route %+v", r)
		}
	}
	if err := m.RemoveRoute(ctx, "shop", "/static"); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveRoute(ctx, "shop", "/static"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing it again: %v, want not found", err)
	}
}
