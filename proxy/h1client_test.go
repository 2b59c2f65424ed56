package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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
