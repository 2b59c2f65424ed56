package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestTryFiles: a service route with TryFiles answers with the folder's
// files when the path names one (nginx's try_files $uri @app), and hands
// every other request to the backend: directories (so "/" stays the
// app's, even with an index.html in the folder), missing files, other
// methods, and paths that would leave the folder.
func TestTryFiles(t *testing.T) {
	dir, _ := staticTree(t)
	backend := &echoBackend{name: "app"}
	p := startProxy(t, []Route{
		{Project: "shop", Service: "web", Domains: []string{"shop.test"}, PathPrefix: "/",
			Upstream: tcpBackend(t, backend), TryFiles: dir},
		{Project: "down", Service: "web", Domains: []string{"down.test"}, PathPrefix: "/",
			TryFiles: dir, Down: "the project is stopped", StartCommand: "devport start down"},
	}, nil)
	c := p.client(t, true)
	tests := []struct {
		name, method, url string
		status            int
		fromFile          string // the body, when the folder answers
	}{
		{"a file", "GET", "https://shop.test/app.js", 200, "console.log('hi')\n"},
		{"HEAD of a file", "HEAD", "https://shop.test/app.js", 200, ""},
		{"a file in a subfolder", "GET", "https://shop.test/sub/index.html", 200, "<h1>sub index</h1>"},
		{"the root is the app's", "GET", "https://shop.test/", 200, ""},
		{"a folder is the app's", "GET", "https://shop.test/sub/", 200, ""},
		{"a folder without slash is the app's", "GET", "https://shop.test/sub", 200, ""},
		{"a missing file is the app's", "GET", "https://shop.test/api/items", 200, ""},
		{"POST is the app's", "POST", "https://shop.test/app.js", 200, ""},
		{"a symlink out is the app's", "GET", "https://shop.test/escape-rel.txt", 200, ""},
		{"dot-dot stays inside", "GET", "https://shop.test/up/secret.txt", 200, ""},
		{"a stopped backend still has its files", "GET", "https://down.test/app.js", 200, "console.log('hi')\n"},
		{"a stopped backend's other paths get the 502 page", "GET", "https://down.test/x", 502, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := backend.hits.Load()
			resp, body := get(t, c, tc.method, tc.url, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if strings.Contains(body, "TOP SECRET") {
				t.Fatalf("served the secret outside the folder: %q", body)
			}
			hit := backend.hits.Load() != before
			fromFile := tc.fromFile != "" || (tc.method == http.MethodHead && tc.status == 200)
			switch {
			case fromFile && hit:
				t.Errorf("the backend got a request the folder should have answered")
			case fromFile && tc.fromFile != "" && body != tc.fromFile:
				t.Errorf("body %q, want the file %q", body, tc.fromFile)
			case fromFile && resp.Header.Get("Etag") == "":
				t.Errorf("a file without an ETag: %v", resp.Header)
			case !fromFile && tc.status == 200 && !hit:
				t.Errorf("the backend did not get the request; body %q", body)
			}
		})
	}
}
