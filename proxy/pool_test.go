package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countingBackend answers with its name, optionally blocking each request
// until release is closed.
type countingBackend struct {
	name    string
	hits    atomic.Int64
	started chan struct{} // receives one value per request when not nil
	release chan struct{} // requests wait for it when not nil
}

func (b *countingBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.hits.Add(1)
	if b.started != nil {
		b.started <- struct{}{}
	}
	if b.release != nil {
		<-b.release
	}
	_, _ = io.WriteString(w, b.name)
}

func TestLeastConnections(t *testing.T) {
	slow := &countingBackend{name: "a", started: make(chan struct{}, 16), release: make(chan struct{})}
	fast := &countingBackend{name: "b", started: make(chan struct{}, 16), release: make(chan struct{})}
	upA, upB := tcpBackend(t, slow), tcpBackend(t, fast)
	p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
		Upstreams: []Upstream{*upA, *upB}}}, nil)
	c := p.client(t, false)
	// Hold one request on each instance, then one more on each: the
	// counts stay level. Then release b only: new requests go to b.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { get(t, c, "GET", "https://shop.test/", nil) })
		select {
		case <-slow.started:
		case <-fast.started:
		case <-time.After(5 * time.Second):
			t.Fatal("request did not reach a backend")
		}
	}
	if slow.hits.Load() != 2 || fast.hits.Load() != 2 {
		t.Errorf("4 concurrent requests split %d/%d, want 2/2", slow.hits.Load(), fast.hits.Load())
	}
	fast.started = nil
	close(fast.release)
	// Wait until b's two requests are done; a still holds two.
	pl := p.active.Load().handlers[0].proxy.Transport.(*pool)
	deadline := time.Now().Add(5 * time.Second)
	for pl.insts[1].inFlight.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for i := range 3 {
		if _, body := get(t, c, "GET", "https://shop.test/", nil); body != "b" {
			t.Errorf("request %d went to %q while a had 2 in flight and b none", i, body)
		}
	}
	close(slow.release)
	wg.Wait()
}

func TestFailover(t *testing.T) {
	t.Run("dead first instance", func(t *testing.T) {
		live := &countingBackend{name: "live"}
		p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
			Upstreams: []Upstream{{Address: deadAddress(t)}, *tcpBackend(t, live)},
			Limits:    Limits{FailTimeout: time.Minute}}}, nil)
		c := p.client(t, true)
		for i := range 6 {
			method := []string{"GET", "POST"}[i%2] // the GET hot path and net/http's transport
			resp, body := get(t, c, method, "https://shop.test/", nil)
			if resp.StatusCode != 200 || body != "live" {
				t.Fatalf("request %d: status %d body %q, want the live instance", i, resp.StatusCode, body)
			}
		}
	})
	t.Run("instance dies under traffic", func(t *testing.T) {
		a, b := &countingBackend{name: "a"}, &countingBackend{name: "b"}
		srvA := httptest.NewServer(a)
		defer srvA.Close()
		upB := tcpBackend(t, b)
		p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
			Upstreams: []Upstream{{Address: srvA.Listener.Addr().String()}, *upB}}}, nil)
		c := p.client(t, true)
		for range 4 {
			get(t, c, "GET", "https://shop.test/", nil)
		}
		if a.hits.Load() == 0 || b.hits.Load() == 0 {
			t.Fatalf("idle pool did not spread: a %d b %d", a.hits.Load(), b.hits.Load())
		}
		srvA.Close()
		before := b.hits.Load()
		for i := range 10 {
			resp, body := get(t, c, "POST", "https://shop.test/", nil)
			if resp.StatusCode != 200 || body != "b" {
				t.Fatalf("request %d after a died: status %d body %q", i, resp.StatusCode, body)
			}
		}
		if got := b.hits.Load() - before; got != 10 {
			t.Errorf("b served %d of 10", got)
		}
	})
	t.Run("body survives the retry", func(t *testing.T) {
		echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(w, r.Body) })
		p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
			Upstreams: []Upstream{{Address: deadAddress(t)}, {Address: deadAddress(t)}, *tcpBackend(t, echo)}}}, nil)
		c := p.client(t, false)
		ok := 0
		for range 6 {
			resp, err := c.Post("https://shop.test/", "text/plain", strings.NewReader("payload"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == 200 && string(body) == "payload":
				ok++
			case resp.StatusCode == http.StatusBadGateway:
				// Two dead instances and one retry: allowed once each.
			default:
				t.Errorf("status %d body %q", resp.StatusCode, body)
			}
		}
		if ok < 4 {
			t.Errorf("%d of 6 succeeded; dead instances should be skipped after failing", ok)
		}
	})
}

