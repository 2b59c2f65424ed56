package proxy

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// discardWriter is the cheapest ResponseWriter, so that the benchmarks
// measure the proxy and not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func benchServer(b *testing.B, routes []Route, al *AccessLog) *Server {
	s := New(Config{AccessLog: al})
	s.SetRoutes(NewTable(routes))
	b.Cleanup(func() { s.trs.closeIdle() })
	return s
}

func benchRequest(target string) *http.Request {
	r, _ := http.NewRequest("GET", target, nil)
	r.RemoteAddr = "127.0.0.1:50000"
	r.RequestURI = r.URL.RequestURI()
	r.Host = "shop.test"
	return r
}

// BenchmarkServeProxied is one routed request through the whole hot path
// (lookup, rewrite, pooled upstream connection, response copy) to a real
// loopback backend answering 1 KiB.
func BenchmarkServeProxied(b *testing.B) {
	body := strings.Repeat("a", 1024)
	up := tcpBackend(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
	for _, tc := range []struct {
		name string
		al   bool
	}{{"plain", false}, {"access log", true}} {
		b.Run(tc.name, func(b *testing.B) {
			var al *AccessLog
			if tc.al {
				dir := b.TempDir()
				al, _ = NewAccessLog(AccessLogConfig{Path: func(p string) string { return filepath.Join(dir, p+".log") }})
				b.Cleanup(func() { _ = al.Close(b.Context()) })
			}
			s := benchServer(b, []Route{
				{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: up},
				{Project: "shop", Service: "api", Domains: []string{"shop.test"}, PathPrefix: "/api", Upstream: up},
			}, al)
			r := benchRequest("https://shop.test/items?id=1")
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{h: make(http.Header)}
				s.serveHTTPS(w, r)
			}
		})
	}
}

// BenchmarkServeStatic serves a 1 MiB file from a static route.
func BenchmarkServeStatic(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), make([]byte, 1<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	s := benchServer(b, []Route{{Project: "shop", Service: "static", Domains: []string{"shop.test"},
		PathPrefix: "/static", Static: dir, CacheControl: "public, max-age=2592000"}}, nil)
	r := benchRequest("https://shop.test/static/big.bin")
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		w := &discardWriter{h: make(http.Header)}
		s.serveHTTPS(w, r)
	}
}

// BenchmarkAccessLogEntry renders one access log line.
func BenchmarkAccessLogEntry(b *testing.B) {
	e := AccessEntry{Time: time.Now(), Project: "shop", Route: "/api", Method: "GET", Host: "shop.test",
		Path: "/api/items", Proto: "HTTP/2.0", Status: 200, Bytes: 1024, Duration: 1234 * time.Microsecond,
		Upstream: "http://127.0.0.1:8081"}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendEntry(buf[:0], e)
	}
}

// BenchmarkForwarded builds the Forwarded header of one request.
func BenchmarkForwarded(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = forwarded("127.0.0.1", "shop.test")
	}
}
