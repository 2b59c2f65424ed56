package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestContainerChain runs the chain proxy → Apache → uvicorn
// (examples/apache-chain) with its services moved one by one into
// containers: Apache as a process reaching a uvicorn container by its
// published port, then both in containers on the project's network. An
// Apache container cannot reach a uvicorn process, and says so.
func TestContainerChain(t *testing.T) {
	testenv.Tool(t, "curl")
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	needDocker(t)
	e := newEnv(t)
	e.dockerLeftovers(t)
	e.mustRun("add", e.copyExample("apache-chain", "chain"), "--stack", "php", "--chain", "/py")
	port := freePort(t)
	g := e.serve("--start", "chain", "--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	caPath := strings.TrimSpace(e.mustRun("ca"))
	fetch := func(t *testing.T, path string) string {
		t.Helper()
		return curl(t, "--cacert", caPath, "--resolve", fmt.Sprintf("chain.test:%d:127.0.0.1", port),
			fmt.Sprintf("https://chain.test:%d%s", port, path))
	}
	check := func(t *testing.T) {
		t.Helper()
		if body := fetch(t, "/"); !strings.Contains(body, "apache-chain php") || !strings.Contains(body, "https: on") {
			t.Errorf("GET /: %s", body)
		}
		body := fetch(t, "/py/items/7")
		var got map[string]string
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("GET /py/items/7 is not uvicorn's JSON: %v\n%s", err, body)
		}
		want := map[string]string{"hello": "from uvicorn behind apache", "path": "/py/items/7", "root_path": "/py",
			"scheme": "https", "url_for": fmt.Sprintf("https://chain.test:%d/py/x", port)}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q (all: %s)", k, got[k], v, body)
			}
		}
	}
	runtimes := func(t *testing.T) map[string]string {
		t.Helper()
		var ps []struct {
			Name     string
			Services []struct{ Name, Runtime string }
		}
		if err := json.Unmarshal([]byte(e.mustRun("ls", "--json")), &ps); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, p := range ps {
			for _, s := range p.Services {
				out[s.Name] = s.Runtime
			}
		}
		return out
	}

	t.Run("both processes", check)
	t.Run("Apache process, uvicorn container", func(t *testing.T) {
		e.mustRun("set", "chain", "--service", "py", "--runtime", "container", "--image", uvicornImage)
		check(t)
		if got := e.homeContainers(); len(got["chain/py"]) != 1 || len(got) != 1 {
			t.Errorf("containers: %v, want chain/py only", got)
		}
	})
	t.Run("both in containers on the project network", func(t *testing.T) {
		e.mustRun("set", "chain", "--service", "web", "--runtime", "container", "--image", phpImage)
		check(t)
		if got := e.homeContainers(); len(got["chain/py"]) != 1 || len(got["chain/web"]) != 1 {
			t.Errorf("containers: %v, want chain/py and chain/web", got)
		}
	})
	t.Run("an Apache container cannot reach a uvicorn process", func(t *testing.T) {
		r := e.run("set", "chain", "--service", "py", "--runtime", "process")
		t.Logf("refused: %s", strings.TrimSpace(r.stderr))
		if r.code == 0 || !strings.Contains(r.stderr, "can only forward /py to a service in a container too") {
			t.Errorf("exit %d, stderr %q; want the fix", r.code, r.stderr)
		}
		if got := runtimes(t); got["py"] != "container" || got["web"] != "container" {
			t.Errorf("runtimes after the refused switch: %v", got)
		}
		check(t)
	})
	if err := g.stop(t); err != nil {
		t.Fatalf("engine exit: %v\n%s", err, g.output())
	}
	if left := e.homeContainers(); len(left) > 0 {
		t.Errorf("containers after the engine stopped: %v", left)
	}
	if left := e.homeNetworks(); len(left) > 0 {
		t.Errorf("networks after the engine stopped: %v", left)
	}
	e.mustRun("rm", "chain")
}

// TestContainerSplit adds the split shape (examples/php-api-split) with
// --runtime container: both services run in containers from the images
// the settings name, and the proxy splits / and /api between them.
func TestContainerSplit(t *testing.T) {
	testenv.Tool(t, "curl")
	needDocker(t)
	e := newEnv(t)
	e.dockerLeftovers(t)
	e.mustRun("config", "set", "container.image.php", phpImage)
	e.mustRun("config", "set", "container.image.uvicorn", uvicornImage)
	dir := e.copyExample("php-api-split", "split")
	r := e.run("add", dir, "--runtime", "container", "--image", phpImage)
	if r.code == 0 || !strings.Contains(r.stderr, "--image names one image") {
		t.Errorf("--image with two services: exit %d, stderr %q", r.code, r.stderr)
	}
	out := e.mustRun("add", dir, "--runtime", "container")
	if !strings.Contains(out, "service api: uvicorn at /api, app api.main:app, in a container") ||
		!strings.Contains(out, "service web: php at /, in a container") {
		t.Errorf("add preview:\n%s", out)
	}
	port := freePort(t)
	g := e.serve("--start", "split", "--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	if got := e.homeContainers(); len(got["split/web"]) != 1 || len(got["split/api"]) != 1 {
		t.Errorf("containers: %v, want split/web and split/api", got)
	}
	caPath := strings.TrimSpace(e.mustRun("ca"))
	fetch := func(path string) string {
		t.Helper()
		return curl(t, "--cacert", caPath, "--resolve", fmt.Sprintf("split.test:%d:127.0.0.1", port),
			fmt.Sprintf("https://split.test:%d%s", port, path))
	}
	if body := fetch("/"); !strings.Contains(body, "php-api-split php") || !strings.Contains(body, "https: on") {
		t.Errorf("GET /: %s", body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(fetch("/api/items/5")), &got); err != nil {
		t.Fatal(err)
	}
	if got["root_path"] != "/api" || got["scheme"] != "https" || got["url"] != fmt.Sprintf("https://split.test:%d/api/items/5", port) {
		t.Errorf("GET /api/items/5: %v", got)
	}
	if err := g.stop(t); err != nil {
		t.Fatalf("engine exit: %v\n%s", err, g.output())
	}
	if left := e.homeContainers(); len(left) > 0 {
		t.Errorf("containers after the engine stopped: %v", left)
	}
}
