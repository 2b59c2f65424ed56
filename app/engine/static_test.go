package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
)

// TestStaticFolderStaysInside: a static folder in the project that is a
// symlink out of it ("files -> /etc", from a cloned repo or a slip) is
// refused when the route is added, by devport route and by devport.toml
// alike, and the detected static/ of a Python app is not routed. A folder
// outside the project that the user names is served as named.
func TestStaticFolderStaysInside(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	proj := t.TempDir()
	outside := t.TempDir()
	for _, f := range []struct{ path, body string }{
		{"index.html", "<p>hi</p>"},
		{"inside/a.css", "body{}"},
	} {
		p := filepath.Join(proj, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc", filepath.Join(proj, "files")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(ctx, wire.AddRequest{Dir: proj, Name: "site", Stack: stackdef.Static}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, folder string
		ok           bool
	}{
		{"a folder inside", filepath.Join(proj, "inside"), true},
		{"a symlink out of the project", filepath.Join(proj, "files"), false},
		{"through that symlink", filepath.Join(proj, "files", "ssl"), false},
		{"a folder elsewhere, named on purpose", outside, true},
		{"a folder that does not exist", filepath.Join(proj, "nope"), false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := "/r" + string(rune('a'+i))
			_, err := m.AddRoute(ctx, "site", wire.RouteRequest{Prefix: prefix, Static: tc.folder})
			if (err == nil) != tc.ok {
				t.Fatalf("AddRoute(%s) = %v, want ok %v", tc.folder, err, tc.ok)
			}
			if err != nil && wire.FieldOf(withField(err)) != "static" {
				t.Errorf("the error does not name the field: %v", err)
			}
		})
	}
	t.Run("detected static/ that leaves the project", func(t *testing.T) {
		py := t.TempDir()
		if err := os.WriteFile(filepath.Join(py, "main.py"), []byte("from fastapi import FastAPI\napp = FastAPI()\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/etc", filepath.Join(py, "static")); err != nil {
			t.Fatal(err)
		}
		p, err := m.plan(wire.AddRequest{Dir: py, Name: "py", Stack: stackdef.Uvicorn, App: "main:app"})
		if err != nil {
			testenv.Need(t, "uvicorn", false, err.Error())
		}
		if rs := staticFolderRoutes(p); len(rs) != 0 {
			t.Errorf("static -> /etc is routed: %+v", rs)
		}
	})
}
