package e2e

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestSeedExamples adds every example of the seed table (README, "Seed
// topologies") with the command the README gives, starts them in one
// engine, and checks over HTTPS verified against devport's CA what each
// app saw: the path split, root_path-correct URLs, https as the scheme
// (HTTPS=on for PHP, wsgi.url_scheme for Flask), websockets through to
// uvicorn and gunicorn's uvicorn workers, and uWSGI's REMOTE_ADDR and
// HTTP_X_FORWARDED_* vars.
func TestSeedExamples(t *testing.T) {
	testenv.Tool(t, "curl")
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	testenv.Tool(t, "uwsgi")
	e := newEnv(t)
	adds := [][]string{
		{"add", e.copyExample("fastapi-api", "api")},
		{"add", e.copyExample("fastapi-api", "gun"), "--stack", "gunicorn"},
		{"add", e.copyExample("flask-app", "flask"), "--stack", "uwsgi"},
		{"add", e.copyExample("php-api-split", "split")},
		{"add", e.copyExample("apache-chain", "chain"), "--stack", "php", "--chain", "/py"},
		{"add", e.copyExample("static-site", "site")},
	}
	for _, a := range adds {
		e.mustRun(a...)
	}
	port := freePort(t)
	g := e.serve("--start", "api,gun,flask,split,chain", "--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	caPath := strings.TrimSpace(e.mustRun("ca"))
	caPEM, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("no certificate in %s", caPath)
	}
	base := func(host string) string { return fmt.Sprintf("https://%s:%d", host, port) }
	fetch := func(t *testing.T, host, path string) string {
		t.Helper()
		return curl(t, "--cacert", caPath, "--resolve", fmt.Sprintf("%s:%d:127.0.0.1", host, port), base(host)+path)
	}
	fetchJSON := func(t *testing.T, host, path string) map[string]any {
		t.Helper()
		body := fetch(t, host, path)
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("GET %s%s is not JSON: %v\n%s", host, path, err, body)
		}
		return m
	}
	wantFields := func(t *testing.T, got map[string]any, want map[string]string) {
		t.Helper()
		for k, v := range want {
			if fmt.Sprint(got[k]) != v {
				t.Errorf("%s = %v, want %s (all: %v)", k, got[k], v, got)
			}
		}
	}

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"FastAPI on uvicorn", func(t *testing.T) {
			wantFields(t, fetchJSON(t, "api.test", "/"), map[string]string{"hello": "from fastapi-api", "scheme": "https", "client": "127.0.0.1"})
			wantFields(t, fetchJSON(t, "api.test", "/items/3"), map[string]string{"item_id": "3"})
			if got := wsEchoOnce(t, port, pool, "api.test", "/ws"); got != "echo hi over https" {
				t.Errorf("websocket: %q", got)
			}
		}},
		{"gunicorn with uvicorn workers", func(t *testing.T) {
			wantFields(t, fetchJSON(t, "gun.test", "/"), map[string]string{"hello": "from fastapi-api", "scheme": "https", "client": "127.0.0.1"})
			if got := wsEchoOnce(t, port, pool, "gun.test", "/ws"); got != "echo hi over https" {
				t.Errorf("websocket: %q", got)
			}
		}},
		{"Flask on uWSGI over the uwsgi protocol", func(t *testing.T) {
			got := fetchJSON(t, "flask.test", "/")
			wantFields(t, got, map[string]string{"hello": "from flask-app", "scheme": "https", "remote_addr": "127.0.0.1",
				"https_var": "on", "url": base("flask.test") + "/"})
			fw, _ := got["forwarded"].(map[string]any)
			for k, v := range map[string]string{"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "127.0.0.1",
				"HTTP_X_FORWARDED_HOST": fmt.Sprintf("flask.test:%d", port)} {
				if fmt.Sprint(fw[k]) != v {
					t.Errorf("uwsgi var %s = %v, want %s (all: %v)", k, fw[k], v, fw)
				}
			}
		}},
		{"PHP at / and FastAPI at /api", func(t *testing.T) {
			if body := fetch(t, "split.test", "/index.php?x=1"); !strings.Contains(body, "php-api-split php") ||
				!strings.Contains(body, "path: /index.php") || !strings.Contains(body, "https: on") {
				t.Errorf("GET /index.php: %s", body)
			}
			wantFields(t, fetchJSON(t, "split.test", "/api/items/5"), map[string]string{"item_id": "5", "root_path": "/api",
				"scheme": "https", "url": base("split.test") + "/api/items/5"})
			if got := wsEchoOnce(t, port, pool, "split.test", "/api/ws"); got != "echo hi over https" {
				t.Errorf("websocket at /api/ws: %q", got)
			}
		}},
		{"proxy to Apache to uvicorn", func(t *testing.T) {
			if body := fetch(t, "chain.test", "/"); !strings.Contains(body, "apache-chain php") || !strings.Contains(body, "https: on") {
				t.Errorf("GET /: %s", body)
			}
			wantFields(t, fetchJSON(t, "chain.test", "/py/items/7"), map[string]string{"hello": "from uvicorn behind apache",
				"path": "/py/items/7", "root_path": "/py", "scheme": "https", "url_for": base("chain.test") + "/py/x"})
		}},
		{"static site", func(t *testing.T) {
			if body := fetch(t, "site.test", "/"); !strings.Contains(body, "<h1>static-site</h1>") {
				t.Errorf("GET /: %s", body)
			}
			if body := fetch(t, "site.test", "/style.css"); !strings.Contains(body, "{") {
				t.Errorf("GET /style.css: %s", body)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.check)
	}
	if err := g.stop(t); err != nil {
		t.Errorf("engine exit: %v\n%s", err, g.output())
	}
	assertNoProcesses(t, e.root)
}
