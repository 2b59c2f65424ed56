package proxy

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// staticTree makes a folder to serve and a secret next to it that no
// request may reach.
func staticTree(t *testing.T) (dir, secret string) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "public")
	secret = filepath.Join(base, "secret.txt")
	files := map[string]string{
		"app.css":         strings.Repeat("body { color: red; }\n", 100),
		"app.js":          "console.log('hi')\n",
		"logo.svg":        "<svg xmlns='http://www.w3.org/2000/svg'/>",
		"data.bin":        strings.Repeat("0123456789", 100),
		"sub/index.html":  "<h1>sub index</h1>",
		"big.txt":         strings.Repeat("x", 1000),
		"big.txt.gz":      "GZIP-BYTES",
		"big.txt.br":      "BROTLI-BYTES",
		"only-gz.json":    `{"a":1}`,
		"only-gz.json.gz": "GZ-JSON",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(secret, []byte("TOP SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A symlink that stays inside, and two that point out.
	if err := os.Symlink("app.js", filepath.Join(dir, "alias.js")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "escape-abs.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret.txt", filepath.Join(dir, "escape-rel.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	return dir, secret
}

func startStatic(t *testing.T) (*testProxy, *http.Client, string) {
	t.Helper()
	dir, _ := staticTree(t)
	p := startProxy(t, []Route{
		{Project: "shop", Service: "static", Domains: []string{"shop.test"}, PathPrefix: "/static",
			Static: dir, CacheControl: "public, max-age=2592000"},
		{Project: "shop", Service: "web", Domains: []string{"shop.test"}, PathPrefix: "/",
			Upstream: tcpBackend(t, &echoBackend{name: "web"})},
	}, nil)
	return p, p.client(t, true), dir
}

func TestStaticServes(t *testing.T) {
	_, c, _ := startStatic(t)
	tests := []struct {
		name, path    string
		hdr           http.Header
		status        int
		ctype, body   string
		encoding      string
		cacheControl  string
		wantVaryAccpt bool
	}{
		{name: "css", path: "/static/app.css", status: 200, ctype: "text/css; charset=utf-8",
			body: strings.Repeat("body { color: red; }\n", 100), cacheControl: "public, max-age=2592000"},
		{name: "js", path: "/static/app.js", status: 200, ctype: "text/javascript; charset=utf-8", body: "console.log('hi')\n"},
		{name: "svg", path: "/static/logo.svg", status: 200, ctype: "image/svg+xml"},
		{name: "symlink inside", path: "/static/alias.js", status: 200, body: "console.log('hi')\n"},
		{name: "directory index", path: "/static/sub/", status: 200, ctype: "text/html; charset=utf-8", body: "<h1>sub index</h1>"},
		{name: "missing", path: "/static/nope.txt", status: 404},
		{name: "br sibling", path: "/static/big.txt", hdr: http.Header{"Accept-Encoding": {"gzip, br"}},
			status: 200, body: "BROTLI-BYTES", encoding: "br", ctype: "text/plain; charset=utf-8", wantVaryAccpt: true},
		{name: "gz sibling", path: "/static/big.txt", hdr: http.Header{"Accept-Encoding": {"gzip"}},
			status: 200, body: "GZIP-BYTES", encoding: "gzip", wantVaryAccpt: true},
		{name: "br refused by q=0", path: "/static/big.txt", hdr: http.Header{"Accept-Encoding": {"br;q=0, gzip"}},
			status: 200, body: "GZIP-BYTES", encoding: "gzip"},
		{name: "identity", path: "/static/big.txt", hdr: http.Header{"Accept-Encoding": {"identity"}},
			status: 200, body: strings.Repeat("x", 1000), wantVaryAccpt: true},
		{name: "only gz", path: "/static/only-gz.json", hdr: http.Header{"Accept-Encoding": {"br, gzip"}},
			status: 200, body: "GZ-JSON", encoding: "gzip", ctype: "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := tc.hdr
			if hdr == nil {
				hdr = http.Header{"Accept-Encoding": {"identity"}} // no transparent gzip in the client
			}
			resp, body := get(t, c, "GET", "https://shop.test"+tc.path, hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body %q", resp.StatusCode, tc.status, body)
			}
			if tc.status != 200 {
				return
			}
			if tc.body != "" && body != tc.body {
				t.Errorf("body = %q, want %q", body, tc.body)
			}
			if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("Content-Encoding = %q, want %q", got, tc.encoding)
			}
			if tc.cacheControl != "" && resp.Header.Get("Cache-Control") != tc.cacheControl {
				t.Errorf("Cache-Control = %q, want %q", resp.Header.Get("Cache-Control"), tc.cacheControl)
			}
			if tc.wantVaryAccpt && !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary = %q, want Accept-Encoding", resp.Header.Get("Vary"))
			}
			if resp.Header.Get("Etag") == "" || resp.Header.Get("Last-Modified") == "" {
				t.Errorf("ETag %q, Last-Modified %q: want both", resp.Header.Get("Etag"), resp.Header.Get("Last-Modified"))
			}
		})
	}
}

func TestStaticConditionalAndRange(t *testing.T) {
	_, c, _ := startStatic(t)
	resp, _ := get(t, c, "GET", "https://shop.test/static/data.bin", nil)
	etag, lastMod := resp.Header.Get("Etag"), resp.Header.Get("Last-Modified")
	if resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("Accept-Ranges = %q", resp.Header.Get("Accept-Ranges"))
	}
	tests := []struct {
		name   string
		hdr    http.Header
		status int
		body   string
	}{
		{"If-None-Match", http.Header{"If-None-Match": {etag}}, http.StatusNotModified, ""},
		{"If-Modified-Since", http.Header{"If-Modified-Since": {lastMod}}, http.StatusNotModified, ""},
		{"stale etag", http.Header{"If-None-Match": {`"nope"`}}, http.StatusOK, strings.Repeat("0123456789", 100)},
		{"range", http.Header{"Range": {"bytes=10-14"}}, http.StatusPartialContent, "01234"},
		{"suffix range", http.Header{"Range": {"bytes=-3"}}, http.StatusPartialContent, "789"},
		{"unsatisfiable", http.Header{"Range": {"bytes=5000-"}}, http.StatusRequestedRangeNotSatisfiable, ""},
		{"If-Range stale", http.Header{"Range": {"bytes=0-1"}, "If-Range": {`"old"`}}, http.StatusOK, strings.Repeat("0123456789", 100)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, "GET", "https://shop.test/static/data.bin", tc.hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.body != "" && body != tc.body {
				t.Errorf("body = %q, want %q", body, tc.body)
			}
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		resp, body := get(t, c, "HEAD", "https://shop.test/static/data.bin", nil)
		if resp.StatusCode != 200 || body != "" || resp.ContentLength != 1000 {
			t.Errorf("HEAD: status %d, length %d, body %q", resp.StatusCode, resp.ContentLength, body)
		}
	})
	t.Run("POST refused", func(t *testing.T) {
		resp, _ := get(t, c, "POST", "https://shop.test/static/data.bin", nil)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST: status %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	t.Run("directory redirect", func(t *testing.T) {
		resp, _ := get(t, c, "GET", "https://shop.test/static/sub?x=1", nil)
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "sub/?x=1" {
			t.Errorf("status %d Location %q, want 301 sub/?x=1", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// rawGet sends a request line exactly as written (no client-side path
// cleaning) and returns the status and body.
func rawGet(t *testing.T, p *testProxy, target string) (int, string) {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTPSPort()))
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: p.ca.pool, ServerName: "shop.test", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestStaticTraversal(t *testing.T) {
	p, _, _ := startStatic(t)
	targets := []string{
		"/static/../secret.txt",
		"/static/..%2fsecret.txt",
		"/static/..%2Fsecret.txt",
		"/static/%2e%2e/secret.txt",
		"/static/%2e%2e%2fsecret.txt",
		"/static/sub/..%2f..%2fsecret.txt",
		"/static/escape-abs.txt",
		"/static/escape-rel.txt",
		"/static/up/secret.txt",
		"/static/up/public/app.js/../../secret.txt",
		"/static//../secret.txt",
		"/static/..\\secret.txt",
		"/static/%00../secret.txt",
		"/static/.%2e/secret.txt",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			status, body := rawGet(t, p, target)
			t.Logf("status %d", status)
			if strings.Contains(body, "TOP SECRET") {
				t.Fatalf("%s leaked the secret (status %d)", target, status)
			}
			if status == http.StatusOK && !strings.Contains(body, `"Backend":"web"`) {
				t.Errorf("%s: status 200 from the static route with %q", target, body)
			}
		})
	}
}

// TestStaticHandlerConfined calls the handler with paths the router
// would have cleaned, so os.Root alone must stop them.
func TestStaticHandlerConfined(t *testing.T) {
	dir, _ := staticTree(t)
	h := &staticHandler{dir: dir, prefix: "/static"}
	for _, p := range []string{
		"/static/../secret.txt",
		"/static/sub/../../secret.txt",
		"/static/up/secret.txt",
		"/static/escape-abs.txt",
		"/static/escape-rel.txt",
		"/static/" + strings.TrimPrefix(filepath.Join(filepath.Dir(dir), "secret.txt"), "/"),
		"/static//" + filepath.Join(filepath.Dir(dir), "secret.txt"),
	} {
		t.Run(p, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "https://shop.test/x", nil), p)
			if strings.Contains(w.Body.String(), "TOP SECRET") || w.Code == http.StatusOK {
				t.Errorf("%s: status %d body %q", p, w.Code, w.Body.String())
			}
		})
	}
	t.Run("missing folder", func(t *testing.T) {
		h := &staticHandler{dir: filepath.Join(dir, "nope"), prefix: "/static"}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "https://shop.test/x", nil), "/static/app.js")
		if w.Code != http.StatusNotFound {
			t.Errorf("status %d, want 404", w.Code)
		}
	})
}

