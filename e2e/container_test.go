package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// The stand-in images scripts/build-test-images.sh builds (no registry is
// reachable on the test machines).
const (
	phpImage     = "devport-test/php-apache:bookworm"
	uvicornImage = "devport-test/python:bookworm"
)

// needDocker skips (or fails) unless an engine answers and the stand-in
// images exist.
func needDocker(t *testing.T) {
	t.Helper()
	testenv.Tool(t, "docker")
	testenv.Need(t, "a running Docker engine", exec.Command("docker", "info").Run() == nil, "scripts/start-dockerd.sh starts one")
	for _, img := range []string{phpImage, uvicornImage} {
		testenv.Need(t, "image "+img, exec.Command("docker", "image", "inspect", img).Run() == nil, "scripts/build-test-images.sh builds it")
	}
}

// homeContainers maps "project/service" to the ids of the containers (any
// state) that carry the env's data folder label.
func (e *env) homeContainers() map[string][]string {
	e.t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--no-trunc", "--filter", "label=devport.home="+e.home,
		"--format", `{{.ID}} {{.Label "devport.project"}}/{{.Label "devport.service"}}`).Output()
	if err != nil {
		e.t.Fatalf("docker ps: %v", err)
	}
	m := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			m[f[1]] = append(m[f[1]], f[0])
		}
	}
	return m
}

// homeNetworks lists the ids of the Docker networks of the env's data
// folder.
func (e *env) homeNetworks() []string {
	e.t.Helper()
	out, err := exec.Command("docker", "network", "ls", "-q", "--filter", "label=devport.home="+e.home).Output()
	if err != nil {
		e.t.Fatalf("docker network ls: %v", err)
	}
	return strings.Fields(string(out))
}

// removeHomeDocker removes whatever containers, volumes and networks of
// the env are left, so a failed test leaves nothing behind.
func (e *env) removeHomeDocker() {
	filter := "label=devport.home=" + e.home
	if out, _ := exec.Command("docker", "ps", "-aq", "--filter", filter).Output(); len(strings.TrimSpace(string(out))) > 0 {
		_ = exec.Command("docker", append([]string{"rm", "-f"}, strings.Fields(string(out))...)...).Run()
	}
	if out, _ := exec.Command("docker", "volume", "ls", "-q", "--filter", filter).Output(); len(strings.TrimSpace(string(out))) > 0 {
		_ = exec.Command("docker", append([]string{"volume", "rm", "-f"}, strings.Fields(string(out))...)...).Run()
	}
	if ids := e.homeNetworks(); len(ids) > 0 {
		_ = exec.Command("docker", append([]string{"network", "rm"}, ids...)...).Run()
	}
}

// dockerLeftovers registers a cleanup that fails the test when a
// container or network of the env is left, then removes everything.
func (e *env) dockerLeftovers(t *testing.T) {
	t.Cleanup(func() {
		if left := e.homeContainers(); len(left) > 0 {
			t.Errorf("containers left behind: %v", left)
		}
		if left := e.homeNetworks(); len(left) > 0 {
			t.Errorf("networks left behind: %v", left)
		}
		e.removeHomeDocker()
	})
}

