package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestComposerInContainer: devport composer in the container runtime, in
// an image without Composer (the official php:X.Y-apache images have
// none): without the project's composer.phar it fails with one line that
// names the fixes and a non-zero exit code; with one, that composer.phar
// runs in the container and its exit code passes through.
func TestComposerInContainer(t *testing.T) {
	needDocker(t)
	testenv.Need(t, "image "+php84Image, exec.Command("docker", "image", "inspect", php84Image).Run() == nil, "scripts/build-test-images.sh builds it")
	testenv.Need(t, php84Image+" without composer (the official image has none)",
		exec.Command("docker", "run", "--rm", "--entrypoint", "sh", php84Image, "-c", "! command -v composer").Run() == nil,
		"rebuild the stand-in with scripts/build-test-images.sh")

	e := newEnv(t)
	e.dockerLeftovers(t)
	dir := e.phpSite("nocomposer", "")
	e.mustRun("add", dir, "--runtime", "container", "--php", "8.4")
	g := e.serve("--https-port", strconv.Itoa(freePort(t)), "--http-port", strconv.Itoa(freePort(t)))
	defer g.stop(t)
	e.mustRun("start", "nocomposer")
	defer e.mustRun("stop", "nocomposer")

	t.Run("no composer: one line naming the fixes", func(t *testing.T) {
		r := e.run("composer", "nocomposer", "--version")
		if r.code == 0 {
			t.Fatalf("exit 0, want non-zero\n%s%s", r.stdout, r.stderr)
		}
		msg := strings.TrimSpace(r.stderr)
		if strings.Contains(msg, "\n") {
			t.Errorf("stderr is not one line:\n%s", r.stderr)
		}
		for _, want := range []string{"composer.phar", "--runtime process"} {
			if !strings.Contains(msg, want) {
				t.Errorf("stderr %q does not name %q", msg, want)
			}
		}
	})
	t.Run("the project's composer.phar runs, its exit code passes through", func(t *testing.T) {
		phar := `<?php echo "fake composer ", implode(" ", array_slice($argv, 1)), "\n"; exit(3);` + "\n"
		if err := os.WriteFile(filepath.Join(dir, "composer.phar"), []byte(phar), 0o644); err != nil {
			t.Fatal(err)
		}
		r := e.run("composer", "nocomposer", "install", "--no-dev")
		if r.code != 3 || !strings.Contains(r.stdout, "fake composer install --no-dev") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 3 and the phar's output", r.code, r.stdout, r.stderr)
		}
	})
}