func TestLimits(t *testing.T) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "late")
	})
	sink := &echoBackend{name: "sink"}
	p := startProxy(t, []Route{
		{Project: "shop", Service: "slow", Domains: []string{"shop.test"}, PathPrefix: "/slow",
			Upstream: tcpBackend(t, slow), Limits: Limits{Read: 200 * time.Millisecond}},
		{Project: "shop", Service: "web", Domains: []string{"shop.test"}, PathPrefix: "/",
			Upstream: tcpBackend(t, sink), Limits: Limits{MaxBody: 100}},
	}, nil)
	c := p.client(t, true)
	tests := []struct {
		name   string
		path   string
		body   io.Reader
		status int
	}{
		{"within max body", "/upload", strings.NewReader(strings.Repeat("x", 100)), 200},
		{"declared too large", "/upload", strings.NewReader(strings.Repeat("x", 101)), 413},
		{"chunked too large", "/upload", io.MultiReader(strings.NewReader(strings.Repeat("x", 500))), 413},
		{"read timeout", "/slow", nil, 504},
		{"read timeout on the GET hot path", "/slow", nil, 504},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			if strings.Contains(tc.name, "GET") {
				method = "GET"
			}
			req, _ := http.NewRequest(method, "https://shop.test"+tc.path, tc.body)
			start := time.Now()
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d; body %q", resp.StatusCode, tc.status, body)
			}
			if tc.status == 504 && time.Since(start) > 2*time.Second {
				t.Errorf("504 took %v, want about the 200ms read timeout", time.Since(start))
			}
		})
	}
}

func TestServerSentEventsFlush(t *testing.T) {
	next := make(chan struct{})
	sse := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			_, _ = io.WriteString(w, "data: "+strings.Repeat("e", 300)+string(rune('0'+i))+"\n\n")
			_ = http.NewResponseController(w).Flush()
			select {
			case <-next: // the client saw this event
			case <-r.Context().Done():
				return
			case <-time.After(5 * time.Second):
				return
			}
		}
	})
	p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
		Upstream: tcpBackend(t, sse)}}, nil)
	for _, h2 := range []bool{false, true} {
		for _, ae := range []string{"identity", "gzip"} {
			t.Run(map[bool]string{false: "h1", true: "h2"}[h2]+" "+ae, func(t *testing.T) {
				req, _ := http.NewRequest("GET", "https://shop.test/events", nil)
				req.Header.Set("Accept-Encoding", ae)
				resp, err := p.client(t, h2).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if ce := resp.Header.Get("Content-Encoding"); ce != "" {
					t.Errorf("events were compressed (%s): each would wait for the next flush", ce)
				}
				buf := make([]byte, 4096)
				for i := range 3 {
					// Each event must arrive while the backend waits for us.
					got := ""
					for !strings.Contains(got, "\n\n") {
						n, err := resp.Body.Read(buf)
						got += string(buf[:n])
						if err != nil {
							t.Fatalf("event %d: %v after %q", i, err, got)
						}
					}
					if !strings.HasSuffix(strings.TrimSpace(got), string(rune('0'+i))) {
						t.Errorf("event %d = %q", i, got)
					}
					next <- struct{}{}
				}
			})
		}
	}
}

func TestCompression(t *testing.T) {
	page := strings.Repeat("<p>hello devport</p>\n", 200)
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Etag", `"v1"`)
			_, _ = io.WriteString(w, page)
		case "/json-stream": // no Content-Length: chunked
			w.Header().Set("Content-Type", "application/json")
			for range 50 {
				_, _ = io.WriteString(w, `{"k":"value value value"}`)
				_ = http.NewResponseController(w).Flush()
			}
		case "/png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = io.WriteString(w, page)
		case "/small":
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "tiny")
		case "/precompressed":
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Encoding", "br")
			_, _ = io.WriteString(w, "BROTLI"+page)
		}
	})
	p := startProxy(t, []Route{
		{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: tcpBackend(t, backend)},
		{Project: "raw", Service: "web", Domains: []string{"raw.test"}, Upstream: tcpBackend(t, backend), NoCompress: true},
	}, nil)
	c := p.client(t, true)
	tests := []struct {
		name, url, accept string
		wantGzip          bool
	}{
		{"html gzipped", "https://shop.test/html", "gzip, deflate, br", true},
		{"stream gzipped", "https://shop.test/json-stream", "gzip", true},
		{"client refuses", "https://shop.test/html", "identity", false},
		{"gzip q=0", "https://shop.test/html", "gzip;q=0", false},
		{"image untouched", "https://shop.test/png", "gzip", false},
		{"small untouched", "https://shop.test/small", "gzip", false},
		{"already compressed", "https://shop.test/precompressed", "gzip, br", false},
		{"route opted out", "https://raw.test/html", "gzip", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, "GET", tc.url, http.Header{"Accept-Encoding": {tc.accept}})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			ce := resp.Header.Get("Content-Encoding")
			if (ce == "gzip") != tc.wantGzip {
				t.Fatalf("Content-Encoding = %q, want gzip %v", ce, tc.wantGzip)
			}
			if !tc.wantGzip {
				return
			}
			if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary = %q", resp.Header.Get("Vary"))
			}
			zr, err := gzip.NewReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(tc.url, "/html") {
				if string(plain) != page {
					t.Error("gunzipped body differs from the backend's")
				}
				if et := resp.Header.Get("Etag"); et != `W/"v1"` {
					t.Errorf("ETag = %q, want the weak W/\"v1\"", et)
				}
				if len(body) >= len(page) {
					t.Errorf("gzip did not shrink %d bytes (%d)", len(page), len(body))
				}
			}
		})
	}
}

