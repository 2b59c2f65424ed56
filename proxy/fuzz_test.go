package proxy

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzRoutes is a table with nested prefixes, subdomains and an IPv6
// literal, against which FuzzMatch checks the lookup by brute force.
var fuzzRoutes = []Route{
	{Service: "web", Domains: []string{"shop.test"}, PathPrefix: "/"},
	{Service: "api", Domains: []string{"shop.test"}, PathPrefix: "/api"},
	{Service: "v2", Domains: []string{"shop.test"}, PathPrefix: "/api/v2/"},
	{Service: "static", Domains: []string{"shop.test"}, PathPrefix: "/static", Static: "/srv"},
	{Service: "admin", Domains: []string{"admin.shop.test"}, PathPrefix: "/admin"},
	{Service: "six", Domains: []string{"::1"}, PathPrefix: "/"},
}

// FuzzMatch checks host normalisation, path cleaning and the route lookup
// against their definitions. Its seed corpus is in testdata/fuzz/FuzzMatch.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"shop.test", "/api/x"}, {"Shop.Test.:8443", "/api/../static/a"}, {"[::1]:443", "//x"},
		{"a.b.shop.test", "/api/v2"}, {"admin.shop.test", "/admin/"}, {"shop.test:https", "/"},
	} {
		f.Add(s[0], s[1])
	}
	tbl := NewTable(fuzzRoutes)
	f.Fuzz(func(t *testing.T, host, p string) {
		h, ok := normalizeHost(host)
		if ok {
			if h == "" || h != strings.ToLower(h) || strings.IndexByte(h, ':') < 0 &&
				(h[0] == '.' || strings.HasSuffix(h, ".") || strings.Contains(h, "..")) {
				t.Fatalf("normalizeHost(%q) = %q", host, h)
			}
			if h2, ok2 := normalizeHost(h); strings.IndexByte(h, ':') < 0 && (!ok2 || h2 != h) {
				t.Fatalf("normalizeHost not idempotent: %q -> %q -> %q %v", host, h, h2, ok2)
			}
		}
		if p != "" && p[0] != '/' {
			return // the server only routes origin-form paths
		}
		c := cleanPath(p)
		if c == "" || c[0] != '/' {
			t.Fatalf("cleanPath(%q) = %q", p, c)
		}
		for _, seg := range strings.Split(c, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("cleanPath(%q) = %q keeps a dot segment", p, c)
			}
		}
		if strings.Contains(c, "//") {
			t.Fatalf("cleanPath(%q) = %q keeps an empty segment", p, c)
		}
		rt, matched := tbl.Match(host, c)
		if !ok {
			if matched {
				t.Fatalf("invalid host %q matched", host)
			}
			return
		}
		// Brute force: the most specific domain with routes, then the
		// longest prefix on a segment boundary.
		var want *Route
		for d := h; want == nil; {
			best := -1
			for i := range tbl.routes {
				r := &tbl.routes[i]
				for _, rd := range r.Domains {
					if rd == d && hasPathPrefix(c, r.PathPrefix) && (best < 0 || len(r.PathPrefix) > len(tbl.routes[best].PathPrefix)) {
						best = i
					}
				}
			}
			if _, known := tbl.hosts[d]; known {
				if best >= 0 {
					want = &tbl.routes[best]
				}
				break
			}
			dot := strings.IndexByte(d, '.')
			if dot < 0 {
				break
			}
			d = d[dot+1:]
		}
		if (want == nil) != !matched || (want != nil && want != rt) {
			t.Fatalf("Match(%q, %q) = %+v %v, want %+v", host, c, rt, matched, want)
		}
		if matched && rt.PathPrefix != "/" && !strings.HasPrefix(c, rt.PathPrefix) {
			t.Fatalf("route %q does not cover %q", rt.PathPrefix, c)
		}
	})
}

// FuzzStaticConfined serves arbitrary paths from a static route whose
// folder sits next to a secret, and a symlink pointing at it: no path may
// return the secret. Its seed corpus is in testdata/fuzz/FuzzStaticConfined.
func FuzzStaticConfined(f *testing.F) {
	for _, s := range []string{"../secret.txt", "..%2fsecret.txt", "up/secret.txt", "link.txt", "a/../../secret.txt",
		"/etc/passwd", "ok.txt", "", ".", "..", "sub/..\\..\\secret.txt"} {
		f.Add(s)
	}
	base := f.TempDir()
	dir := filepath.Join(base, "public")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "secret.txt"), []byte("TOP SECRET"), 0o600); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.txt"), []byte("fine"), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink("../secret.txt", filepath.Join(dir, "link.txt")); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(dir, "up")); err != nil {
		f.Fatal(err)
	}
	h := &staticHandler{dir: dir, prefix: "/static"}
	f.Fuzz(func(t *testing.T, name string) {
		for _, p := range []string{"/static/" + name, cleanPath("/static/" + name)} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "https://shop.test/", nil), p)
			if strings.Contains(w.Body.String(), "TOP SECRET") {
				t.Fatalf("path %q served the secret", p)
			}
		}
	})
}