// TestStaticHidesDotfiles: no path segment that starts with "." is served
// from a folder, neither by a static route (404) nor by TryFiles (the
// request goes to the backend): .env, .git/config, .htpasswd.
func TestStaticHidesDotfiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		".env":                     "SECRET_KEY=dotenv",
		".git/config":              "[remote] url = SECRET",
		"sub/.htpasswd":            "admin:SECRET",
		".hidden/page.txt":         "SECRET page",
		"visible.txt":              "visible",
		".well-known/security.txt": "Contact: me@shop.test",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	backend := &echoBackend{name: "app"}
	p := startProxy(t, []Route{
		{Project: "shop", Service: "static", Domains: []string{"shop.test"}, PathPrefix: "/static", Static: dir},
		{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: tcpBackend(t, backend), TryFiles: dir},
	}, nil)
	c := p.client(t, true)
	tests := []struct {
		name, path string
		status     int
	}{
		{"static .env", "/static/.env", 404},
		{"static .git/config", "/static/.git/config", 404},
		{"static .git folder", "/static/.git", 404},
		{"static dotfile in a subfolder", "/static/sub/.htpasswd", 404},
		{"static file in a dot-folder", "/static/.hidden/page.txt", 404},
		{"static visible file", "/static/visible.txt", 200},
		{"static .well-known is public, as in Apache", "/static/.well-known/security.txt", 200},
		{"try_files .env goes to the app", "/.env", 200},
		{"try_files .git/config goes to the app", "/.git/config", 200},
		{"try_files dot-folder goes to the app", "/.hidden/page.txt", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, "GET", "https://shop.test"+tc.path, nil)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if strings.Contains(body, "SECRET") {
				t.Errorf("served a hidden file: %q", body)
			}
		})
	}
}

