//go:build unix

package stacks

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/devport/devport/internal/stackdef"
)

// TestApacheFolderNames serves projects from folders whose names Apache's
// config treats specially unless devport takes care: quoted values (a
// space), and <Directory> patterns ("[", "*", "?" are wildcards there: a
// folder named "my[1]" matched no <Directory>, and every request got 403).
func TestApacheFolderNames(t *testing.T) {
	requireStack(t, stackdef.PHP)
	for _, name := range []string{"my shop", "my[1]", "x[ab]y", "a]b", "a*b", "q?x", "ü#%{x}", "it's"} {
		t.Run(name, func(t *testing.T) {
			spec := testSpec(t, stackdef.PHP, nil)
			spec.Dir = filepath.Join(filepath.Dir(spec.Dir), name)
			if err := os.Mkdir(spec.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFiles(t, spec.Dir, map[string]string{"index.php": "<?php echo 'served';", ".env": "secret",
				"private/.htaccess": "Require all denied\n", "private/x.txt": "x"})
			up := startRunner(t, mustRunner(t, spec))
			if status, body := get(t, up, "/", nil); status != http.StatusOK || body != "served" {
				t.Errorf("GET / = %d %q, want 200 served", status, body)
			}
			if status, _ := get(t, up, "/.env", nil); status != http.StatusForbidden && status != http.StatusNotFound {
				t.Errorf("GET /.env = %d, want 403 or 404", status)
			}
			if status, _ := get(t, up, "/private/x.txt", nil); status != http.StatusForbidden {
				t.Errorf("GET /private/x.txt = %d, want 403 from its .htaccess (AllowOverride)", status)
			}
		})
	}
}
