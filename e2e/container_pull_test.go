package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestContainerPullProgress: `devport start` of a container service whose
// image is missing pulls it from a real (local) registry and draws the
// progress line, and a pull that fails names the image and the fixes.
func TestContainerPullProgress(t *testing.T) {
	needDocker(t)
	need(t, "docker-registry (a local registry to pull from)", have("docker-registry"))
	e := newEnv(t)
	t.Cleanup(e.removeHomeDocker)
	reg := startRegistry(t, e.root)

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

// startRegistry runs Debian's docker-registry on a free loopback port until
// the test ends and returns its host:port (Docker talks plain HTTP to
// registries on 127.0.0.0/8).
func startRegistry(t *testing.T, root string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := filepath.Join(root, "registry")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "config.yml")
	err = os.WriteFile(conf, []byte(fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "data"), addr)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker-registry", "serve", conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry did not answer: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