// TestStaticConfine: with Route.Confine set, a static or TryFiles folder
// that is, or passes through, a symlink out of the project folder serves
// nothing (and says so once in the log), while folders inside it, and
// symlinks that stay inside, work as before.
func TestStaticConfine(t *testing.T) {
	base := t.TempDir()
	project := filepath.Join(base, "shop")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(project, "public"), filepath.Join(project, "build", "assets"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, body string) {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(project, "public", "app.js"), "app")
	write(filepath.Join(project, "build", "assets", "main.css"), "css")
	write(filepath.Join(outside, "secret.txt"), "TOP SECRET")
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(project, name)); err != nil {
			t.Fatal(err)
		}
	}
	link("/etc", "files")                   // ln -s /etc files
	link(outside, "media")                  // a folder elsewhere
	link(outside, "uploads")                // the same, for try_files
	link("build/assets", "assets")          // a symlink that stays inside
	link(filepath.Join(base, "shop"), "me") // the project itself, by another name

	var logs strings.Builder
	var logsMu sync.Mutex
	backend := &echoBackend{name: "app"}
	route := func(prefix, static string) Route {
		return Route{Project: "shop", Service: "static", Domains: []string{"shop.test"}, PathPrefix: prefix,
			Static: static, Confine: project}
	}
	p := startProxy(t, []Route{
		route("/etc", filepath.Join(project, "files")),
		route("/media", filepath.Join(project, "media")),
		route("/assets", filepath.Join(project, "assets")),
		route("/public", filepath.Join(project, "me", "public")),
		route("/later", filepath.Join(project, "later")), // missing until the route is installed
		{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: tcpBackend(t, backend),
			TryFiles: filepath.Join(project, "uploads"), Confine: project},
		{Project: "blog", Service: "web", Domains: []string{"blog.test"}, Upstream: tcpBackend(t, backend),
			TryFiles: filepath.Join(project, "public"), Confine: project},
	}, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(lockedWriter{&logsMu, &logs}, nil))
	})
	link("/etc", "later") // after the route was installed: refused on the request
	c := p.client(t, true)
	tests := []struct {
		name, url string
		status    int
		body      string // when not empty, the body wanted
	}{
		{"ln -s /etc made after the route", "https://shop.test/later/passwd", 404, ""},
		{"ln -s /etc files", "https://shop.test/etc/passwd", 404, ""},
		{"ln -s /etc files, again", "https://shop.test/etc/hostname", 404, ""},
		{"a folder linked from elsewhere", "https://shop.test/media/secret.txt", 404, ""},
		{"a symlink that stays inside", "https://shop.test/assets/main.css", 200, "css"},
		{"the project by another name", "https://shop.test/public/app.js", 200, "app"},
		{"try_files through a link out goes to the app", "https://shop.test/secret.txt", 200, ""},
		{"try_files inside serves its file", "https://blog.test/app.js", 200, "app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, "GET", tc.url, nil)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if strings.Contains(body, "TOP SECRET") || strings.Contains(body, "root:") {
				t.Fatalf("served a file outside the project: %.100q", body)
			}
			if tc.body != "" && body != tc.body {
				t.Errorf("body %q, want %q", body, tc.body)
			}
		})
	}
	t.Run("one log line per folder", func(t *testing.T) {
		logsMu.Lock()
		defer logsMu.Unlock()
		for _, dir := range []string{"files", "media", "uploads", "later"} {
			n := strings.Count(logs.String(), filepath.Join(project, dir)+" ")
			if n != 1 {
				t.Errorf("%d log lines name %s, want 1:\n%s", n, dir, logs.String())
			}
		}
	})
}

// lockedWriter serialises writes to a builder shared with the test.
type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
