package engine

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

func TestChainLinks(t *testing.T) {
	p := store.Project{Name: "shop", Services: []store.Service{
		{Name: "api", Stack: "uvicorn", PathPrefix: "/py"},
		{Name: "ext", Stack: "proxy", PathPrefix: "/ext"},
		{Name: "other", Stack: "uvicorn", PathPrefix: "/api"},
		{Name: "web", Stack: "php", PathPrefix: "/"},
	}}
	route := func(prefix, target string) store.Route {
		return store.Route{Project: "shop", PathPrefix: prefix, Kind: store.RouteService, Target: target}
	}
	tests := []struct {
		name      string
		declared  []store.Route
		wantLinks map[string][]chainLink
		wantOrder []string
	}{
		{name: "no routes: split shape, store order", wantOrder: []string{"api", "ext", "other", "web"}},
		{name: "route to php at a service's prefix", declared: []store.Route{route("/py", "web")},
			wantLinks: map[string][]chainLink{"web": {{prefix: "/py", target: "api"}}},
			wantOrder: []string{"api", "ext", "other", "web"}},
		{name: "two links, targets first", declared: []store.Route{route("/py", "web"), route("/api", "web")},
			wantLinks: map[string][]chainLink{"web": {{prefix: "/py", target: "api"}, {prefix: "/api", target: "other"}}},
			wantOrder: []string{"api", "other", "ext", "web"}},
		{name: "route to a uvicorn service is no chain", declared: []store.Route{route("/py", "other")}, wantOrder: []string{"api", "ext", "other", "web"}},
		{name: "prefix no service owns", declared: []store.Route{route("/none", "web")}, wantOrder: []string{"api", "ext", "other", "web"}},
		{name: "a proxy service is not a target", declared: []store.Route{route("/ext", "web")}, wantOrder: []string{"api", "ext", "other", "web"}},
		{name: "static route ignored", declared: []store.Route{{Project: "shop", PathPrefix: "/py", Kind: store.RouteStatic, Target: "/srv"}},
			wantOrder: []string{"api", "ext", "other", "web"}},
		{name: "another project's route ignored", declared: []store.Route{{Project: "blog", PathPrefix: "/py", Kind: store.RouteService, Target: "web"}},
			wantOrder: []string{"api", "ext", "other", "web"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			links := chainLinks(p, tc.declared)
			if len(links) != len(tc.wantLinks) {
				t.Fatalf("links = %+v, want %+v", links, tc.wantLinks)
			}
			for k, v := range tc.wantLinks {
				if !slices.Equal(links[k], v) {
					t.Errorf("links[%s] = %+v, want %+v", k, links[k], v)
				}
			}
			var order []string
			for _, s := range startOrder(p, links) {
				order = append(order, s.Name)
			}
			if !slices.Equal(order, tc.wantOrder) {
				t.Errorf("start order = %v, want %v", order, tc.wantOrder)
			}
		})
	}

	t.Run("links resolve to started upstreams", func(t *testing.T) {
		up := stacks.Upstream{Network: "unix", Address: "/run/api.sock"}
		got, err := stackLinks([]chainLink{{prefix: "/py", target: "api"}}, map[string]*serviceRun{"api": {upstream: up}})
		if err != nil || len(got) != 1 || got[0].Prefix != "/py" || got[0].Upstream != up {
			t.Fatalf("stackLinks = %+v, %v", got, err)
		}
		if _, err := stackLinks([]chainLink{{prefix: "/py", target: "api"}}, nil); err == nil || !strings.Contains(err.Error(), "service api") {
			t.Fatalf("missing target: err = %v", err)
		}
	})
}

