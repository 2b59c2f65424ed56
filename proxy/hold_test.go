//go:build unix

package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHoldWhileStarting: a request to a route whose backend is starting
// (Route.Pending) waits until the engine publishes the next table and
// closes the channel, then is routed against that table: to the backend
// that is now up, or to the page of a start that failed. HTTP/1.1,
// HTTP/2 and websockets alike.
func TestHoldWhileStarting(t *testing.T) {
	backend := &echoBackend{name: "web"}
	up := tcpBackend(t, backend)
	ws := tcpBackend(t, wsEcho(t))
	starting := func(pending chan struct{}) []Route {
		return []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
			Down: "the project is starting", StartCommand: "devport start shop", Pending: pending}}
	}
	running := []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: up},
		{Project: "shop", Service: "ws", Domains: []string{"shop.test"}, PathPrefix: "/ws", Upstream: ws}}
	failed := []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
		Down: "it failed to start: ModuleNotFoundError: No module named 'app'", StartCommand: "devport start shop"}}

	// publish swaps in the next table and then closes pending, as the
	// engine does, once the request is surely held.
	publish := func(t *testing.T, p *testProxy, pending chan struct{}, next []Route) {
		t.Helper()
		time.Sleep(200 * time.Millisecond)
		p.SetRoutes(NewTable(next))
		close(pending)
	}
	type result struct {
		status int
		body   string
		err    error
	}
	do := func(c *http.Client, url string) <-chan result {
		ch := make(chan result, 1)
		go func() {
			resp, err := c.Get(url)
			if err != nil {
				ch <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			ch <- result{resp.StatusCode, string(b), err}
		}()
		return ch
	}
	held := func(t *testing.T, ch <-chan result) {
		t.Helper()
		select {
		case r := <-ch:
			t.Fatalf("answered while the backend was starting: %d %.200q %v", r.status, r.body, r.err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	for _, h2 := range []bool{false, true} {
		name := map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2]
		t.Run(name+" request reaches the backend once it is up", func(t *testing.T) {
			pending := make(chan struct{})
			p := startProxy(t, starting(pending), nil)
			ch := do(p.client(t, h2), "https://shop.test/page")
			held(t, ch)
			publish(t, p, pending, running)
			r := <-ch
			if r.err != nil || r.status != 200 || decodeSeen(t, r.body).Backend != "web" {
				t.Errorf("after the start: %d %.200q %v, want 200 from the backend", r.status, r.body, r.err)
			}
		})
		t.Run(name+" request gets the start error", func(t *testing.T) {
			pending := make(chan struct{})
			p := startProxy(t, starting(pending), nil)
			ch := do(p.client(t, h2), "https://shop.test/page")
			held(t, ch)
			publish(t, p, pending, failed)
			r := <-ch
			if r.err != nil || r.status != http.StatusBadGateway || !strings.Contains(r.body, "No module named") ||
				!strings.Contains(r.body, "devport start shop") {
				t.Errorf("after a failed start: %d %q %v, want the 502 page with the start error", r.status, r.body, r.err)
			}
		})
	}
	t.Run("websocket over HTTP/1.1", func(t *testing.T) {
		pending := make(chan struct{})
		p := startProxy(t, starting(pending), nil)
		published := make(chan struct{})
		go func() {
			defer close(published)
			publish(t, p, pending, running)
		}()
		t.Cleanup(func() { <-published })
		conn, br := p.wsDial(t, "shop.test", []string{"http/1.1"})
		if err := writeFrame(conn, "hi", true); err != nil {
			t.Fatal(err)
		}
		if got, err := readFrame(br); err != nil || got != "hi" {
			t.Errorf("echo %q, %v", got, err)
		}
	})
	t.Run("restarted again while held", func(t *testing.T) {
		first, second := make(chan struct{}), make(chan struct{})
		p := startProxy(t, starting(first), nil)
		ch := do(p.client(t, true), "https://shop.test/page")
		held(t, ch)
		publish(t, p, first, starting(second))
		held(t, ch)
		publish(t, p, second, running)
		if r := <-ch; r.status != 200 {
			t.Errorf("after two starts: %d %.200q %v", r.status, r.body, r.err)
		}
	})
	t.Run("hold timeout", func(t *testing.T) {
		pending := make(chan struct{})
		defer close(pending)
		p := startProxy(t, starting(pending), func(c *Config) { c.HoldTimeout = 300 * time.Millisecond })
		start := time.Now()
		r := <-do(p.client(t, true), "https://shop.test/page")
		if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
			t.Errorf("answered after %v, want the hold timeout of 300ms", d)
		}
		if r.status != http.StatusBadGateway || !strings.Contains(r.body, "the project is starting (waited 300ms)") ||
			strings.Contains(r.body, "Start it") {
			t.Errorf("after the hold timeout: %d %q, want a 502 that says it is still starting, and how long it waited", r.status, r.body)
		}
	})
	t.Run("shutdown answers held requests", func(t *testing.T) {
		pending := make(chan struct{})
		defer close(pending)
		p := startProxy(t, starting(pending), nil)
		ch := do(p.client(t, true), "https://shop.test/page")
		held(t, ch)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown with a held request: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Shutdown took %v with a held request", d)
		}
		if r := <-ch; r.err == nil && r.status != http.StatusBadGateway {
			t.Errorf("held request at shutdown: %d %.200q", r.status, r.body)
		}
	})
	t.Run("client gone", func(t *testing.T) {
		pending := make(chan struct{})
		defer close(pending)
		dir := t.TempDir()
		al, err := NewAccessLog(AccessLogConfig{Path: func(p string) string { return filepath.Join(dir, p+".log") }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = al.Close(context.Background()) })
		p := startProxy(t, starting(pending), func(c *Config) { c.AccessLog = al })
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://shop.test/gone", nil)
		errc := make(chan error, 1)
		go func() {
			resp, err := p.client(t, true).Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		time.Sleep(200 * time.Millisecond)
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("client: %v, want its cancellation", err)
		}
		// The held handler returns (its access entry is written) without
		// waiting for the start.
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, _ := os.ReadFile(filepath.Join(dir, "shop.log"))
			if strings.Contains(string(b), `"path":"/gone"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the held request did not end when its client left")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestHoldWebSocketHTTP2: a websocket over HTTP/2 to a starting backend
// waits for it like any other request.
func TestHoldWebSocketHTTP2(t *testing.T) {
	if !runWithXConnect(t, "TestHoldWebSocketHTTP2") {
		return
	}
	pending := make(chan struct{})
	p := startProxy(t, []Route{{Project: "shop", Service: "ws", Domains: []string{"shop.test"},
		Down: "the project is starting", Pending: pending}}, nil)
	up := tcpBackend(t, wsEcho(t))
	published := make(chan struct{})
	go func() {
		defer close(published)
		time.Sleep(200 * time.Millisecond)
		p.SetRoutes(NewTable([]Route{{Project: "shop", Service: "ws", Domains: []string{"shop.test"}, Upstream: up}}))
		close(pending)
	}()
	t.Cleanup(func() { <-published })
	body, send, _ := p.h2WebSocket(t, "shop.test", "/ws")
	if err := writeFrame(send, "hi", true); err != nil {
		t.Fatal(err)
	}
	if got, err := readFrame(body); err != nil || got != "hi" {
		t.Errorf("echo %q, %v", got, err)
	}
}
