package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRedirect(t *testing.T) {
	p := startProxy(t, []Route{{Service: "web", Domains: []string{"shop.test"}, Upstream: &Upstream{Address: deadAddress(t)}}}, nil)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTPPort()))
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	port := p.HTTPSPort()
	tests := []struct {
		name, method, url, want string
	}{
		{"path and query", "GET", "http://shop.test/a/b?c=1&d=%20", fmt.Sprintf("https://shop.test:%d/a/b?c=1&d=%%20", port)},
		{"root", "GET", "http://shop.test/", fmt.Sprintf("https://shop.test:%d/", port)},
		{"port of the http listener dropped", "GET", "http://shop.test:8080/x", fmt.Sprintf("https://shop.test:%d/x", port)},
		{"unknown host still redirected", "GET", "http://nowhere.test/x", fmt.Sprintf("https://nowhere.test:%d/x", port)},
		{"post keeps 308", "POST", "http://shop.test/form", fmt.Sprintf("https://shop.test:%d/form", port)},
		{"host lowercased", "GET", "http://Shop.Test./x", fmt.Sprintf("https://shop.test:%d/x", port)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := get(t, c, tc.method, tc.url, nil)
			if resp.StatusCode != http.StatusPermanentRedirect {
				t.Errorf("status = %d, want 308", resp.StatusCode)
			}
			if got := resp.Header.Get("Location"); got != tc.want {
				t.Errorf("Location = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHTTPSURL(t *testing.T) {
	tests := []struct {
		name, host string
		port       int
		uri, want  string
	}{
		{"443 omitted", "shop.test", 443, "/a?b=1", "https://shop.test/a?b=1"},
		{"unknown port omitted", "shop.test", 0, "/", "https://shop.test/"},
		{"other port kept", "shop.test", 8443, "/x", "https://shop.test:8443/x"},
		{"ipv6 with port", "::1", 8443, "/", "https://[::1]:8443/"},
		{"ipv6 on 443", "::1", 443, "/", "https://[::1]/"},
		{"asterisk", "shop.test", 443, "*", "https://shop.test/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := httpsURL(tc.host, tc.port, tc.uri); got != tc.want {
				t.Errorf("httpsURL(%q, %d, %q) = %q, want %q", tc.host, tc.port, tc.uri, got, tc.want)
			}
		})
	}
}

// ipv6Loopback reports whether this machine can listen on ::1.
func ipv6Loopback() bool {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func TestStartSharesPortAcrossAddresses(t *testing.T) {
	p := startProxy(t, []Route{{Service: "web", Domains: []string{"shop.test"}, Upstream: tcpBackend(t, &echoBackend{name: "web"})}},
		func(c *Config) {
			c.HTTPSAddrs = []string{"127.0.0.1:0", "[::1]:0"}
			c.HTTPAddrs = []string{"127.0.0.1:0", "[::1]:0"}
		})
	if p.HTTPSPort() == 0 || p.HTTPPort() == 0 || p.HTTPSPort() == p.HTTPPort() {
		t.Fatalf("ports https=%d http=%d", p.HTTPSPort(), p.HTTPPort())
	}
	if !ipv6Loopback() {
		t.Skip("no IPv6 loopback here: [::1] was skipped, which is what Start must do")
	}
	for _, port := range []int{p.HTTPSPort(), p.HTTPPort()} {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort("::1", strconv.Itoa(port)), 5*time.Second)
		if err != nil {
			t.Errorf("[::1]:%d: %v (the IPv6 listener must share the IPv4 port)", port, err)
			continue
		}
		conn.Close()
	}
	// And it serves: HTTPS over ::1 on the shared port.
	c := p.client(t, true)
	c.Transport.(*http.Transport).DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", net.JoinHostPort("::1", strconv.Itoa(p.HTTPSPort())))
	}
	resp, body := get(t, c, "GET", "https://shop.test/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("over ::1: status %d body %q", resp.StatusCode, body)
	}
	if got := decodeSeen(t, body); got.XRealIP != "::1" || got.XFF != "::1" {
		t.Errorf("over ::1: X-Real-IP %q X-Forwarded-For %q, want ::1", got.XRealIP, got.XFF)
	}
}

func TestBindErrorInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() })
	free := deadAddress(t) // bound by the first group, must be released on failure
	tests := []struct {
		name        string
		https, http []string
	}{
		{"https address taken", []string{taken.Addr().String()}, nil},
		{"http address taken after https bound", []string{free}, []string{taken.Addr().String()}},
		{"second https address taken", []string{free, taken.Addr().String()}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ca := newTestCA(t)
			s := New(Config{HTTPSAddrs: tc.https, HTTPAddrs: tc.http, GetCertificate: ca.GetCertificate})
			err := s.Start(t.Context())
			var be *BindError
			if !errors.As(err, &be) {
				t.Fatalf("Start = %v, want a *BindError", err)
			}
			if !be.InUse || be.Permission || be.Addr != taken.Addr().String() {
				t.Errorf("BindError = %+v, want InUse for %s", be, taken.Addr())
			}
			if !errors.Is(err, syscall.EADDRINUSE) {
				t.Errorf("BindError does not unwrap to EADDRINUSE: %v", err)
			}
			if !strings.Contains(err.Error(), taken.Addr().String()) {
				t.Errorf("message %q does not name the address", err)
			}
			// Every listener bound before the failure is closed again.
			ln, err := net.Listen("tcp", free)
			if err != nil {
				t.Fatalf("%s still bound after the failed Start: %v", free, err)
			}
			ln.Close()
			if err := s.Shutdown(t.Context()); err != nil {
				t.Errorf("Shutdown after a failed Start: %v", err)
			}
		})
	}
}

func TestBindErrorPermission(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root, which may bind any port: EACCES cannot happen")
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if n, _ := strconv.Atoi(strings.TrimSpace(string(b))); n <= 1 {
			t.Skipf("net.ipv4.ip_unprivileged_port_start is %d: every port is unprivileged", n)
		}
	}
	s := New(Config{HTTPAddrs: []string{"127.0.0.1:1"}})
	err := s.Start(t.Context())
	var be *BindError
	if !errors.As(err, &be) || !be.Permission || be.InUse {
		t.Fatalf("Start = %v (%+v), want a BindError with Permission", err, be)
	}
}

func TestStartErrors(t *testing.T) {
	t.Run("twice", func(t *testing.T) {
		p := startProxy(t, nil, nil)
		if err := p.Start(t.Context()); !errors.Is(err, ErrStarted) {
			t.Errorf("second Start = %v, want ErrStarted", err)
		}
	})
	t.Run("after shutdown", func(t *testing.T) {
		s := New(Config{})
		if err := s.Shutdown(t.Context()); err != nil {
			t.Fatalf("Shutdown before Start: %v", err)
		}
		if err := s.Start(t.Context()); !errors.Is(err, ErrStarted) {
			t.Errorf("Start after Shutdown = %v, want ErrStarted", err)
		}
		if err := s.Shutdown(t.Context()); err != nil {
			t.Errorf("second Shutdown: %v", err)
		}
	})
	t.Run("https without certificates", func(t *testing.T) {
		s := New(Config{HTTPSAddrs: []string{"127.0.0.1:0"}})
		if err := s.Start(t.Context()); err == nil {
			s.Shutdown(t.Context())
			t.Error("Start without GetCertificate succeeded")
		}
	})
	t.Run("bad address", func(t *testing.T) {
		s := New(Config{HTTPAddrs: []string{"no-port"}})
		var be *BindError
		if err := s.Start(t.Context()); !errors.As(err, &be) || be.Addr != "no-port" {
			t.Errorf("Start = %v, want a BindError for no-port", err)
		}
	})
	t.Run("zero config", func(t *testing.T) {
		s := New(Config{})
		if err := s.Start(t.Context()); err != nil {
			t.Fatalf("Start: %v", err)
		}
		if s.HTTPSPort() != 0 || s.HTTPPort() != 0 {
			t.Errorf("ports %d/%d with no addresses", s.HTTPSPort(), s.HTTPPort())
		}
		if err := s.Shutdown(t.Context()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
}

func TestSetRoutesKeepsConnections(t *testing.T) {
	a, b := &echoBackend{name: "a"}, &echoBackend{name: "b"}
	upA, upB := tcpBackend(t, a), unixBackend(t, b)
	route := func(up *Upstream) []Route {
		return []Route{{Service: "web", Domains: []string{"shop.test"}, PathPrefix: "/", Upstream: up}}
	}
	p := startProxy(t, route(upA), nil)

	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			p.SetRoutes(NewTable(route(upA)))
			c := p.client(t, h2)
			do := func() (string, bool) {
				var reused bool
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", "https://shop.test/", nil)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				s := decodeSeen(t, string(body))
				return s.Backend, reused
			}
			if got, _ := do(); got != "a" {
				t.Fatalf("before the swap: backend %q, want a", got)
			}
			p.SetRoutes(NewTable(route(upB)))
			got, reused := do()
			if got != "b" {
				t.Errorf("after the swap: backend %q, want b", got)
			}
			if !reused {
				t.Error("the client's keep-alive connection did not survive the swap")
			}
		})
	}

	t.Run("in-flight request finishes on the old route", func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		slow := tcpBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			fmt.Fprint(w, "slow done")
		}))
		p.SetRoutes(NewTable(route(slow)))
		c := p.client(t, true)
		type result struct {
			status int
			body   string
		}
		done := make(chan result, 1)
		go func() {
			resp, err := c.Get("https://shop.test/")
			if err != nil {
				done <- result{body: err.Error()}
				return
			}
			defer resp.Body.Close()
			buf := make([]byte, 64)
			n, _ := resp.Body.Read(buf)
			done <- result{resp.StatusCode, string(buf[:n])}
		}()
		<-entered
		p.SetRoutes(NewTable(route(upA)))
		p.SetRoutes(nil)
		close(release)
		r := <-done
		if r.status != http.StatusOK || r.body != "slow done" {
			t.Errorf("in-flight request: %d %q, want 200 \"slow done\"", r.status, r.body)
		}
	})

	t.Run("concurrent swaps and requests", func(t *testing.T) {
		c := p.client(t, true)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if i%2 == 0 {
					p.SetRoutes(NewTable(route(upA)))
				} else {
					p.SetRoutes(NewTable(route(upB)))
				}
			}
		})
		for range 4 {
			wg.Go(func() {
				for range 25 {
					resp, err := c.Get("https://shop.test/")
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Errorf("status %d during swaps", resp.StatusCode)
					}
				}
			})
		}
		time.Sleep(50 * time.Millisecond)
		close(stop)
		wg.Wait()
	})
}

