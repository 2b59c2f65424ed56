package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestRoutesThroughEngine declares routes with devport route while an
// engine runs, and fetches through the real binary's proxy: a static
// folder next to an external URL route, the access log, and removal.
func TestRoutesThroughEngine(t *testing.T) {
	testenv.Tool(t, "curl")
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "origin saw %s", r.URL.Path)
	}))
	defer origin.Close()

	e := newEnv(t)
	public := filepath.Join(e.root, "public")
	if err := os.MkdirAll(public, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(public, "app.css"), []byte("body{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("add", "--name", "ext", "--proxy", origin.URL)
	httpsPort, httpPort := freePort(t), freePort(t)
	g := e.serve("--https-port", fmt.Sprint(httpsPort), "--http-port", fmt.Sprint(httpPort))
	caPath := strings.TrimSpace(e.mustRun("ca"))
	curl := func(path string) (headers, body string) {
		t.Helper()
		url := fmt.Sprintf("https://ext.test:%d%s", httpsPort, path)
		out, err := exec.Command("curl", "-sS", "-D", "-", "--cacert", caPath,
			"--resolve", fmt.Sprintf("ext.test:%d:127.0.0.1", httpsPort), url).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v\n%s", url, err, out)
		}
		h, b, _ := strings.Cut(string(out), "\r\n\r\n")
		return strings.ToLower(h), b
	}

	out := e.mustRun("route", "ext", "add", "/static", "--static", public, "--cache-control", "public, max-age=2592000")
	if !strings.Contains(out, "/static → static "+public) {
		t.Errorf("route add printed %q", out)
	}
	t.Run("static route served by the proxy", func(t *testing.T) {
		h, b := curl("/static/app.css")
		if b != "body{}" || !strings.Contains(h, "cache-control: public, max-age=2592000") ||
			!strings.Contains(h, "content-type: text/css") || !strings.Contains(h, "etag:") {
			t.Errorf("headers %q body %q", h, b)
		}
	})
	t.Run("other paths reach the URL route", func(t *testing.T) {
		if _, b := curl("/api/x"); b != "origin saw /api/x" {
			t.Errorf("body %q", b)
		}
	})
	t.Run("route ls", func(t *testing.T) {
		out := e.mustRun("route", "ext", "ls")
		for _, want := range []string{"/static", "static", public, "cache-control=public, max-age=2592000", origin.URL} {
			if !strings.Contains(out, want) {
				t.Errorf("route ls lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("access log", func(t *testing.T) {
		deadline := time.Now().Add(10 * time.Second)
		var out string
		for time.Now().Before(deadline) {
			out = e.mustRun("logs", "ext", "--access")
			if strings.Contains(out, `"path":"/static/app.css"`) && strings.Contains(out, `"path":"/api/x"`) {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Errorf("devport logs ext --access:\n%s", out)
	})
	t.Run("route rm", func(t *testing.T) {
		e.mustRun("route", "ext", "rm", "/static")
		if _, b := curl("/static/app.css"); b != "origin saw /static/app.css" {
			t.Errorf("after rm: body %q", b)
		}
	})
	if err := g.stop(t); err != nil {
		t.Errorf("engine exit: %v\n%s", err, g.output())
	}
}