// TestContainerSites runs the PHP and FastAPI examples as containers behind
// the proxy over trusted HTTPS, switches one between the runtimes, survives
// a SIGKILL of the engine, and leaves no container behind.
func TestContainerSites(t *testing.T) {
	testenv.Need(t, "root (the system trust store)", os.Geteuid() == 0, testenv.InstallFix)
	needDocker(t)
	testenv.Need(t, "apache2 (the process runtime)", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	testenv.Tool(t, "curl")
	testenv.Need(t, "certutil (libnss3-tools)", testenv.Have("certutil"), testenv.InstallFix)
	testenv.Need(t, "update-ca-certificates", testenv.Have("update-ca-certificates") || fileExists("/usr/sbin/update-ca-certificates"), testenv.InstallFix)

	e := newEnv(t)
	e.dockerLeftovers(t)
	shopDir := e.copyExample("php-shop", "shop")
	apiDir := e.copyExample("fastapi-api", "fastapi")

	out := e.mustRun("add", shopDir, "--runtime", "container", "--image", phpImage)
	if !strings.Contains(out, "added shop (php, container)") {
		t.Errorf("add php: %q", out)
	}
	e.mustRun("add", apiDir, "--name", "fastapi", "--runtime", "container", "--image", uvicornImage)

	httpsPort, httpPort := freePort(t), freePort(t)
	ports := []string{"--https-port", fmt.Sprint(httpsPort), "--http-port", fmt.Sprint(httpPort)}
	t0 := time.Now()
	g := e.serve(append([]string{"--start", "shop,fastapi"}, ports...)...)
	t.Logf("engine ready with both containers in %v", time.Since(t0))
	base := func(host string) string { return fmt.Sprintf("https://%s:%d", host, httpsPort) }
	resolve := func(host string) string { return fmt.Sprintf("%s:%d:127.0.0.1", host, httpsPort) }

	trustLock(t)
	caPath := strings.TrimSpace(e.mustRun("ca"))
	t.Cleanup(func() { untrustAndCheck(t, e, caPath) })
	e.mustRun("trust")

	checkShop := func(t *testing.T) {
		t.Helper()
		body := curl(t, "--resolve", resolve("shop.test"), base("shop.test")+"/some/route?x=1")
		for _, want := range []string{"php-shop says hello", "path: /some/route", "https: on", "host: shop.test", "client: 127.0.0.1"} {
			if !strings.Contains(body, want) {
				t.Errorf("want %q in:\n%s", want, body)
			}
		}
	}
	checkAPI := func(t *testing.T) {
		t.Helper()
		body := curl(t, "--resolve", resolve("fastapi.test"), base("fastapi.test")+"/")
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if got["scheme"] != "https" || got["hello"] != "from fastapi-api" || !strings.HasPrefix(fmt.Sprint(got["host"]), "fastapi.test") {
			t.Errorf("fastapi saw %v", got)
		}
	}
	onePerService := func(t *testing.T, want ...string) map[string][]string {
		t.Helper()
		got := e.homeContainers()
		var keys []string
		for k, ids := range got {
			keys = append(keys, k)
			if len(ids) != 1 {
				t.Errorf("%s has %d containers, want 1: %v", k, len(ids), ids)
			}
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("containers for %v, want %v", keys, want)
		}
		return got
	}

	t.Run("php container over trusted https", checkShop)
	t.Run("fastapi container over trusted https", checkAPI)
	t.Run("one container per service", func(t *testing.T) { onePerService(t, "fastapi/web", "shop/web") })
	t.Run("ls shows the runtime", func(t *testing.T) {
		out := e.mustRun("ls")
		if !strings.Contains(out, "container") {
			t.Errorf("ls:\n%s", out)
		}
	})

	t.Run("switch shop to process and back", func(t *testing.T) {
		out := e.mustRun("set", "shop", "--runtime", "process")
		if !strings.Contains(out, "shop/web runs as process (running)") {
			t.Errorf("set process: %q", out)
		}
		checkShop(t)
		onePerService(t, "fastapi/web")
		out = e.mustRun("set", "shop", "--runtime", "container")
		if !strings.Contains(out, "shop/web runs as container "+phpImage+" (running)") {
			t.Errorf("set container: %q", out)
		}
		checkShop(t)
		onePerService(t, "fastapi/web", "shop/web")
	})
	t.Run("bad switch leaves the store unchanged", func(t *testing.T) {
		r := e.run("set", "shop", "--runtime", "container", "--image", "Not A Valid Image")
		if r.code == 0 || !strings.Contains(r.stderr, "image") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		r = e.run("set", "shop", "--runtime", "container", "--image", "devport-test/no-such-image:never")
		if r.code == 0 || !strings.Contains(r.stderr, "devport-test/no-such-image:never") || !strings.Contains(r.stderr, "docker pull") {
			t.Errorf("missing image: exit %d, stderr %q", r.code, r.stderr)
		}
		out := e.mustRun("ls", "--json")
		if !strings.Contains(out, `"image": "`+phpImage+`"`) || !strings.Contains(out, `"state": "running"`) {
			t.Errorf("after failed switches:\n%s", out)
		}
		checkShop(t)
	})

	before := onePerService(t, "fastapi/web", "shop/web")
	// A stale container of a project that does not exist (any more).
	if err := exec.Command("docker", "create", "--label", "devport.home="+e.home, "--label", "devport.project=gone",
		"--label", "devport.service=web", phpImage).Run(); err != nil {
		t.Fatalf("docker create: %v", err)
	}
	// And the network of a project that is not running any more.
	if err := exec.Command("docker", "network", "create", "--label", "devport.home="+e.home, "--label", "devport.project=gone",
		"devport-gone-"+filepath.Base(e.home)).Run(); err != nil {
		t.Fatalf("docker network create: %v", err)
	}
	t.Run("SIGKILL of the engine, restart adopts the containers", func(t *testing.T) {
		if err := g.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-g.done
		g.done <- nil
		t0 := time.Now()
		g = e.serve(append([]string{"--start", "shop,fastapi"}, ports...)...)
		t.Logf("engine back with adopted containers in %v", time.Since(t0))
		if !strings.Contains(g.output(), "removed stale container") {
			t.Errorf("engine did not report the stale container:\n%s", g.output())
		}
		if !strings.Contains(g.output(), "removed stale network devport-gone-") {
			t.Errorf("engine did not report the stale network:\n%s", g.output())
		}
		if nets := e.homeNetworks(); len(nets) != 2 { // shop's and fastapi's, adopted with their containers
			t.Errorf("networks after the restart: %v, want the two running projects'", nets)
		}
		after := onePerService(t, "fastapi/web", "shop/web")
		for k, ids := range before {
			if !slices.Equal(after[k], ids) {
				t.Errorf("%s: container %v replaced by %v (want adopted, not restarted)", k, ids, after[k])
			}
		}
		checkShop(t)
		checkAPI(t)
	})
	t.Run("stop leaves no container", func(t *testing.T) {
		if err := g.stop(t); err != nil {
			t.Fatalf("engine exit: %v\n%s", err, g.output())
		}
		if left := e.homeContainers(); len(left) > 0 {
			t.Errorf("containers after the engine stopped: %v", left)
		}
		e.mustRun("rm", "shop")
		e.mustRun("rm", "fastapi")
		out, _ := exec.Command("docker", "volume", "ls", "-q", "--filter", "label=devport.home="+e.home).Output()
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("volumes left after rm: %s", s)
		}
	})
}

