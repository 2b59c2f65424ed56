package resolve

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// need skips a test whose dependency is missing, or fails it when
// DEVPORT_REQUIRE_ALL=1 (as e2e's need does).
func need(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("DEVPORT_REQUIRE_ALL") == "1" {
		t.Fatalf("%s is required (DEVPORT_REQUIRE_ALL=1): run scripts/install-deps.sh test as root", what)
	}
	t.Skipf("%s is missing; scripts/install-deps.sh test installs it", what)
}

func have(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
