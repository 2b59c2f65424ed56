package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPythonStaticFolder: a FastAPI project with a static/ folder gets
// /static served by the proxy itself, as nginx's `location /static` would,
// while every other path still reaches the app.
func TestPythonStaticFolder(t *testing.T) {
	need(t, "python3-uvicorn and python3-fastapi", haveUvicorn())
	need(t, "curl", have("curl"))
	e := newEnv(t)
	dir := e.copyExample("fastapi-api", "assets")
	if err := os.MkdirAll(filepath.Join(dir, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "static", "site.css"), []byte("body { color: teal }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := e.mustRun("add", dir)
	if !strings.Contains(out, "added assets") {
		t.Errorf("add: %s", out)
	}
	if rows := e.mustRun("route", "assets", "ls"); !strings.Contains(rows, "/static") || !strings.Contains(rows, "static") {
		t.Errorf("route ls:\n%s", rows)
	}
	port := freePort(t)
	g := e.serve("--start", "assets", "--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	defer g.stop(t)
	ca := strings.TrimSpace(e.mustRun("ca"))
	resolve := fmt.Sprintf("assets.test:%d:127.0.0.1", port)
	head, err := exec.Command("curl", "-sS", "-D", "-", "-o", "/dev/null", "--cacert", ca, "--resolve", resolve,
		fmt.Sprintf("https://assets.test:%d/static/site.css", port)).Output()
	if err != nil {
		t.Fatal(err)
	}
	h := strings.ToLower(string(head))
	for _, want := range []string{" 200", "content-type: text/css", "cache-control: no-cache", "etag:"} {
		if !strings.Contains(h, want) {
			t.Errorf("static file headers lack %q:\n%s", want, head)
		}
	}
	if body := curl(t, "--cacert", ca, "--resolve", resolve, fmt.Sprintf("https://assets.test:%d/items/3", port)); !strings.Contains(body, `"item_id":3`) {
		t.Errorf("the app behind the static route: %s", body)
	}
}
