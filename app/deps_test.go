package app

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencyDirection holds the architecture in place: store, certs,
// proxy and stacks never import each other (app wires them), proxy stays on
// the standard library, and only app may know all of them.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/devport/devport/"
	tests := []struct {
		pkg       string
		forbidden []string // import path prefixes
	}{
		{"store", []string{mod + "certs", mod + "proxy", mod + "stacks", mod + "resolve", mod + "app", "fyne.io/", "github.com/docker/"}},
		{"certs", []string{mod + "store", mod + "proxy", mod + "stacks", mod + "resolve", mod + "app", "fyne.io/", "github.com/docker/"}},
		{"proxy", []string{mod + "store", mod + "certs", mod + "stacks", mod + "resolve", mod + "app", mod + "assets", "fyne.io/", "github.com/"}},
		{"stacks", []string{mod + "store", mod + "certs", mod + "proxy", mod + "resolve", mod + "app", "fyne.io/"}},
		{"resolve", []string{mod, "fyne.io/", "github.com/"}},
		{"assets", []string{mod, "fyne.io/", "github.com/"}},
		// devport.toml: plain structs, converted to store types by app; the
		// path prefix rule is shared with store (internal/pathprefix).
		{"manifest", []string{mod, "fyne.io/", "github.com/docker/"}},
		// devport export: plain structs filled by app, standard library
		// only, plus assets for the gunicorn worker it shares with stacks.
		{"export", []string{mod, "fyne.io/", "github.com/"}},
		// Fyne only under app/; the windowing half (GL, GLFW, systray,
		// DBus) only in app/desktop, so CLI commands and unit tests never
		// load it.
		{"app", []string{mod + "app/gui", mod + "app/desktop", "fyne.io/", "github.com/go-gl/", "github.com/godbus/"}},
		{"app/gui", []string{mod + "app/desktop", "fyne.io/fyne/v2/app", "fyne.io/fyne/v2/internal/driver/glfw", "fyne.io/systray", "github.com/go-gl/", "github.com/godbus/"}},
	}
	// allowed are exceptions to forbidden: exact import paths, by package.
	allowed := map[string][]string{"export": {mod + "assets", mod + "internal/stackdef"}, "manifest": {mod + "internal/pathprefix", mod + "internal/stackdef"}}
	for _, tc := range tests {
		t.Run(tc.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", mod+tc.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", tc.pkg, err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				if dep == mod+tc.pkg || slices.Contains(allowed[tc.pkg], dep) {
					continue
				}
				for _, f := range tc.forbidden {
					if strings.HasPrefix(dep, f) {
						t.Errorf("%s depends on %s, which the architecture forbids (see docs/architecture.md)", tc.pkg, dep)
					}
				}
			}
		})
	}
}
