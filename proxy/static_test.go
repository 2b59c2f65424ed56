package proxy

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
