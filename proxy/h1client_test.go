package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connCounter is a backend that counts the connections it accepted.
func connCounter(t *testing.T, h http.Handler) (*Upstream, *atomic.Int64, *httptest.Server) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return &Upstream{Address: srv.Listener.Addr().String()}, &conns, srv
}

func TestHotPathKeepAlive(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/close":
			w.Header().Set("Connection", "close")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_, _ = io.WriteString(w, strings.Repeat("z", 2000))
	})
	up, conns, srv := connCounter(t, h)
	p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: up}}, nil)
	c := p.client(t, false)
	t.Run("GET and HEAD reuse one connection", func(t *testing.T) {
		for _, m := range []string{"GET", "HEAD", "GET", "GET", "HEAD"} {
			resp, body := get(t, c, m, "https://shop.test/", nil)
			if resp.StatusCode != 200 || (m == "GET" && len(body) != 2000) {
				t.Fatalf("%s: status %d, %d bytes", m, resp.StatusCode, len(body))
			}
		}
		for range 3 {
			if resp, _ := get(t, c, "GET", "https://shop.test/empty", nil); resp.StatusCode != 204 {
				t.Fatalf("status %d", resp.StatusCode)
			}
		}
		if n := conns.Load(); n != 1 {
			t.Errorf("%d upstream connections for sequential requests, want 1", n)
		}
	})
	t.Run("Connection close is honoured", func(t *testing.T) {
		before := conns.Load()
		get(t, c, "GET", "https://shop.test/close", nil)
		get(t, c, "GET", "https://shop.test/", nil)
		if n := conns.Load() - before; n != 1 {
			t.Errorf("%d new connections, want 1 (the closed one is not reused)", n)
		}
	})
	t.Run("idle connection closed by the upstream is retried", func(t *testing.T) {
		srv.CloseClientConnections() // what a keep-alive timeout does
		time.Sleep(50 * time.Millisecond)
		for i := range 3 {
			if resp, _ := get(t, c, "GET", "https://shop.test/", nil); resp.StatusCode != 200 {
				t.Fatalf("request %d after the upstream closed its idle connections: %d", i, resp.StatusCode)
			}
		}
	})
	t.Run("client gone mid-body", func(t *testing.T) {
		gone := make(chan struct{})
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "start")
			_ = http.NewResponseController(w).Flush()
			<-r.Context().Done() // the proxy closed the upstream connection
			close(gone)
		})
		up, _, _ := connCounter(t, slow)
		p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: up}}, nil)
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://shop.test/", nil)
		resp, err := p.client(t, false).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			t.Fatal(err)
		}
		cancel()
		resp.Body.Close()
		select {
		case <-gone:
		case <-time.After(5 * time.Second):
			t.Fatal("the upstream connection stayed open after the client left")
		}
		ut := p.active.Load().handlers[0].proxy.Transport.(*pool).insts[0]
		ut.rt.mu.Lock()
		n := len(ut.rt.idle)
		ut.rt.mu.Unlock()
		if n == 0 {
			return
		}
		t.Error("a connection with an unread body went back to the pool")
	})
}

// slowASGI answers every HTTP request after 50 ms, so that a burst of
// parallel requests opens many upstream connections.
const slowASGI = `
import asyncio

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            m = await receive()
            if m["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif m["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    while True:
        m = await receive()
        if not m.get("more_body"):
            break
    await asyncio.sleep(0.05)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
`

// TestNoBadGatewayAfterPause: a page loads with a burst of parallel
// requests, the user waits longer than the backend's keep-alive, and the
// next burst must not meet a single 502: the connections the backend
// closed while idle are retried on fresh ones. Backends: a Go server and a
// real uvicorn, both with a keep-alive far shorter than the proxy's idle
// timeout, so the proxy holds dead connections when the burst comes.
func TestNoBadGatewayAfterPause(t *testing.T) {
	goBackend := func(t *testing.T) *Upstream {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			time.Sleep(20 * time.Millisecond)
			_, _ = io.WriteString(w, "ok")
		}))
		srv.Config.IdleTimeout = 300 * time.Millisecond
		srv.Start()
		t.Cleanup(srv.Close)
		return &Upstream{Address: srv.Listener.Addr().String()}
	}
	tests := []struct {
		name     string
		backend  func(*testing.T) *Upstream
		pause    time.Duration
		parallel int
	}{
		{"go server closing idle after 300ms", goBackend, time.Second, 40},
		{"uvicorn --timeout-keep-alive 1", func(t *testing.T) *Upstream {
			return startUvicorn(t, slowASGI, "--timeout-keep-alive", "1")
		}, 2 * time.Second, 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up := tc.backend(t)
			p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: up,
				StartCommand: "devport start shop"}}, nil)
			clients := map[string]*http.Client{"h2": p.client(t, true), "h1": p.client(t, false)}
			burst := func(round int) {
				var wg sync.WaitGroup
				var bad atomic.Int64
				for i := range tc.parallel {
					wg.Go(func() {
						c := clients[[]string{"h2", "h1"}[i%2]]
						var resp *http.Response
						var err error
						if i%5 == 4 { // some POSTs, which go through net/http's transport
							resp, err = c.Post("https://shop.test/form", "text/plain", strings.NewReader("a=1"))
						} else {
							resp, err = c.Get("https://shop.test/page")
						}
						if err != nil {
							t.Errorf("round %d request %d: %v", round, i, err)
							return
						}
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							bad.Add(1)
							t.Logf("round %d request %d: %d %.200q", round, i, resp.StatusCode, body)
						}
					})
				}
				wg.Wait()
				if n := bad.Load(); n > 0 {
					t.Errorf("round %d: %d of %d requests failed after a pause of %v", round, n, tc.parallel, tc.pause)
				}
			}
			burst(0)
			for round := 1; round <= 2; round++ {
				time.Sleep(tc.pause)
				burst(round)
			}
		})
	}
}

// TestUpstreamIdleTimeout: a pooled connection idle for longer than
// UpstreamIdleTimeout is closed, not reused.
func TestUpstreamIdleTimeout(t *testing.T) {
	if UpstreamIdleTimeout >= 5*time.Second {
		t.Errorf("UpstreamIdleTimeout = %v, want it below the 5 s keep-alive of Apache and uvicorn", UpstreamIdleTimeout)
	}
	up, conns, _ := connCounter(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: up}}, nil)
	c := p.client(t, false)
	get(t, c, "GET", "https://shop.test/", nil)
	rt := p.active.Load().handlers[0].pool.insts[0].rt
	rt.mu.Lock()
	for _, pc := range rt.idle {
		pc.lastUsed = time.Now().Add(-UpstreamIdleTimeout - time.Millisecond)
	}
	rt.mu.Unlock()
	get(t, c, "GET", "https://shop.test/", nil)
	if n := conns.Load(); n != 2 {
		t.Errorf("%d upstream connections, want 2: one idle past UpstreamIdleTimeout must not be reused", n)
	}
}
