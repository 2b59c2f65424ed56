//go:build unix

package proxy

import (
	"bufio"
	"context"
	"fmt"
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
		{"go server closing idle after 300ms", goBackend, 1500 * time.Millisecond, 40},
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
							reason := string(body)
							if j := strings.Index(reason, "</strong>: "); j >= 0 {
								reason = reason[j:]
							}
							t.Logf("round %d request %d: %d %.200q", round, i, resp.StatusCode, reason)
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

// rawBackend listens on loopback and runs serve on each connection it
// accepts, with a reader over it; it closes its listener and every
// connection when the test ends, and waits for serve to return.
func rawBackend(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) *Upstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return &Upstream{Address: ln.Addr().String()}
}

// answerPath answers a request with its own path as the body.
func answerPath(w io.Writer, req *http.Request) error {
	_, err := fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(req.URL.Path), req.URL.Path)
	return err
}

// TestHotPathNoDesync: a backend that sends more than one response for a
// request (an extra response, at once or a little later, or a body after
// a HEAD answer) loses that connection; the extra bytes never reach the
// next client, which gets the answer to its own request.
func TestHotPathNoDesync(t *testing.T) {
	const extra = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"
	tests := []struct {
		name string
		// misbehave answers the first request wrongly.
		misbehave func(c net.Conn, req *http.Request)
		first     string // method of the first request
		pause     time.Duration
	}{
		{"extra response at once", func(c net.Conn, req *http.Request) {
			// One write, as an app that writes more than its
			// Content-Length does: the extra arrives with the answer.
			var b strings.Builder
			_ = answerPath(&b, req)
			_, _ = io.WriteString(c, b.String()+extra)
		}, "GET", 0},
		{"extra response later", func(c net.Conn, req *http.Request) {
			_ = answerPath(c, req)
			time.Sleep(50 * time.Millisecond)
			_, _ = io.WriteString(c, extra)
		}, "GET", 300 * time.Millisecond},
		{"body after a HEAD answer", func(c net.Conn, req *http.Request) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
		}, "HEAD", 0},
		{"body after a HEAD answer, later", func(c net.Conn, req *http.Request) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
			time.Sleep(50 * time.Millisecond)
			_, _ = io.WriteString(c, "hello")
		}, "HEAD", 300 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var first atomic.Bool
			first.Store(true)
			up := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					if first.CompareAndSwap(true, false) {
						tc.misbehave(c, req)
						continue
					}
					if answerPath(c, req) != nil {
						return
					}
				}
			})
			p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: up}}, nil)
			c := p.client(t, false)
			if resp, _ := get(t, c, tc.first, "https://shop.test/first", nil); resp.StatusCode != 200 {
				t.Fatalf("first request: %d", resp.StatusCode)
			}
			time.Sleep(tc.pause)
			for i := range 3 {
				path := fmt.Sprintf("/next%d", i)
				resp, body := get(t, c, "GET", "https://shop.test"+path, nil)
				if resp.StatusCode != 200 || body != path {
					t.Errorf("GET %s: %d %q, want 200 and its own answer", path, resp.StatusCode, body)
				}
			}
		})
	}
}

// TestResponseHeaderLimit: a backend whose response headers never end
// gets a 502 that says so once they pass 1 MiB; they are not read into
// memory without end, nor forwarded.
func TestResponseHeaderLimit(t *testing.T) {
	up := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		line := "X-Junk: " + strings.Repeat("j", 1000) + "\r\n"
		for range 2 << 10 { // 2 MiB of headers
			if _, err := io.WriteString(c, line); err != nil {
				return
			}
		}
		_, _ = io.WriteString(c, "Content-Length: 2\r\n\r\nok")
	})
	p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: up}}, nil)
	for _, method := range []string{"GET", "POST"} { // the hot path and net/http's transport
		t.Run(method, func(t *testing.T) {
			resp, body := get(t, p.client(t, false), method, "https://shop.test/", nil)
			if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "headers") {
				t.Errorf("status %d, %d header fields, body %.300q; want 502 naming the headers", resp.StatusCode, len(resp.Header["X-Junk"]), body)
			}
		})
	}
}

