//go:build unix

package proxy

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waker is what the engine does for a parked project: Wake starts the
// backend once, in the background, and hands every request the same
// channel; when the start ends it publishes the next table, then closes
// the channel.
type waker struct {
	p     *testProxy
	delay time.Duration
	next  []Route // the table once the start ended; nil: never ends

	mu     sync.Mutex
	ch     chan struct{}
	calls  atomic.Int64
	starts atomic.Int64
}

func (w *waker) wake() <-chan struct{} {
	w.calls.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch != nil {
		return w.ch
	}
	w.ch = make(chan struct{})
	w.starts.Add(1)
	ch := w.ch
	go func() {
		// Starting: the route waits on the start's gate.
		w.p.SetRoutes(NewTable([]Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
			Down: "the project is still starting", Pending: ch}}))
		if w.next == nil {
			return
		}
		time.Sleep(w.delay)
		w.p.SetRoutes(NewTable(w.next))
		close(ch)
	}()
	return w.ch
}

// TestWakeHoldsFirstRequest: the first requests to a stopped route that
// has Wake start its backend once and wait for it, then reach it: no 502
// on a first visit. HTTP/1.1, HTTP/2 and websockets alike.
func TestWakeHoldsFirstRequest(t *testing.T) {
	up := tcpBackend(t, &echoBackend{name: "web"})
	ws := tcpBackend(t, wsEcho(t))
	running := []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: up},
		{Project: "shop", Service: "ws", Domains: []string{"shop.test"}, PathPrefix: "/ws", Upstream: ws}}
	stopped := func(w *waker) []Route {
		return []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
			Down: "the project is stopped", StartCommand: "devport start shop", Wake: w.wake}}
	}
	for _, h2 := range []bool{false, true} {
		name := map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2]
		t.Run(name+": five first requests, one start, five answers", func(t *testing.T) {
			w := &waker{delay: 300 * time.Millisecond, next: running}
			w.p = startProxy(t, nil, nil)
			w.p.SetRoutes(NewTable(stopped(w)))
			c := w.p.client(t, h2)
			var wg sync.WaitGroup
			for range 5 {
				wg.Go(func() {
					status, body, err := getBody(c, "https://shop.test/page")
					if err != nil || status != 200 || !strings.Contains(body, `"Backend":"web"`) {
						t.Errorf("first request: %d %.200q %v, want 200 from the backend", status, body, err)
					}
				})
			}
			wg.Wait()
			if n := w.starts.Load(); n != 1 {
				t.Errorf("%d starts, want 1", n)
			}
		})
	}
	t.Run("websocket over HTTP/1.1", func(t *testing.T) {
		w := &waker{delay: 200 * time.Millisecond, next: running}
		w.p = startProxy(t, nil, nil)
		w.p.SetRoutes(NewTable(stopped(w)))
		conn, br := w.p.wsDial(t, "shop.test", []string{"http/1.1"})
		if err := writeFrame(conn, "hi", true); err != nil {
			t.Fatal(err)
		}
		if got, err := readFrame(br); err != nil || got != "hi" {
			t.Errorf("echo %q, %v", got, err)
		}
	})
	t.Run("a start that fails shows its reason, and is not tried again by the same request", func(t *testing.T) {
		w := &waker{delay: 100 * time.Millisecond}
		w.p = startProxy(t, nil, nil)
		failed := stopped(w)
		failed[0].Down = "it failed: apache2 exited at start"
		w.next = failed // down again, Wake and all
		w.p.SetRoutes(NewTable(stopped(w)))
		status, body, err := getBody(w.p.client(t, true), "https://shop.test/")
		if err != nil || status != http.StatusBadGateway || !strings.Contains(body, "apache2 exited at start") {
			t.Errorf("after a failed start: %d %.300q %v, want the 502 page with the reason", status, body, err)
		}
		if n := w.calls.Load(); n != 1 {
			t.Errorf("Wake called %d times by one request, want 1", n)
		}
	})
	t.Run("nil channel: answered as down at once", func(t *testing.T) {
		p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
			Down: "the project is stopped", Wake: func() <-chan struct{} { return nil }}}, nil)
		start := time.Now()
		status, body, _ := getBody(p.client(t, false), "https://shop.test/")
		if status != http.StatusBadGateway || !strings.Contains(body, "the project is stopped") || time.Since(start) > 5*time.Second {
			t.Errorf("got %d %.200q after %v, want the stopped page at once", status, body, time.Since(start))
		}
	})
	t.Run("hold timeout", func(t *testing.T) {
		w := &waker{} // never ends
		p := startProxy(t, nil, func(c *Config) { c.HoldTimeout = 300 * time.Millisecond })
		w.p = p
		p.SetRoutes(NewTable(stopped(w)))
		start := time.Now()
		status, body, _ := getBody(p.client(t, true), "https://shop.test/")
		if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
			t.Errorf("answered after %v, want the hold timeout of 300ms", d)
		}
		if status != http.StatusBadGateway || !strings.Contains(body, "(waited 300ms)") {
			t.Errorf("after the hold timeout: %d %.300q", status, body)
		}
	})
	t.Run("holding off: answered at once, and the start goes on", func(t *testing.T) {
		w := &waker{}
		p := startProxy(t, nil, func(c *Config) { c.HoldTimeout = -1 })
		w.p = p
		p.SetRoutes(NewTable(stopped(w)))
		if status, _, _ := getBody(p.client(t, false), "https://shop.test/"); status != http.StatusBadGateway {
			t.Errorf("with holding off: %d, want the 502 at once", status)
		}
		if n := w.starts.Load(); n != 1 {
			t.Errorf("%d starts, want 1", n)
		}
	})
	t.Run("a running route never wakes", func(t *testing.T) {
		w := &waker{}
		rs := running[:1:1]
		rs[0].Wake = w.wake
		p := startProxy(t, rs, nil)
		if status, _, err := getBody(p.client(t, false), "https://shop.test/"); status != 200 || err != nil {
			t.Errorf("running route: %d %v", status, err)
		}
		if n := w.calls.Load(); n != 0 {
			t.Errorf("Wake called %d times for a route that is up", n)
		}
	})
}

