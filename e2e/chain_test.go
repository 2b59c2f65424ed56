package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestChainAndStatic adds examples/apache-chain (proxy → Apache →
// uvicorn) and examples/static-site with the real binary, and fetches both
// through the engine over HTTPS verified against devport's CA.
func TestChainAndStatic(t *testing.T) {
	testenv.Tool(t, "curl")
	e := newEnv(t)
	httpsPort, httpPort := freePort(t), freePort(t)
	g := e.serve("--https-port", fmt.Sprint(httpsPort), "--http-port", fmt.Sprint(httpPort))
	caPath := strings.TrimSpace(e.mustRun("ca"))
	// fetch returns the lowercased response headers and the body.
	fetch := func(host, path string, extra ...string) (string, string) {
		t.Helper()
		url := fmt.Sprintf("https://%s:%d%s", host, httpsPort, path)
		out := curl(t, append([]string{"-D", "-", "--cacert", caPath,
			"--resolve", fmt.Sprintf("%s:%d:127.0.0.1", host, httpsPort), url}, extra...)...)
		h, b, _ := strings.Cut(out, "\r\n\r\n")
		return strings.ToLower(h), b
	}

	t.Run("apache chain", func(t *testing.T) {
		testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
		testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
		dir := e.copyExample("apache-chain", "chain")
		// e.mustRun fails the parent test; a subtest checks results itself.
		must := func(args ...string) string {
			t.Helper()
			r := e.run(args...)
			if r.code != 0 {
				t.Fatalf("devport %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
			}
			return r.stdout
		}
		out := must("add", dir, "--name", "chain", "--stack", "php", "--chain", "/py")
		if !strings.Contains(out, "added chain") {
			t.Errorf("add printed %q", out)
		}
		must("start", "chain")
		defer must("stop", "chain")

		if _, b := fetch("chain.test", "/"); !strings.Contains(b, "apache-chain php") || !strings.Contains(b, "https: on") {
			t.Errorf("GET / = %q, want PHP over https", b)
		}
		_, b := fetch("chain.test", "/py/items/7")
		var got map[string]string
		if err := json.Unmarshal([]byte(b), &got); err != nil {
			t.Fatalf("GET /py/items/7 is not uvicorn's JSON: %v\n%s", err, b)
		}
		want := map[string]string{
			"hello":     "from uvicorn behind apache",
			"path":      "/py/items/7",
			"root_path": "/py",
			"scheme":    "https",
			"url_for":   fmt.Sprintf("https://chain.test:%d/py/x", httpsPort),
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q (all: %s)", k, got[k], v, b)
			}
		}
		ls := must("route", "chain", "ls")
		if !strings.Contains(ls, "/py") || !strings.Contains(ls, "(Apache forwards to py)") {
			t.Errorf("route ls does not show /py → web:\n%s", ls)
		}
	})

	t.Run("static site", func(t *testing.T) {
		dir := e.copyExample("static-site", "site")
		r := e.run("add", dir, "--name", "site")
		if r.code != 0 {
			t.Fatalf("devport add: exit %d\n%s", r.code, r.stderr)
		}
		out := r.stdout
		if !strings.Contains(out, "static") || strings.Contains(out, "devport start") {
			t.Errorf("add printed %q, want the static stack and no start hint", out)
		}
		// Served without a start: there is no process.
		h, b := fetch("site.test", "/")
		if !strings.Contains(b, "<h1>static-site</h1>") || !strings.Contains(h, "content-type: text/html") {
			t.Errorf("GET / = %q\n%s", b, h)
		}
		h, b = fetch("site.test", "/style.css")
		if !strings.Contains(b, "#2a6") || !strings.Contains(h, "content-type: text/css") ||
			!strings.Contains(h, "cache-control: no-cache") || !strings.Contains(h, "etag:") {
			t.Errorf("GET /style.css = %q\n%s", b, h)
		}
		etag := ""
		for _, l := range strings.Split(h, "\r\n") {
			if v, ok := strings.CutPrefix(l, "etag: "); ok {
				etag = v
			}
		}
		if h, _ := fetch("site.test", "/style.css", "-H", "If-None-Match: "+etag); !strings.HasPrefix(h, "http/2 304") && !strings.HasPrefix(h, "http/1.1 304") {
			t.Errorf("If-None-Match %s: %s", etag, h)
		}
	})

	if err := g.stop(t); err != nil {
		t.Errorf("engine exit: %v\n%s", err, g.output())
	}
}
