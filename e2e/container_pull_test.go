package e2e

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/internal/testregistry"
)

// TestContainerPullProgress: `devport start` of a container service whose
// image is missing pulls it from a real (local) registry and draws the
// progress line, and a pull that fails names the image and the fixes.
func TestContainerPullProgress(t *testing.T) {
	needDocker(t)
	testenv.Need(t, "docker-registry (a local registry to pull from)", testenv.Have("docker-registry"), testenv.InstallFix)
	e := newEnv(t)
	t.Cleanup(e.removeHomeDocker)
	reg := testregistry.Start(t, testenv.Tool(t, "docker-registry"), filepath.Join(e.root, "registry"))

	// An image that is not present: the uvicorn stand-in plus a random
	// 8 MB layer, pushed to the registry and removed locally.
	ref := reg + "/devport-test/pull-e2e:1"
	ctxDir := filepath.Join(e.root, "build")
	if err := os.MkdirAll(ctxDir, 0o755); err != nil {
		t.Fatal(err)
	}
	blob := make([]byte, 8<<20)
	_, _ = rand.Read(blob)
	if err := os.WriteFile(filepath.Join(ctxDir, "blob"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM "+uvicornImage+"\nCOPY blob /blob\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	docker := func(args ...string) {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	docker("build", "-q", "-t", ref, ctxDir)
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
	docker("push", ref)
	docker("rmi", ref)

	apiDir := e.copyExample("fastapi-api", "api")
	e.mustRun("add", apiDir, "--name", "api", "--runtime", "container", "--image", ref)
	e.mustRun("add", apiDir, "--name", "gone", "--runtime", "container", "--image", reg+"/devport-test/never:1")
	httpsPort, httpPort := freePort(t), freePort(t)
	g := e.serve("--https-port", fmt.Sprint(httpsPort), "--http-port", fmt.Sprint(httpPort))
	defer g.stop(t)

	t.Run("start pulls with a progress line", func(t *testing.T) {
		r := e.run("start", "api")
		if r.code != 0 {
			t.Fatalf("start: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "pulling "+ref+" [") || !strings.Contains(r.stderr, "MB") {
			t.Errorf("no progress line in stderr %q", r.stderr)
		}
		if !strings.Contains(r.stdout, "api is running") {
			t.Errorf("stdout %q", r.stdout)
		}
		e.mustRun("stop", "api")
	})
	t.Run("failed pull names the image and the fixes", func(t *testing.T) {
		r := e.run("start", "gone")
		if r.code == 0 {
			t.Fatal("start succeeded")
		}
		for _, w := range []string{reg + "/devport-test/never:1", "docker pull", "docker load", "--image"} {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr %q lacks %q", r.stderr, w)
			}
		}
	})
	e.mustRun("rm", "api")
	e.mustRun("rm", "gone")
}