// TestActivity: the proxy says when a project last had a request and how
// many it is serving now, websockets included, so the engine can stop
// what nobody uses.
func TestActivity(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	slow := tcpBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		io.WriteString(w, "done")
	}))
	ws := tcpBackend(t, wsEcho(t))
	p := startProxy(t, []Route{
		{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: slow},
		{Project: "shop", Service: "ws", Domains: []string{"shop.test"}, PathPrefix: "/ws", Upstream: ws},
		{Project: "blog", Service: "web", Domains: []string{"blog.test"}, Upstream: ws},
	}, nil)
	if last, n := p.Activity("shop"); !last.IsZero() || n != 0 {
		t.Errorf("before any request: %v, %d", last, n)
	}
	before := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		getBody(p.client(t, true), "https://shop.test/slow")
	}()
	<-entered
	if last, n := p.Activity("shop"); n != 1 || last.Before(before) {
		t.Errorf("one request in flight: last %v (asked at %v), in flight %d; want 1", last, before, n)
	}
	close(release)
	<-done
	if last, n := p.Activity("shop"); n != 0 || last.Before(before) {
		t.Errorf("after it: last %v, in flight %d; want 0", last, n)
	}
	conn, br := p.wsDial(t, "shop.test", []string{"http/1.1"})
	if err := writeFrame(conn, "hi", true); err != nil {
		t.Fatal(err)
	}
	if _, err := readFrame(br); err != nil {
		t.Fatal(err)
	}
	if _, n := p.Activity("shop"); n != 1 {
		t.Errorf("an open websocket: in flight %d, want 1", n)
	}
	conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, n := p.Activity("shop"); n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed websocket still counts as in flight")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if last, n := p.Activity("blog"); !last.IsZero() || n != 0 {
		t.Errorf("blog had no request: %v, %d", last, n)
	}
	// The activity survives a new table, as the engine publishes one on
	// every change.
	p.SetRoutes(NewTable([]Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: slow}}))
	if last, _ := p.Activity("shop"); last.Before(before) {
		t.Errorf("after a new table: last %v", last)
	}
}

func getBody(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
