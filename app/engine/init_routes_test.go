package engine

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/manifest"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// TestInitWritesDetectedRoutes checks that devport init writes every route
// detection makes, static ones included, so that add of a fresh clone
// with the committed devport.toml plans the same project as add of the
// folder without it (issue 16, item 7).
func TestInitWritesDetectedRoutes(t *testing.T) {
	const fastapi = "from fastapi import FastAPI\napp = FastAPI()\n"
	const flask = "from flask import Flask\napp = Flask(__name__)\n"
	tests := []struct {
		name       string
		files      map[string]string
		wantRoutes []manifest.Route
	}{
		{"fastapi with static/", map[string]string{"main.py": fastapi, "static/app.css": "body{}"},
			[]manifest.Route{{Prefix: "/static", Static: "static", CacheControl: staticCacheControl}}},
		{"flask with static/", map[string]string{"app.py": flask, "static/app.js": ""},
			[]manifest.Route{{Prefix: "/static", Static: "static", CacheControl: staticCacheControl}}},
		{"fastapi without static/", map[string]string{"main.py": fastapi}, nil},
		{"php with static/", map[string]string{"index.php": "<?php echo 1;", "static/a.css": ""}, nil},
		{"static site", map[string]string{"index.html": "<p>hi</p>", "static/a.css": ""}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			// Two copies of one project, in folders of the same name.
			detected := writeTree(t, nil)
			clone := writeTree(t, nil)
			for _, dir := range []*string{&detected, &clone} {
				*dir = filepath.Join(*dir, "site")
				for name, body := range tc.files {
					p := filepath.Join(*dir, name)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			path, lines, err := InitFile(clone, false)
			if err != nil {
				t.Fatal(err)
			}
			f, err := manifest.Parse(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Routes, tc.wantRoutes) {
				t.Errorf("devport.toml routes = %+v, want %+v", f.Routes, tc.wantRoutes)
			}
			for _, r := range tc.wantRoutes {
				if want := describeRoute(r); !slices.Contains(lines, want) {
					t.Errorf("init printed %q, want the line %q", lines, want)
				}
			}

			// add with the file and add without it store the same project.
			stored := func(dir string) (store.Project, []store.Route) {
				t.Helper()
				m := testManager(t)
				if _, err := m.Add(ctx, wire.AddRequest{Dir: dir}); err != nil {
					if stacks.Check("uvicorn", "") != nil || stacks.Check("wsgi", "") != nil {
						testenv.Need(t, "the Python stacks", false, err.Error())
					}
					t.Fatalf("add %s: %v", dir, err)
				}
				p, routes, err := m.projectRoutes(ctx, "site")
				if err != nil {
					t.Fatal(err)
				}
				return sameProject(p, dir), sameRoutes(routes, dir)
			}
			wantP, wantR := stored(detected)
			gotP, gotR := stored(clone)
			if !reflect.DeepEqual(gotP, wantP) {
				t.Errorf("add with devport.toml stored\n%+v\nwithout:\n%+v", gotP, wantP)
			}
			if !reflect.DeepEqual(gotR, wantR) {
				t.Errorf("routes with devport.toml:\n%+v\nwithout:\n%+v", gotR, wantR)
			}
		})
	}
}

// sameProject is p without what differs between two copies of one
// project: its folder in its paths, and the store's ids and times.
func sameProject(p store.Project, root string) store.Project {
	p.Root, p.ID, p.CreatedAt = "", 0, time.Time{}
	p.Services = slices.Clone(p.Services)
	for i := range p.Services {
		p.Services[i].ID = 0
		p.Services[i].DocRoot = strings.TrimPrefix(p.Services[i].DocRoot, root)
	}
	return p
}

func sameRoutes(rs []store.Route, root string) []store.Route {
	out := slices.Clone(rs)
	for i := range out {
		out[i].ID = 0
		out[i].Target = strings.TrimPrefix(out[i].Target, root+string(filepath.Separator))
	}
	return out
}

// TestInitRefusesOverwrite keeps a committed devport.toml unless --force.
func TestInitRefusesOverwrite(t *testing.T) {
	dir := writeTree(t, map[string]string{"index.php": "<?php", "devport.toml": "# mine\n"})
	if _, _, err := InitFile(dir, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("InitFile over a devport.toml: %v, want a refusal naming --force", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "devport.toml")); string(b) != "# mine\n" {
		t.Errorf("devport.toml changed: %q", b)
	}
}
