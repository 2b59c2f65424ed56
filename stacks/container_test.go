//go:build unix

package stacks

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

// The local stand-in images scripts/build-test-images.sh builds: no
// registry is reachable on the test machines.
const (
	testPHPImage     = "devport-test/php-apache:bookworm"
	testUvicornImage = "devport-test/python:bookworm"
)

// requireDocker skips (or fails) unless an engine answers and the stand-in
// image is present, and returns a client.
func requireDocker(t *testing.T, images ...string) *client.Client {
	t.Helper()
	cli, err := NewDockerClient()
	if err != nil {
		testenv.Need(t, "a Docker client", false, err.Error())
	}
	t.Cleanup(func() { cli.Close() })
	if err := PingDocker(t.Context(), cli); err != nil {
		testenv.Need(t, "a Docker engine", false, err.Error()+"; scripts/start-dockerd.sh starts one")
	}
	for _, img := range images {
		if _, err := cli.ImageInspect(t.Context(), img); err != nil {
			testenv.Need(t, "image "+img, false, err.Error()+"; scripts/build-test-images.sh builds it")
		}
	}
	return cli
}

// containerSpec is a testSpec for the container runtime with its own data
// folder, whose containers and volumes are checked to be gone at the end.
func containerSpec(t *testing.T, cli *client.Client, stack, image string, files map[string]string) Spec {
	t.Helper()
	s := testSpec(t, stack, files)
	s.Image = image
	s.Home = filepath.Join(filepath.Dir(s.Dir), "home")
	t.Cleanup(func() {
		ctx := context.Background()
		if ids := homeContainers(t, cli, s.Home); len(ids) > 0 {
			t.Errorf("containers of home %s left behind: %v", s.Home, ids)
		}
		_ = RemoveContainers(ctx, cli, s.Home, "")
	})
	return s
}

// homeContainers lists the ids of every container of home.
func homeContainers(t *testing.T, cli *client.Client, home string) []string {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", LabelHome+"="+home))})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	return ids
}

func mustContainerRunner(t *testing.T, spec Spec) *containerRunner {
	t.Helper()
	r, err := NewContainerRunner(spec)
	if err != nil {
		t.Fatalf("NewContainerRunner: %v", err)
	}
	return r.(*containerRunner)
}