func TestViaAndForwarded(t *testing.T) {
	var got http.Header
	var mu sync.Mutex
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		w.Header().Set("Connection", "X-Secret")
		w.Header().Set("X-Secret", "hop")
		w.Header().Set("Keep-Alive", "timeout=5")
		_, _ = io.WriteString(w, "ok")
	})
	p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
		Upstream: tcpBackend(t, backend)}}, nil)
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "h1", true: "h2"}[h2], func(t *testing.T) {
			hdr := http.Header{"Forwarded": {"for=203.0.113.7"}, "Via": {"1.1 corp-proxy"}}
			if !h2 {
				hdr["Connection"] = []string{"X-Drop-Me"}
				hdr["X-Drop-Me"] = []string{"1"}
				hdr["Te"] = []string{"trailers"}
			}
			resp, _ := get(t, p.client(t, h2), "GET", "https://shop.test:8443/", hdr)
			mu.Lock()
			defer mu.Unlock()
			wantVia := "1.1 corp-proxy, 1.1 devport"
			if h2 {
				wantVia = "1.1 corp-proxy, 2 devport"
			}
			if v := strings.Join(got.Values("Via"), ", "); v != wantVia {
				t.Errorf("backend Via = %q, want %q", v, wantVia)
			}
			if f := got.Get("Forwarded"); f != `for=127.0.0.1;host="shop.test:8443";proto=https` {
				t.Errorf("backend Forwarded = %q", f)
			}
			if got.Get("X-Drop-Me") != "" {
				t.Error("a header named in Connection reached the backend")
			}
			if v := resp.Header.Get("Via"); v != "1.1 devport" {
				t.Errorf("response Via = %q", v)
			}
			if resp.Header.Get("X-Secret") != "" || resp.Header.Get("Keep-Alive") != "" {
				t.Error("hop-by-hop response headers reached the client")
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	dir := t.TempDir()
	al, err := NewAccessLog(AccessLogConfig{Path: func(p string) string { return dir + "/" + p + "/access.log" }, MaxSize: 3000, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	static, _ := staticTree(t)
	up := tcpBackend(t, &echoBackend{name: "web"})
	p := startProxy(t, []Route{
		{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: up},
		{Project: "shop", Service: "static", Domains: []string{"shop.test"}, PathPrefix: "/static", Static: static},
		{Project: "blog", Service: "web", Domains: []string{"blog.test"}, Down: "stopped"},
	}, func(c *Config) { c.AccessLog = al })
	c := p.client(t, true)
	for range 40 { // enough to rotate twice and drop the oldest file
		get(t, c, "GET", "https://shop.test/fill", nil)
	}
	get(t, c, "GET", "https://shop.test/static/app.js", http.Header{"Accept-Encoding": {"identity"}})
	get(t, c, "GET", "https://blog.test/", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := al.Close(ctx); err != nil {
		t.Fatal(err)
	}
	shop, err := readAll(dir+"/shop/access.log.2", dir+"/shop/access.log.1", dir+"/shop/access.log")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"access.log", "access.log.1", "access.log.2"} {
		fi, err := os.Stat(dir + "/shop/" + f)
		if err != nil || fi.Size() > 3000 || fi.Size() == 0 {
			t.Errorf("%s: %v, want a file of at most MaxSize", f, err)
		}
	}
	if _, err := os.Stat(dir + "/shop/access.log.3"); err == nil {
		t.Error("access.log.3 exists with Keep 2")
	}
	lines := strings.Split(strings.TrimSpace(shop), "\n")
	if len(lines) >= 41 || len(lines) < 20 {
		t.Errorf("%d lines kept across rotation, want the newest ones only", len(lines))
	}
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
	}
	blog, _ := readAll(dir + "/blog/access.log")
	tests := []struct{ name, log, want string }{
		{"proxied", shop, `"project":"shop","route":"/","method":"GET","host":"shop.test","path":"/fill","proto":"HTTP/2.0","status":200`},
		{"upstream", shop, `"upstream":"` + up.String() + `"`},
		{"static", shop, `"route":"/static","method":"GET","host":"shop.test","path":"/static/app.js","proto":"HTTP/2.0","status":200,"bytes":18`},
		{"down", blog, `"project":"blog","route":"/","method":"GET","host":"blog.test","path":"/","proto":"HTTP/2.0","status":502`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(tc.log, tc.want) {
				t.Errorf("log lacks %s:\n%s", tc.want, tc.log[:min(len(tc.log), 600)])
			}
		})
	}
	t.Run("drops when closed", func(t *testing.T) {
		al.Log(AccessEntry{Project: "x"})
		if al.Dropped() != 1 {
			t.Errorf("Dropped = %d", al.Dropped())
		}
	})
}

func readAll(paths ...string) (string, error) {
	var b bytes.Buffer
	for _, p := range paths {
		f, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		b.Write(f)
	}
	return b.String(), nil
}

// TestAccessLogDiskFull: when the access log cannot be written (here a
// symlink to /dev/full, where every write fails with ENOSPC) the proxy
// keeps serving, says so once in its log, and writes again once the disk
// takes writes (the symlink replaced by a real file).
func TestAccessLogDiskFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "shop", "access.log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/full", logPath); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var logsMu sync.Mutex
	logged := func(s string) int {
		logsMu.Lock()
		defer logsMu.Unlock()
		return strings.Count(logs.String(), s)
	}
	var onError, onRecover atomic.Int64
	var firstErr atomic.Pointer[error]
	al, err := NewAccessLog(AccessLogConfig{
		Path: func(p string) string { return filepath.Join(dir, p, "access.log") },
		OnError: func(err error) {
			onError.Add(1)
			firstErr.CompareAndSwap(nil, &err)
		},
		OnRecover: func() { onRecover.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = al.Close(context.Background()) })
	p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
		Upstream: tcpBackend(t, &echoBackend{name: "web"})}}, func(c *Config) {
		c.AccessLog = al
		c.Logger = slog.New(slog.NewTextHandler(lockedWriter{&logsMu, &logs}, nil))
	})
	c := p.client(t, true)
	waitFor := func(t *testing.T, what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("after 5 s: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for i := range 20 {
		if resp, _ := get(t, c, "GET", "https://shop.test/full", nil); resp.StatusCode != 200 {
			t.Fatalf("request %d while the log cannot be written: status %d", i, resp.StatusCode)
		}
	}
	waitFor(t, "20 write errors", func() bool { return al.WriteErrors() >= 20 })
	t.Run("said once", func(t *testing.T) {
		if n := logged("access log cannot be written"); n != 1 {
			t.Errorf("%d log lines say the access log cannot be written, want 1:\n%s", n, logs.String())
		}
		if n := onError.Load(); n != 1 {
			t.Errorf("OnError called %d times, want once", n)
		}
		if e := firstErr.Load(); e == nil || !errors.Is(*e, syscall.ENOSPC) || !strings.Contains((*e).Error(), logPath) {
			t.Errorf("OnError got %v, want ENOSPC naming %s", e, logPath)
		}
		if n := onRecover.Load(); n != 0 {
			t.Errorf("OnRecover called %d times while the disk is full", n)
		}
	})
	if err := os.Remove(logPath); err != nil { // space is back
		t.Fatal(err)
	}
	t.Run("recovers", func(t *testing.T) {
		waitFor(t, "entries in the log after the disk took writes again", func() bool {
			get(t, c, "GET", "https://shop.test/after", nil)
			b, _ := os.ReadFile(logPath)
			return strings.Contains(string(b), `"path":"/after"`)
		})
		waitFor(t, "a log line saying so", func() bool { return logged("access log is written again") == 1 })
		waitFor(t, "OnRecover", func() bool { return onRecover.Load() == 1 })
		if n := onError.Load(); n != 1 {
			t.Errorf("OnError called %d times in one episode", n)
		}
	})
}