func TestPlanChain(t *testing.T) {
	fastapi := "from fastapi import FastAPI\napp = FastAPI()\n"
	tests := []struct {
		name    string
		files   map[string]string
		stack   string
		prefix  string
		wantApp string
		wantErr string
	}{
		{name: "py folder", files: map[string]string{"index.php": "", "py/main.py": fastapi}, stack: "php", prefix: "/py", wantApp: "py.main:app"},
		{name: "trailing slash", files: map[string]string{"index.php": "", "py/app.py": fastapi}, stack: "php", prefix: "/py/", wantApp: "py.app:app"},
		{name: "not php", files: map[string]string{"main.py": fastapi, "py/main.py": fastapi}, stack: "uvicorn", prefix: "/py", wantErr: "must be php"},
		{name: "no folder", files: map[string]string{"index.php": ""}, stack: "php", prefix: "/py", wantErr: "does not exist"},
		{name: "no app", files: map[string]string{"index.php": "", "py/main.py": "print(1)\n"}, stack: "php", prefix: "/py", wantErr: "found no FastAPI"},
		{name: "Flask is not ASGI", files: map[string]string{"index.php": "", "py/app.py": "from flask import Flask\napp = Flask(__name__)\n"}, stack: "php", prefix: "/py", wantErr: "found no FastAPI"},
		{name: "nested prefix", files: map[string]string{"index.php": ""}, stack: "php", prefix: "/a/b", wantErr: "one path segment"},
		{name: "no slash", files: map[string]string{"index.php": ""}, stack: "php", prefix: "py", wantErr: "one path segment"},
		{name: "same name as web", files: map[string]string{"index.php": "", "web/main.py": fastapi}, stack: "php", prefix: "/web", wantErr: "one path segment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				path := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p := store.Project{Name: "shop", Root: dir, Services: []store.Service{{Name: "web", Stack: tc.stack, Runtime: "process"}}}
			r, err := planChain(&p, tc.prefix)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Services) != 2 || !reflect.DeepEqual(p.Services[1], store.Service{Name: "py", Stack: "uvicorn", Runtime: "process", App: tc.wantApp, PathPrefix: "/py"}) {
				t.Errorf("services = %+v", p.Services)
			}
			if r != (store.Route{Project: "shop", PathPrefix: "/py", Kind: store.RouteService, Target: "web"}) {
				t.Errorf("route = %+v", r)
			}
			if links := chainLinks(p, []store.Route{r}); len(links["web"]) != 1 || links["web"][0].target != "py" {
				t.Errorf("the planned project is no chain: %+v", links)
			}
		})
	}
}

// TestAddChainAndStatic adds both through Manager.Add against a real store.
func TestAddChainAndStatic(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	write := func(dir string, files map[string]string) {
		for name, body := range files {
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("chain", func(t *testing.T) {
		if err := stacks.Check("php", t.TempDir()); err != nil {
			testenv.Need(t, "the php stack", false, err.Error())
		}
		dir := filepath.Join(t.TempDir(), "chain")
		write(dir, map[string]string{"index.php": "<?php echo 1;", "py/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
		p, err := m.Add(ctx, wire.AddRequest{Dir: dir, Stack: "php", Chain: "/py"})
		if err != nil {
			t.Fatal(err)
		}
		rs, err := m.db.Routes(ctx, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if links := chainLinks(p, rs); len(links["web"]) != 1 {
			t.Fatalf("stored project is no chain: %+v, routes %+v", p.Services, rs)
		}
		// The route table sends /py to Apache, not to uvicorn.
		for _, r := range m.routes([]store.Project{p}, rs) {
			if r.PathPrefix == "/py" && r.Service != "web" {
				t.Errorf("/py routed to %s, want web", r.Service)
			}
		}
	})
	t.Run("chain on a project that is not php adds nothing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "notphp")
		write(dir, map[string]string{"index.html": "hi", "py/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
		if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Chain: "/py"}); err == nil || !strings.Contains(err.Error(), "php") {
			t.Fatalf("err = %v", err)
		}
		if _, err := m.db.Project(ctx, "notphp"); err == nil {
			t.Fatal("project stored after a failed add")
		}
	})
	t.Run("static detected and routed", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "site")
		write(dir, map[string]string{"index.html": "<h1>hi</h1>", "style.css": "h1{}"})
		p, err := m.Add(ctx, wire.AddRequest{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if p.Services[0].Stack != "static" {
			t.Fatalf("stack = %q, want static", p.Services[0].Stack)
		}
		rs := m.routes([]store.Project{p}, nil) // stopped: a folder needs no start
		if len(rs) != 1 || rs[0].Static != dir || rs[0].CacheControl != "no-cache" || rs[0].Down != "" {
			t.Fatalf("routes = %+v", rs)
		}
	})
	t.Run("static refuses an app", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "site2")
		write(dir, map[string]string{"index.html": "hi"})
		if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Stack: "static", App: "main:app"}); err == nil || !strings.Contains(err.Error(), "static") {
			t.Fatalf("err = %v", err)
		}
	})
}
