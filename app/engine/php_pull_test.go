//go:build unix

package engine

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/client"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/internal/testregistry"
	"github.com/devport/devport/stacks"
)

// TestSetPHPPullProgress: devport set NAME --php X.Y on a container project
// whose php:X.Y-apache is not present pulls it, and the pull's progress
// reaches the event stream as a start's does (EventProgress, "IMAGE
// LAYER"), so the CLI draws it rather than wait in silence. No registry
// with php images is reachable here: the pull of php:8.1-apache is sent to
// a local registry holding a stand-in, through the same stacks.PullImage.
// Then a pull that fails (php:8.0-apache, a tag nowhere) names the image
// and the fixes, and leaves the project's version as it was.
func TestSetPHPPullProgress(t *testing.T) {
	testenv.Tool(t, "docker")
	testenv.Need(t, "a running Docker engine", exec.Command("docker", "info").Run() == nil, "scripts/start-dockerd.sh starts one")
	testenv.Need(t, "image php:8.4-apache", exec.Command("docker", "image", "inspect", "php:8.4-apache").Run() == nil, "scripts/build-test-images.sh builds it")
	testenv.Need(t, "docker-registry (a local registry to pull from)", testenv.Have("docker-registry"), testenv.InstallFix)
	for _, img := range []string{"php:8.1-apache", "php:8.0-apache"} {
		if exec.Command("docker", "image", "inspect", img).Run() == nil {
			t.Skipf("%s is present: this test needs it missing", img)
		}
	}
	ctx := context.Background()
	reg := testregistry.Start(t, testenv.Tool(t, "docker-registry"), t.TempDir())
	stand := reg + "/devport-test/php-pull:8.1-apache"
	pushTinyImage(t, stand, 4<<20)

	m := testManager(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.php"), []byte("<?php echo PHP_VERSION;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "shop", Stack: "php", Runtime: wire.RuntimeContainer, PHP: "8.4"}); err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		progress []wire.Event
	)
	events, stop := m.Subscribe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range events {
			if e.Kind == wire.EventProgress {
				mu.Lock()
				progress = append(progress, e)
				mu.Unlock()
			}
		}
	}()
	defer func() { stop(); <-done }()

	t.Run("a pull reports its progress", func(t *testing.T) {
		pulled := ""
		pullPHPImage = func(ctx context.Context, cli *client.Client, ref string, fn func(string, int64, int64)) error {
			pulled = ref
			return stacks.PullImage(ctx, cli, stand, fn)
		}
		defer func() { pullPHPImage = stacks.PullImage }()
		if _, err := m.SetPHP(ctx, "shop", "", "8.1"); err != nil {
			t.Fatal(err)
		}
		if pulled != "php:8.1-apache" {
			t.Errorf("pulled %q, want php:8.1-apache", pulled)
		}
		mu.Lock()
		defer mu.Unlock()
		var bytes int64
		for _, e := range progress {
			if e.Project != "shop" || e.Service != "web" || !strings.HasPrefix(e.Detail, "php:8.1-apache ") {
				t.Errorf("progress event %+v, want project shop, service web, detail \"php:8.1-apache LAYER\"", e)
			}
			bytes = max(bytes, e.Total)
		}
		if len(progress) == 0 || bytes == 0 {
			t.Errorf("no progress with a size among %d events", len(progress))
		}
	})
	t.Run("a failed pull names the image and leaves the version", func(t *testing.T) {
		_, err := m.SetPHP(ctx, "shop", "", "8.0")
		if err == nil {
			t.Fatal("SetPHP 8.0 succeeded with no image anywhere")
		}
		for _, want := range []string{"php:8.0-apache is not present and the pull failed", "docker pull php:8.0-apache", "docker load"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q lacks %q", err, want)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
		p, _ := m.db.Project(ctx, "shop")
		if got := p.Services[0].PHP; got != "8.1" {
			t.Errorf("version %q after a failed pull, want 8.1", got)
		}
	})
}

// pushTinyImage pushes a one-layer image of size random bytes as ref (a
// local registry's), and removes it locally, so that a pull downloads it.
func pushTinyImage(t *testing.T, ref string, size int) {
	t.Helper()
	buf := testregistry.Layer(t, size)
	docker := func(stdin []byte, args ...string) {
		t.Helper()
		cmd := exec.Command("docker", args...)
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	docker(buf.Bytes(), "import", "-", ref)
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
	docker(nil, "push", ref)
	docker(nil, "rmi", ref)
}