func TestShutdown(t *testing.T) {
	t.Run("open websocket", func(t *testing.T) {
		p := startProxy(t, []Route{{Service: "ws", Domains: []string{"chat.test"}, Upstream: tcpBackend(t, wsEcho(t))}}, nil)
		conn, br := p.wsDial(t, "chat.test", []string{"http/1.1"})
		if err := writeFrame(conn, "ping", true); err != nil {
			t.Fatal(err)
		}
		if got, err := readFrame(br); err != nil || got != "ping" {
			t.Fatalf("echo = %q, %v", got, err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		if err := p.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Shutdown took %v with an open websocket", d)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := readFrame(br); err == nil {
			t.Error("the websocket is still open after Shutdown")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Error("the websocket was not closed by Shutdown (read timed out)")
		}
	})

	t.Run("waits for in-flight request", func(t *testing.T) {
		entered := make(chan struct{})
		slow := tcpBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			time.Sleep(300 * time.Millisecond)
			fmt.Fprint(w, "finished")
		}))
		p := startProxy(t, []Route{{Service: "web", Domains: []string{"shop.test"}, Upstream: slow}}, nil)
		c := p.client(t, false)
		done := make(chan string, 1)
		go func() {
			resp, err := c.Get("https://shop.test/")
			if err != nil {
				done <- err.Error()
				return
			}
			defer resp.Body.Close()
			buf := make([]byte, 64)
			n, _ := resp.Body.Read(buf)
			done <- string(buf[:n])
		}()
		<-entered
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if got := <-done; got != "finished" {
			t.Errorf("in-flight request got %q, want finished", got)
		}
		if _, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTPSPort())), time.Second); err == nil {
			t.Error("HTTPS listener still accepts after Shutdown")
		}
	})

	t.Run("deadline", func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		t.Cleanup(func() { close(release) })
		stuck := tcpBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		p := startProxy(t, []Route{{Service: "web", Domains: []string{"shop.test"}, Upstream: stuck}}, nil)
		c := p.client(t, false)
		go func() {
			if resp, err := c.Get("https://shop.test/"); err == nil {
				resp.Body.Close()
			}
		}()
		<-entered
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
		}
	})
}
