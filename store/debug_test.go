package store

import (
	"context"
	"errors"
	"testing"
)

// TestSetServiceDebug checks migration 0009's column: off by default, on
// and off again through SetServiceDebug, and stored by AddProject.
func TestSetServiceDebug(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	if _, err := db.AddProject(ctx, Project{Name: "shop", Root: t.TempDir(), Domains: []string{"shop.test"},
		Services: []Service{{Name: "api", Stack: "uvicorn", App: "main:app"}, {Name: "web", Stack: "php", PathPrefix: "/web", Debug: true}}}); err != nil {
		t.Fatal(err)
	}
	debug := func() map[string]bool {
		t.Helper()
		p, err := db.Project(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, s := range p.Services {
			out[s.Name] = s.Debug
		}
		return out
	}
	if got := debug(); got["api"] || !got["web"] {
		t.Fatalf("as added: %v, want api off, web on", got)
	}
	for _, on := range []bool{true, false} {
		if err := db.SetServiceDebug(ctx, "shop", "api", on); err != nil {
			t.Fatal(err)
		}
		if got := debug(); got["api"] != on || !got["web"] {
			t.Errorf("after SetServiceDebug(api, %v): %v", on, got)
		}
	}
	for _, tc := range []struct{ name, project, service string }{
		{"no project", "nope", "api"},
		{"no service", "shop", "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := db.SetServiceDebug(ctx, tc.project, tc.service, true); !errors.Is(err, ErrNotFound) {
				t.Errorf("SetServiceDebug = %v, want ErrNotFound", err)
			}
		})
	}
}
