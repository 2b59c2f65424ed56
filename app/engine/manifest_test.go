package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/manifest"
	"github.com/devport/devport/store"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDetectSplit(t *testing.T) {
	const fastapi = "from fastapi import FastAPI\napp = FastAPI()\n"
	tests := []struct {
		name    string
		files   map[string]string
		wantApp string // "" : not the split shape
		docroot string
	}{
		{"php with api/main.py", map[string]string{"index.php": "<?php", "api/main.py": fastapi}, "api.main:app", ""},
		{"composer and public/", map[string]string{"composer.json": "{}", "public/index.php": "<?php", "api/app.py": fastapi}, "api.app:app", "public"},
		{"no api folder", map[string]string{"index.php": "<?php"}, "", ""},
		{"api is Flask", map[string]string{"index.php": "<?php", "api/app.py": "from flask import Flask\napp = Flask(__name__)\n"}, "", ""},
		{"not php", map[string]string{"main.py": fastapi, "api/main.py": fastapi}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			f, ok := detectSplit(dir)
			if ok != (tc.wantApp != "") {
				t.Fatalf("split = %v, want %v", ok, tc.wantApp != "")
			}
			if !ok {
				return
			}
			want := map[string]manifest.Service{
				"web": {Stack: "php", DocRoot: tc.docroot},
				"api": {Stack: "uvicorn", Prefix: "/api", App: tc.wantApp},
			}
			if !reflect.DeepEqual(f.Services, want) {
				t.Errorf("services %+v, want %+v", f.Services, want)
			}
			if err := f.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestAddSourceRefusesFlags(t *testing.T) {
	dir := writeTree(t, map[string]string{"index.php": "<?php", "devport.toml": "[services.web]\nstack = \"php\"\n"})
	_, _, _, err := addSource(wire.AddRequest{Dir: dir, Stack: "uvicorn"})
	if ve, ok := errors.AsType[*store.ValidationError](err); !ok || ve.Field != "stack" {
		t.Errorf("got %v, want a ValidationError on stack", err)
	}
}

// TestStoreRoundTrip stores a devport.toml's project and writes it back.
func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	src := `name = "shop"
domains = ["shop.test", "www.shop.test"]

[services.api]
stack = "gunicorn"
prefix = "/api"
app = "api.main:app"
workers = 3
env = { A = "1", B = "two words" }

[services.web]
stack = "php"
docroot = "public"

# the store keeps routes by prefix
[[routes]]
prefix = "/ext"
url = "http://127.0.0.1:9"
strip = true

[[routes]]
prefix = "/static"
static = "static"
cache_control = "public, max-age=60"

[hooks]
before_start = "true"
`
	dir := writeTree(t, map[string]string{"public/index.php": "<?php", "static/a.css": "", "devport.toml": src})
	want, err := manifest.Parse(filepath.Join(dir, "devport.toml"))
	if err != nil {
		t.Fatal(err)
	}
	p, ok, err := m.addFromFile(ctx, wire.AddRequest{Dir: dir})
	if err != nil || !ok {
		t.Fatalf("add: %v %v", ok, err)
	}
	if p.Services[0].Workers != 3 || p.Services[0].Env["B"] != "two words" || p.BeforeStart != "true" {
		t.Errorf("stored %+v", p)
	}
	stored, err := m.db.Project(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	routes, err := m.db.Routes(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	got, warnings, err := fileFromProject(stored, routes)
	if err != nil || len(warnings) > 0 {
		t.Fatal(err, warnings)
	}
	// Compare as written: the File's unexported line table differs.
	w, g := manifest.Write(want), manifest.Write(got)
	if string(w) != string(g) {
		t.Errorf("wrote back\n%s\nwant\n%s", g, w)
	}
}

// TestAddPlannedRollsBack checks that a route the store refuses removes
// the project added just before it.
func TestAddPlannedRollsBack(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	dir := t.TempDir()
	p := store.Project{Name: "shop", Root: dir, Domains: []string{"shop.test"},
		Services: []store.Service{{Name: "web", Stack: "php"}}}
	_, err := m.addPlanned(ctx, p, []store.Route{{Project: "shop", PathPrefix: "/x", Kind: store.RouteService, Target: "nope"}})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("got %v, want the route's error", err)
	}
	if _, err := m.db.Project(ctx, "shop"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("project left behind: %v", err)
	}
}