// TestContainerDockerDown: without a Docker engine, adding or switching to
// the container runtime fails with how to start Docker, the store stays as
// it was, and the process runtime keeps working.
func TestContainerDockerDown(t *testing.T) {
	testenv.Need(t, "apache2 (the process runtime)", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	e := newEnv(t)
	shopDir := e.copyExample("php-shop", "shop")
	down := func(args ...string) result {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(e.environ(), "DOCKER_HOST=unix://"+e.root+"/no-docker.sock")
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return result{out.String(), errb.String(), code}
	}
	t.Run("add --runtime container says how to start docker", func(t *testing.T) {
		r := down("add", shopDir, "--runtime", "container")
		if r.code == 0 || !strings.Contains(r.stderr, "docker is not running") || !strings.Contains(r.stderr, "sudo systemctl start docker") {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		if out := e.mustRun("ls"); !strings.Contains(out, "no projects yet") {
			t.Fatalf("store changed:\n%s", out)
		}
	})
	t.Run("process runtime still works", func(t *testing.T) {
		if r := down("add", shopDir); r.code != 0 || !strings.Contains(r.stdout, "added shop (php, process)") {
			t.Fatalf("add: exit %d %q %q", r.code, r.stdout, r.stderr)
		}
		r := down("set", "shop", "--runtime", "container")
		if r.code == 0 || !strings.Contains(r.stderr, "docker is not running") {
			t.Fatalf("set container: exit %d, stderr %q", r.code, r.stderr)
		}
		if out := e.mustRun("ls", "--json"); !strings.Contains(out, `"runtime": "process"`) {
			t.Fatalf("runtime changed:\n%s", out)
		}
	})
}
