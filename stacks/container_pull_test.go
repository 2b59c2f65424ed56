//go:build unix

package stacks

import (
	"context"
	"io"
	"os/exec"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/internal/testregistry"
)

// localRegistry starts Debian's docker-registry on a free loopback port
// (Docker trusts 127.0.0.0/8 registries over plain HTTP) and returns its
// host:port. It is stopped when the test ends.
func localRegistry(t *testing.T) string {
	t.Helper()
	return testregistry.Start(t, testenv.Tool(t, "docker-registry"), t.TempDir())
}

// tinyImage imports a one-layer image holding size random bytes (random,
// so that no other image shares the layer) and returns its tag.
func tinyImage(t *testing.T, cli *client.Client, tag string, size int) {
	t.Helper()
	buf := testregistry.Layer(t, size)
	rc, err := cli.ImageImport(t.Context(), image.ImportSource{Source: buf, SourceName: "-"}, tag, image.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
}

// TestPullProgress pulls an image that is not present from a real
// registry and checks the progress reports, then that a Start of a runner
// whose image can be pulled from nowhere names the image.
func TestPullProgress(t *testing.T) {
	cli := requireDocker(t)
	reg := localRegistry(t)
	ref := reg + "/devport-test/pull-progress:1"
	tinyImage(t, cli, ref, 4<<20)
	removeImage := func() {
		_, _ = cli.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true, PruneChildren: true})
	}
	t.Cleanup(removeImage)
	push := exec.Command("docker", "push", ref)
	if out, err := push.CombinedOutput(); err != nil {
		t.Fatalf("docker push: %v\n%s", err, out)
	}
	removeImage()
	if _, err := cli.ImageInspect(t.Context(), ref); err == nil {
		t.Fatal("image still present after removal")
	}

	var mu sync.Mutex
	var last, total int64
	layers := map[string]bool{}
	err := PullImage(t.Context(), cli, ref, func(layer string, cur, tot int64) {
		mu.Lock()
		defer mu.Unlock()
		layers[layer] = true
		if cur <= 0 && tot <= 0 {
			t.Errorf("empty progress report for %s", layer)
		}
		last, total = max(last, cur), max(total, tot)
	})
	if err != nil {
		t.Fatalf("PullImage: %v", err)
	}
	if _, err := cli.ImageInspect(t.Context(), ref); err != nil {
		t.Fatalf("image not present after the pull: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(layers) == 0 || total <= 0 || last < total/2 {
		t.Fatalf("progress: layers %v, at most %d of %d", layers, last, total)
	}
	t.Logf("progress: %d layer(s), up to %d of %d bytes", len(layers), last, total)
}