func TestContainerPHP(t *testing.T) {
	cli := requireDocker(t, testPHPImage)
	spec := containerSpec(t, cli, stackdef.PHP, testPHPImage, phpSite)
	r := mustContainerRunner(t, spec)
	t0 := time.Now()
	up := startRunner(t, r)
	t.Logf("start to ready: %v", time.Since(t0))

	t.Run("published on 127.0.0.1 only", func(t *testing.T) {
		if up.Network != "tcp" || !strings.HasPrefix(up.Address, "127.0.0.1:") {
			t.Fatalf("upstream %v, want tcp 127.0.0.1:PORT", up)
		}
		info, err := cli.ContainerInspect(t.Context(), r.ContainerID())
		if err != nil {
			t.Fatal(err)
		}
		for port, bs := range info.HostConfig.PortBindings {
			for _, b := range bs {
				if b.HostIP != "127.0.0.1" {
					t.Errorf("port %s bound on %q", port, b.HostIP)
				}
			}
		}
		if info.HostConfig.Init == nil || !*info.HostConfig.Init {
			t.Error("HostConfig.Init is not set")
		}
		for k, want := range map[string]string{LabelProject: "shop", LabelService: "web", LabelHome: spec.Home} {
			if got := info.Config.Labels[k]; got != want {
				t.Errorf("label %s = %q, want %q", k, got, want)
			}
		}
	})
	t.Run("front controller through .htaccess", func(t *testing.T) {
		code, body := get(t, up, "/some/route?x=1", nil)
		if code != 200 || !strings.Contains(body, "front controller") || !strings.Contains(body, "uri=/some/route?x=1") {
			t.Fatalf("GET /some/route: %d %q", code, body)
		}
	})
	t.Run("workers of root's folder are the image's www-data", func(t *testing.T) {
		code, body := get(t, up, "/upload.php", nil)
		if code != 200 || !strings.Contains(body, "uid=33\ngid=33\nwrote=no\n") {
			t.Fatalf("GET /upload.php: %d %q, want uid=33 gid=33 (www-data) that cannot write", code, body)
		}
	})
	t.Run("static file from public/", func(t *testing.T) {
		if code, body := get(t, up, "/hello.txt", nil); code != 200 || body != "static file\n" {
			t.Fatalf("GET /hello.txt: %d %q", code, body)
		}
	})
	t.Run("HTTPS=on from X-Forwarded-Proto", func(t *testing.T) {
		_, body := get(t, up, "/x", http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-For": {"203.0.113.9"}})
		if !strings.Contains(body, "https=on") || !strings.Contains(body, "remote=203.0.113.9") {
			t.Fatalf("body %q, want https=on and remote=203.0.113.9", body)
		}
		if _, body := get(t, up, "/x", nil); strings.Contains(body, "https=on") {
			t.Fatalf("plain request sees HTTPS: %q", body)
		}
	})
	t.Run("access log in the service log", func(t *testing.T) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, _ := os.ReadFile(spec.LogPath)
			if strings.Contains(string(b), "GET /hello.txt") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("log %s lacks the access line:\n%s", spec.LogPath, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("second Start returns the same upstream", func(t *testing.T) {
		up2, err := r.Start(t.Context())
		if err != nil || up2 != up {
			t.Fatalf("Start again: %v %v, want %v", up2, err, up)
		}
	})
	t.Run("stop removes the container", func(t *testing.T) {
		t0 := time.Now()
		stopRunner(t, r)
		t.Logf("stop took %v", time.Since(t0))
		if ids := homeContainers(t, cli, spec.Home); len(ids) != 0 {
			t.Fatalf("containers left after Stop: %v", ids)
		}
		if !isClosed(r.Exited()) || r.Err() != nil {
			t.Fatalf("after Stop: exited %v err %v", isClosed(r.Exited()), r.Err())
		}
	})
}

func TestContainerUvicorn(t *testing.T) {
	t.Parallel() // it mostly waits for pip in the container: alongside the other parallel tests
	cli := requireDocker(t, testUvicornImage)
	files := map[string]string{
		"main.py": `from fastapi import FastAPI, Request
import localdep
app = FastAPI()
@app.get("/where")
def where(request: Request):
    return {"scheme": request.url.scheme, "root_path": request.scope.get("root_path"), "dep": localdep.VALUE}
`,
		"requirements.txt": "--no-index\n./wheels/localdep-1.0-py3-none-any.whl\n",
	}
	spec := containerSpec(t, cli, stackdef.Uvicorn, testUvicornImage, files)
	writeWheel(t, filepath.Join(spec.Dir, "wheels", "localdep-1.0-py3-none-any.whl"), "localdep", "1.0", "VALUE = 'from the volume'\n")
	spec.App = "main:app"
	spec.PathPrefix = "/api"
	t.Cleanup(func() {
		_ = cli.VolumeRemove(context.Background(), depsVolumeName(spec.Home, spec.Project, spec.Service), true)
	})
	r := mustContainerRunner(t, spec)

	up := startRunner(t, r)
	check := func(t *testing.T) {
		t.Helper()
		code, body := get(t, up, "/where", http.Header{"X-Forwarded-Proto": {"https"}})
		if code != 200 || !strings.Contains(body, `"scheme":"https"`) || !strings.Contains(body, `"root_path":"/api"`) ||
			!strings.Contains(body, `"dep":"from the volume"`) {
			t.Fatalf("GET /where: %d %s", code, body)
		}
	}
	t.Run("serves with proxy headers, root path and installed requirements", check)
	stopRunner(t, r)

	t.Run("unchanged requirements are not reinstalled", func(t *testing.T) {
		up = startRunner(t, r)
		check(t)
		b, _ := os.ReadFile(spec.LogPath)
		if n := strings.Count(string(b), "installing requirements.txt"); n != 1 {
			t.Fatalf("requirements installed %d times, want 1:\n%s", n, b)
		}
		if !strings.Contains(string(b), "requirements.txt unchanged") {
			t.Fatalf("log lacks the reuse line:\n%s", b)
		}
		stopRunner(t, r)
	})
	t.Run("the volume carries the labels", func(t *testing.T) {
		v, err := cli.VolumeInspect(t.Context(), depsVolumeName(spec.Home, spec.Project, spec.Service))
		if err != nil || v.Labels[LabelHome] != spec.Home {
			t.Fatalf("volume: %+v %v", v.Labels, err)
		}
	})
}

func TestContainerCrash(t *testing.T) {
	cli := requireDocker(t, testPHPImage)
	spec := containerSpec(t, cli, stackdef.PHP, testPHPImage, phpSite)
	r := mustContainerRunner(t, spec)
	startRunner(t, r)
	if err := cli.ContainerKill(t.Context(), r.ContainerID(), "KILL"); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, r.Exited(), 10*time.Second, "Exited after the container was killed")
	var exit *containerExit
	if err := r.Err(); !errors.As(err, &exit) {
		t.Fatalf("Err = %v, want a container exit", err)
	}
}

func TestContainerStartErrors(t *testing.T) {
	cli := requireDocker(t, testPHPImage)
	tests := []struct {
		name   string
		stack  string
		change func(*testing.T, *Spec)
		want   []string
		is     error
	}{
		{"missing image names the image and the fixes", stackdef.PHP, func(t *testing.T, s *Spec) { s.Image = "devport-test/no-such-image:never" },
			[]string{"devport-test/no-such-image:never", "docker pull", "docker load", "--image"}, ErrImageUnavailable},
		{"missing project folder", stackdef.PHP, func(t *testing.T, s *Spec) { s.Dir = filepath.Join(s.Dir, "nope") },
			[]string{"does not exist"}, os.ErrNotExist},
		{"private project folder", stackdef.PHP, func(t *testing.T, s *Spec) {
			if err := os.Chmod(s.Dir, 0o700); err != nil {
				t.Fatal(err)
			}
		}, []string{"chmod o+rx", "www-data"}, ErrNotReadable},
		{"docker down", stackdef.PHP, func(t *testing.T, s *Spec) { t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock") },
			[]string{"docker is not running", "sudo systemctl start docker", "--runtime process"}, ErrDockerUnavailable},
		{"app that exits at once shows its last words", stackdef.Uvicorn, func(t *testing.T, s *Spec) { s.App = "nomodule:app" },
			[]string{"container " + testUvicornImage + " exited at start: exit status 1", `Could not import module "nomodule"`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, files := testPHPImage, phpSite
			if tc.stack == stackdef.Uvicorn {
				img, files = testUvicornImage, map[string]string{"main.py": "x = 1\n"}
			}
			spec := containerSpec(t, cli, tc.stack, img, files)
			spec.App = "main:app"
			tc.change(t, &spec)
			t.Cleanup(func() {
				_ = cli.VolumeRemove(context.Background(), depsVolumeName(spec.Home, spec.Project, spec.Service), true)
			})
			r := mustContainerRunner(t, spec)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			_, err := r.Start(ctx)
			if err == nil {
				stopRunner(t, r)
				t.Fatal("Start succeeded")
			}
			stopRunner(t, r)
			t.Logf("error: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q", w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error is not %v", tc.is)
			}
		})
	}
}

// writeWheel writes a minimal pure-Python wheel with one module, so that a
// requirements.txt can be installed without a package index.
func writeWheel(t *testing.T, path, name, version, source string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	info := name + "-" + version + ".dist-info/"
	files := []struct{ name, body string }{
		{name + ".py", source},
		{info + "METADATA", "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n"},
		{info + "WHEEL", "Wheel-Version: 1.0\nGenerator: devport-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	for _, fl := range files {
		w, err := zw.Create(fl.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(fl.body)); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(fl.body))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", fl.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(fl.body))
	}
	record.WriteString(info + "RECORD,,\n")
	w, err := zw.Create(info + "RECORD")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(record.String())); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestContainerAdopt: a new runner for the same service and data folder (an
// engine restarted after a SIGKILL) takes over the running container
// instead of starting another one; another data folder never touches it,
// and a foreign container in the way of the name is reported.
func TestContainerAdopt(t *testing.T) {
	cli := requireDocker(t, testPHPImage)
	spec := containerSpec(t, cli, stackdef.PHP, testPHPImage, phpSite)
	r1 := mustContainerRunner(t, spec)
	up1 := startRunner(t, r1)
	id := r1.ContainerID()
	r2 := mustContainerRunner(t, spec)
	t.Cleanup(func() { stopRunner(t, r2) })

	t.Run("same home adopts", func(t *testing.T) {
		up2, err := r2.Start(t.Context())
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		if r2.ContainerID() != id || up2 != up1 {
			t.Fatalf("adopted %s at %v, want %s at %v", shortID(r2.ContainerID()), up2, shortID(id), up1)
		}
		if code, _ := get(t, up2, "/hello.txt", nil); code != 200 {
			t.Fatalf("GET after adoption: %d", code)
		}
		if ids := homeContainers(t, cli, spec.Home); len(ids) != 1 {
			t.Fatalf("containers after adoption: %v", ids)
		}
	})
	t.Run("another home leaves it alone", func(t *testing.T) {
		other := containerSpec(t, cli, stackdef.PHP, testPHPImage, phpSite)
		other.Project, other.Service = spec.Project, spec.Service
		r3 := mustContainerRunner(t, other)
		startRunner(t, r3)
		if r3.ContainerID() == id {
			t.Fatal("another data folder adopted this one's container")
		}
		info, err := cli.ContainerInspect(t.Context(), id)
		if err != nil {
			t.Fatalf("first container after another home started: %v", err)
		}
		if !info.State.Running {
			t.Fatalf("first container after another home started: %+v", info.State)
		}
		stopRunner(t, r3)
	})
	t.Run("foreign container with the name is a conflict", func(t *testing.T) {
		other := containerSpec(t, cli, stackdef.PHP, testPHPImage, phpSite)
		name := containerName(other.Home, other.Project, other.Service)
		created, err := cli.ContainerCreate(t.Context(), &container.Config{Image: testPHPImage}, nil, nil, nil, name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
		})
		r := mustContainerRunner(t, other)
		_, err = r.Start(t.Context())
		stopRunner(t, r)
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "docker rm -f "+name) {
			t.Fatalf("Start = %v, want a name conflict naming docker rm -f %s", err, name)
		}
	})
}
