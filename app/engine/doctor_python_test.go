package engine

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/store"
)

// TestCheckPythonService imports each service's server and app with the
// interpreter it runs on (Debian's), and names the fix when it cannot.
func TestCheckPythonService(t *testing.T) {
	needVenv(t)
	tests := []struct {
		name       string
		files      map[string]string
		app        string
		bareVenv   bool   // a .venv that sees nothing of the system's
		wantOK     bool   // both checks pass
		wantDetail string // in the failing check's detail
		wantFix    string // in its fix
	}{
		{"imports", map[string]string{"main.py": fastapiMain}, "main:app", false, true, "imports main:app", ""},
		{"no such module", map[string]string{"main.py": fastapiMain}, "nope:app", false, false, "has no module nope", "--app MODULE:ATTRIBUTE"},
		{"no such attribute", map[string]string{"main.py": fastapiMain}, "main:api", false, false, "has no attribute api", "--app MODULE:ATTRIBUTE"},
		{"missing dependency", map[string]string{"main.py": "import devport_nothere\n" + fastapiMain, "requirements.txt": "devport_nothere\n"}, "main:app", false, false,
			"imports devport_nothere", "devport add " /* DIR */},
		{"app raises", map[string]string{"main.py": "raise RuntimeError('no SECRET')\n"}, "main:app", false, false, "RuntimeError: no SECRET", "devport python api"},
		{"venv without the server", map[string]string{"main.py": fastapiMain}, "main:app", true, false, "cannot import uvicorn", "devport python api -m pip install uvicorn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			if tc.bareVenv {
				if out, err := exec.Command("/usr/bin/python3", "-m", "venv", "--without-pip", filepath.Join(dir, ".venv")).CombinedOutput(); err != nil {
					t.Fatalf("venv: %v\n%s", err, out)
				}
			}
			p := store.Project{Name: "api", Root: dir}
			s := store.Service{Name: "web", Stack: "uvicorn", App: tc.app}
			checks := checkPythonService(context.Background(), p, s, "")
			var failed []Check
			for _, c := range checks {
				if !c.OK {
					failed = append(failed, c)
				}
			}
			if tc.wantOK {
				if len(failed) > 0 || len(checks) != 2 || !strings.Contains(checks[1].Detail, tc.wantDetail) {
					t.Fatalf("checks = %+v", checks)
				}
				return
			}
			if len(failed) == 0 || !strings.Contains(failed[0].Detail, tc.wantDetail) || !strings.Contains(failed[0].Fix, tc.wantFix) {
				t.Fatalf("checks = %+v; want the first failing one with %q, fix %q", checks, tc.wantDetail, tc.wantFix)
			}
		})
	}
}
