package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestPythonStaticFolder: a FastAPI project with a static/ folder gets
// /static served by the proxy itself, as nginx's `location /static` would,
// and the files of its public/ folder served ahead of the app, as nginx's
// `try_files $uri @app` would, while every other path still reaches the
// app. The preview of `devport add` says so before the project exists.
func TestPythonStaticFolder(t *testing.T) {
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	testenv.Tool(t, "curl")
	e := newEnv(t)
	dir := e.copyExample("fastapi-api", "assets")
	if err := os.MkdirAll(filepath.Join(dir, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "static", "site.css"), []byte("body { color: teal }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "public"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "public", "robots.txt"), []byte("User-agent: *\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "public", "index.html"), []byte("<p>not the app</p>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := e.mustRun("add", dir)
	for _, want := range []string{"static/ served by the proxy at /static", "public/ files served by the proxy before the app", "added assets"} {
		if !strings.Contains(out, want) {
			t.Errorf("add output lacks %q:\n%s", want, out)
		}
	}
	if rows := e.mustRun("route", "assets", "ls"); !strings.Contains(rows, "/static") || !strings.Contains(rows, "static") ||
		!strings.Contains(rows, "(files of "+filepath.Join(dir, "public")+" first)") {
		t.Errorf("route ls:\n%s", rows)
	}
	if out := e.mustRun("ls", "--json"); !strings.Contains(out, `"files_first": "`+filepath.Join(dir, "public")+`"`) {
		t.Errorf("ls --json lacks the public folder:\n%s", out)
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
	t.Run("public/ files before the app", func(t *testing.T) {
		if body := curl(t, "--cacert", ca, "--resolve", resolve, fmt.Sprintf("https://assets.test:%d/robots.txt", port)); body != "User-agent: *\n" {
			t.Errorf("/robots.txt: %q", body)
		}
		// A folder is never a file: / stays the app's, index.html or not.
		if body := curl(t, "--cacert", ca, "--resolve", resolve, fmt.Sprintf("https://assets.test:%d/", port)); !strings.Contains(body, "from fastapi-api") {
			t.Errorf("/ with public/index.html: %s", body)
		}
	})
}