// hotPath returns the hot-path transport of one upstream, closed when the
// test ends.
func hotPath(t *testing.T, up *Upstream, limits transportLimits) *h1Transport {
	t.Helper()
	ts := newTransports()
	t.Cleanup(ts.closeIdle)
	k := transportKey{up: *up, limits: limits}
	k.up.Network = k.up.network()
	return ts.sync([]transportKey{k})[k].rt
}

// TestHotPathAbandonedBody: a response body the client stops reading is
// closed with its connection at once, not drained to its end (an endless
// stream would hold the request forever).
func TestHotPathAbandonedBody(t *testing.T) {
	closed := make(chan struct{})
	up := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
		for range 1000 { // 10 s of events
			if _, err := io.WriteString(c, "6\r\nevent\n\r\n"); err != nil {
				close(closed)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	rt := hotPath(t, up, transportLimits{})
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://shop.test/events", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 6)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		resp.Body.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close of an abandoned body is still draining it after 2 s")
	}
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Error("the backend's connection is still open after the body was closed")
	}
}

// cancelOnClear is an upstream connection that cancels its request just
// as the transport clears the read deadline of the response headers, and
// waits until the cancellation has set its deadline: the order in which
// a clear could undo the cancellation.
type cancelOnClear struct {
	net.Conn
	cancel   context.CancelFunc
	deadline chan struct{} // closed when the cancellation set a deadline
	once     sync.Once
}

func (c *cancelOnClear) SetDeadline(d time.Time) error {
	err := c.Conn.SetDeadline(d)
	c.once.Do(func() { close(c.deadline) })
	return err
}

func (c *cancelOnClear) SetReadDeadline(d time.Time) error {
	if d.IsZero() {
		c.cancel()
		select {
		case <-c.deadline:
		case <-time.After(time.Second):
		}
	}
	return c.Conn.SetReadDeadline(d)
}

// TestHotPathCancelWhileClearingDeadline: a request cancelled while the
// transport clears its header deadline ends; its body does not wait on a
// backend that stopped sending.
func TestHotPathCancelWhileClearingDeadline(t *testing.T) {
	up := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf!")
		_, _ = br.ReadByte() // hold the connection until it is closed
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var d net.Dialer
	rt := &h1Transport{
		dial: func(ctx context.Context) (net.Conn, error) {
			c, err := d.DialContext(ctx, "tcp", up.Address)
			if err != nil {
				return nil, err
			}
			return &cancelOnClear{Conn: c, cancel: cancel, deadline: make(chan struct{})}, nil
		},
		fallback:   &http.Transport{},
		readHeader: 5 * time.Second,
	}
	t.Cleanup(rt.close)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://shop.test/", nil)
	done := make(chan error, 1)
	go func() {
		resp, err := rt.RoundTrip(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a cancelled request read its whole body")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a request cancelled while its header deadline was cleared still waits on the backend")
	}
}

// TestIdleConnectionsReaped: with no further traffic, a pooled connection
// is closed by the proxy once it has been idle for UpstreamIdleTimeout,
// not left open until the backend gives up on it. A prefork Apache gives
// each open connection a whole worker: idle ones kept for the backend's
// keep-alive would leave a burst's other requests waiting in its backlog.
func TestIdleConnectionsReaped(t *testing.T) {
	closed := make(chan struct{}, 1)
	up := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				closed <- struct{}{} // the proxy closed its side
				return
			}
			if answerPath(c, req) != nil {
				return
			}
		}
	})
	p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: up}}, nil)
	get(t, p.client(t, false), "GET", "https://shop.test/x", nil)
	select {
	case <-closed:
	case <-time.After(UpstreamIdleTimeout + 2*time.Second):
		t.Fatalf("the idle upstream connection is still open %v after its request", UpstreamIdleTimeout+2*time.Second)
	}
}
