package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/store"
)

// TestAddRouteStaticResolvesAgainstProject checks that a static route's
// folder is the project's when it is relative, whatever the engine's own
// working directory, and that a folder that does not exist is refused at
// route add with its full path (issue 16, item 7).
func TestAddRouteStaticResolvesAgainstProject(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	root := t.TempDir()
	for _, d := range []string{"staticfiles", "media/uploads"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.db.AddProject(ctx, store.Project{Name: "site", Root: root, Domains: []string{"site.test"},
		Services: []store.Service{{Name: "web", Stack: "static", PathPrefix: "/", DocRoot: root}}}); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	t.Chdir(t.TempDir()) // the engine's cwd is not the project's
	tests := []struct {
		name       string
		prefix     string
		static     string
		wantTarget string // "" when refused
		wantErr    string // substring of the refusal
	}{
		{"relative", "/static", "staticfiles", filepath.Join(root, "staticfiles"), ""},
		{"relative with dots", "/media", "./media/../media/uploads", filepath.Join(root, "media", "uploads"), ""},
		{"absolute outside the project", "/shared", outside, outside, ""},
		{"relative missing", "/gone", "staticfile", "", filepath.Join(root, "staticfile")},
		{"absolute missing outside", "/gone2", filepath.Join(outside, "nope"), "", filepath.Join(outside, "nope")},
		{"relative file, not a folder", "/file", "devport.toml", "", filepath.Join(root, "devport.toml")},
	}
	if err := os.WriteFile(filepath.Join(root, "devport.toml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := m.AddRoute(ctx, "site", wire.RouteRequest{Prefix: tc.prefix, Static: tc.static})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("AddRoute(%q) = %+v, %v; want an error naming %s", tc.static, r, err, tc.wantErr)
				}
				if ErrorField(err) != "static" {
					t.Errorf("error field = %q, want static", ErrorField(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("AddRoute(%q): %v", tc.static, err)
			}
			if r.Target != tc.wantTarget {
				t.Errorf("AddRoute(%q) target = %q, want %q", tc.static, r.Target, tc.wantTarget)
			}
		})
	}
}
