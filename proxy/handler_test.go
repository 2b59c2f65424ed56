package proxy

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestForwardedHeaders(t *testing.T) {
	tests := []struct {
		name    string
		backend func(testing.TB, http.Handler) *Upstream
	}{
		{"tcp upstream", tcpBackend},
		{"unix upstream", unixBackend},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &echoBackend{name: "web"}
			p := startProxy(t, []Route{{
				Project: "shop", Service: "web", Domains: []string{"shop.test"}, PathPrefix: "/",
				Upstream: tc.backend(t, b),
			}}, nil)
			c := p.client(t, false)
			resp, body := get(t, c, "GET", "https://shop.test/items?id=3", http.Header{
				"X-Forwarded-For": {"203.0.113.7"},  // spoofed: must be replaced
				"X-Real-Ip":       {"198.51.100.1"}, // spoofed: must be replaced
			})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, body %q", resp.StatusCode, body)
			}
			got := decodeSeen(t, body)
			want := seen{
				Backend: "web", Host: "shop.test", Path: "/items", Query: "id=3",
				XFF: "127.0.0.1", XFProto: "https", XFHost: "shop.test", XRealIP: "127.0.0.1",
				ProtoMaj: 1,
			}
			if got != want {
				t.Errorf("backend saw\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestStripPrefix(t *testing.T) {
	b := &echoBackend{name: "api"}
	up := tcpBackend(t, b)
	p := startProxy(t, []Route{
		{Service: "api", Domains: []string{"strip.test"}, PathPrefix: "/api", StripPrefix: true, Upstream: up},
		{Service: "api", Domains: []string{"keep.test"}, PathPrefix: "/api", Upstream: up},
		{Service: "api", Domains: []string{"root.test"}, PathPrefix: "/", StripPrefix: true, Upstream: up},
	}, nil)
	c := p.client(t, false)
	tests := []struct {
		name, url, wantPath, wantQuery string
	}{
		{"under prefix", "https://strip.test/api/x", "/x", ""},
		{"deeper", "https://strip.test/api/x/y/", "/x/y/", ""},
		{"prefix itself", "https://strip.test/api", "/", ""},
		{"prefix with slash", "https://strip.test/api/", "/", ""},
		{"query kept", "https://strip.test/api/x?a=1&b=2", "/x", "a=1&b=2"},
		{"escaped path kept", "https://strip.test/api/a%2Fb", "/a%2Fb", ""},
		{"no strip", "https://keep.test/api/x", "/api/x", ""},
		{"root prefix strips nothing", "https://root.test/x", "/x", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, "GET", tc.url, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, body %q", resp.StatusCode, body)
			}
			got := decodeSeen(t, body)
			if got.Path != tc.wantPath || got.Query != tc.wantQuery {
				t.Errorf("backend saw path %q query %q, want %q %q", got.Path, got.Query, tc.wantPath, tc.wantQuery)
			}
		})
	}
}

func TestRoutingThroughProxy(t *testing.T) {
	web, api, admin := &echoBackend{name: "web"}, &echoBackend{name: "api"}, &echoBackend{name: "admin"}
	p := startProxy(t, []Route{
		{Service: "web", Domains: []string{"shop.test"}, PathPrefix: "/", Upstream: tcpBackend(t, web)},
		{Service: "api", Domains: []string{"shop.test"}, PathPrefix: "/api", Upstream: unixBackend(t, api)},
		{Service: "admin", Domains: []string{"admin.shop.test"}, PathPrefix: "/", Upstream: tcpBackend(t, admin)},
	}, nil)
	c := p.client(t, true)
	tests := []struct {
		name, url, wantBackend, wantPath, wantHost string
	}{
		{"root", "https://shop.test/", "web", "/", "shop.test"},
		{"api prefix", "https://shop.test/api/items", "api", "/api/items", "shop.test"},
		{"not on segment boundary", "https://shop.test/apix", "web", "/apix", "shop.test"},
		{"subdomain uses parent routes", "https://www.shop.test/api", "api", "/api", "www.shop.test"},
		{"own subdomain route", "https://admin.shop.test/api", "admin", "/api", "admin.shop.test"},
		{"upper case host", "https://SHOP.test/api", "api", "/api", "SHOP.test"},
		{"dot dot is resolved before routing", "https://shop.test/api/../secret", "web", "/secret", "shop.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			req := &http.Request{Method: "GET", URL: u, Host: u.Host, Header: http.Header{}}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, body %q", resp.StatusCode, body)
			}
			got := decodeSeen(t, string(body))
			if got.Backend != tc.wantBackend || got.Path != tc.wantPath || got.Host != tc.wantHost {
				t.Errorf("got backend %q path %q host %q; want %q %q %q",
					got.Backend, got.Path, got.Host, tc.wantBackend, tc.wantPath, tc.wantHost)
			}
		})
	}
}

func TestURLRoute(t *testing.T) {
	b := &echoBackend{name: "external"}
	ext := httptest.NewServer(b)
	t.Cleanup(ext.Close)
	target, err := url.Parse(ext.URL + "/base")
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, []Route{{
		Project: "docs", Service: "site", Domains: []string{"docs.test"}, PathPrefix: "/", URL: target,
	}}, nil)
	resp, body := get(t, p.client(t, true), "GET", "https://docs.test/x/y?q=1", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, body %q", resp.StatusCode, body)
	}
	got := decodeSeen(t, body)
	if got.Host != target.Host {
		t.Errorf("external server saw Host %q, want its own %q", got.Host, target.Host)
	}
	if got.Path != "/base/x/y" || got.Query != "q=1" {
		t.Errorf("external server saw %q?%q, want /base/x/y?q=1", got.Path, got.Query)
	}
	if got.XFHost != "docs.test" || got.XFProto != "https" || got.XRealIP != "127.0.0.1" {
		t.Errorf("forwarding headers: %+v", got)
	}
}

func TestHTTP2(t *testing.T) {
	b := &echoBackend{name: "web"}
	p := startProxy(t, []Route{{Service: "web", Domains: []string{"shop.test"}, Upstream: tcpBackend(t, b)}}, nil)
	tests := []struct {
		name      string
		offerH2   bool
		wantMajor int
	}{
		{"client offers h2", true, 2},
		{"client offers http/1.1 only", false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, p.client(t, tc.offerH2), "GET", "https://shop.test/", nil)
			if resp.StatusCode != http.StatusOK || resp.ProtoMajor != tc.wantMajor {
				t.Fatalf("status %d over HTTP/%d, want 200 over HTTP/%d", resp.StatusCode, resp.ProtoMajor, tc.wantMajor)
			}
			if got := decodeSeen(t, body); got.ProtoMaj != 1 || got.Host != "shop.test" {
				t.Errorf("backend saw HTTP/%d host %q, want HTTP/1 shop.test", got.ProtoMaj, got.Host)
			}
		})
	}
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTPSPort())), &tls.Config{
			RootCAs: p.ca.pool, ServerName: "shop.test", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11,
		})
		if err == nil {
			conn.Close()
			t.Fatal("TLS 1.1 handshake succeeded, want MinVersion 1.2")
		}
	})
}

func TestWebSocket(t *testing.T) {
	tests := []struct {
		name    string
		alpn    []string
		backend func(testing.TB, http.Handler) *Upstream
	}{
		{"alpn http/1.1 to tcp", []string{"http/1.1"}, tcpBackend},
		{"no alpn to tcp", nil, tcpBackend},
		{"alpn http/1.1 to unix socket", []string{"http/1.1"}, unixBackend},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startProxy(t, []Route{{
				Service: "ws", Domains: []string{"chat.test"}, PathPrefix: "/", Upstream: tc.backend(t, wsEcho(t)),
			}}, nil)
			conn, br := p.wsDial(t, "chat.test", tc.alpn)
			for _, msg := range []string{"hello", "second frame"} {
				if err := writeFrame(conn, msg, true); err != nil {
					t.Fatalf("write frame: %v", err)
				}
				got, err := readFrame(br)
				if err != nil {
					t.Fatalf("read echoed frame: %v", err)
				}
				if got != msg {
					t.Errorf("echo = %q, want %q", got, msg)
				}
			}
		})
	}
}

func TestUnknownHost(t *testing.T) {
	tests := []struct {
		name      string
		pages     bool
		host      string
		wantType  string
		wantParts []string
	}{
		{"html page", true, "nowhere.test", "text/html", []string{"nowhere.test", `href="https://shop.test:%d/"`, `href="https://blog.test:%d/"`, "www.shop.test"}},
		{"ip address", true, "127.0.0.1", "text/html", []string{"127.0.0.1", "https://shop.test:%d/"}},
		{"plain text without pages", false, "nowhere.test", "text/plain", []string{"nowhere.test", "https://shop.test:%d/", "https://blog.test:%d/"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &echoBackend{name: "web"}
			up := tcpBackend(t, b)
			p := startProxy(t, []Route{
				{Service: "web", Domains: []string{"shop.test", "www.shop.test"}, PathPrefix: "/", Upstream: up},
				{Service: "api", Domains: []string{"shop.test"}, PathPrefix: "/api", Upstream: up},
				{Service: "blog", Domains: []string{"blog.test"}, PathPrefix: "/", Upstream: up},
			}, func(c *Config) {
				if !tc.pages {
					c.Pages = Pages{}
				}
			})
			resp, body := get(t, p.client(t, true), "GET", "https://"+tc.host+"/some/path", nil)
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("status = %d, want 404; body %q", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Errorf("Content-Type = %q, want %s", ct, tc.wantType)
			}
			for _, part := range tc.wantParts {
				if strings.Contains(part, "%d") {
					part = fmt.Sprintf(part, p.HTTPSPort())
				}
				if !strings.Contains(body, part) {
					t.Errorf("page does not contain %q:\n%s", part, body)
				}
			}
			if n := b.hits.Load(); n != 0 {
				t.Errorf("a backend got %d requests for an unknown host", n)
			}
		})
	}
}

func TestNoRouteForPath(t *testing.T) {
	b := &echoBackend{name: "api"}
	p := startProxy(t, []Route{{Service: "api", Domains: []string{"svc.test"}, PathPrefix: "/api", Upstream: tcpBackend(t, b)}}, nil)
	resp, body := get(t, p.client(t, false), "GET", "https://svc.test/other", nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "/other") {
		t.Errorf("status %d body %q, want 404 naming the path", resp.StatusCode, body)
	}
	if b.hits.Load() != 0 {
		t.Error("the backend got a request its prefix does not cover")
	}
}

func TestBadGateway(t *testing.T) {
	missingSock := filepath.Join(t.TempDir(), "missing.sock")
	tests := []struct {
		name      string
		route     Route
		pages     bool
		wantParts []string
	}{
		{
			name: "stopped route",
			route: Route{Project: "shop", Service: "web", Down: "the project is stopped",
				StartCommand: "devport start shop"},
			pages:     true,
			wantParts: []string{"shop", "web", "the project is stopped", "devport start shop", "shop.test"},
		},
		{
			name:      "down without reason",
			route:     Route{Project: "shop", Service: "web"},
			pages:     true,
			wantParts: []string{"not running"},
		},
		{
			name: "connection refused",
			route: Route{Project: "shop", Service: "api", StartCommand: "devport start shop",
				Upstream: &Upstream{Network: "tcp", Address: deadAddress(t)}},
			pages:     true,
			wantParts: []string{"shop", "api", "connection refused", "devport logs shop"},
		},
		{
			name:      "missing unix socket",
			route:     Route{Project: "shop", Service: "api", Upstream: &Upstream{Network: "unix", Address: missingSock}},
			pages:     true,
			wantParts: []string{"its socket does not exist"},
		},
		{
			name: "plain text without pages",
			route: Route{Project: "shop", Service: "web", Down: "stopped",
				StartCommand: "devport start shop"},
			wantParts: []string{"502", "shop", "web", "stopped", "devport start shop"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := tc.route
			rt.Domains, rt.PathPrefix = []string{"shop.test"}, "/"
			p := startProxy(t, []Route{rt}, func(c *Config) {
				if !tc.pages {
					c.Pages = Pages{}
				}
			})
			resp, body := get(t, p.client(t, true), "GET", "https://shop.test/", nil)
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("status = %d, want 502; body %q", resp.StatusCode, body)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			for _, part := range tc.wantParts {
				if !strings.Contains(body, part) {
					t.Errorf("page does not contain %q:\n%s", part, body)
				}
			}
		})
	}
}

func TestBadHost(t *testing.T) {
	p := startProxy(t, nil, nil)
	tests := []struct{ name, request string }{
		{"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n"},
		{"malformed Host", "GET / HTTP/1.1\r\nHost: shop.test:https\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTPSPort())),
				&tls.Config{RootCAs: p.ca.pool, ServerName: "shop.test", NextProtos: []string{"http/1.1"}})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(conn, tc.request); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", resp.StatusCode)
			}
		})
	}
}

func TestErrorReason(t *testing.T) {
	opErr := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: &osSyscallErr{err}} }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"refused", opErr(syscall.ECONNREFUSED), "connection refused"},
		{"no socket", opErr(syscall.ENOENT), "its socket does not exist"},
		{"reset", opErr(syscall.ECONNRESET), "connection reset"},
		{"timeout", &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}, "timeout"},
		{"eof", fmt.Errorf("read: %w", io.EOF), "it closed the connection without answering"},
		{"dns", &net.DNSError{Name: "nowhere.example", IsNotFound: true}, "host nowhere.example not found"},
		{"other", errors.New("something odd"), "something odd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorReason(tc.err); got != tc.want {
				t.Errorf("errorReason(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

type osSyscallErr struct{ err error }

func (e *osSyscallErr) Error() string { return "connect: " + e.err.Error() }
func (e *osSyscallErr) Unwrap() error { return e.err }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestBadGatewayHints: the 502 page offers the start command only for a
// route that is down (stopped, crashed, failed to start); a running
// project whose backend failed a request is pointed at its logs instead,
// since starting it again is not the fix.
func TestBadGatewayHints(t *testing.T) {
	tests := []struct {
		name      string
		route     Route
		want, not []string
	}{
		{
			name: "down route offers the start command",
			route: Route{Project: "shop", Service: "web", Down: "it crashed (exit status 1)",
				StartCommand: "devport restart shop"},
			want: []string{"it crashed (exit status 1)", "devport restart shop", "devport logs shop"},
		},
		{
			name: "running route that failed points at the logs",
			route: Route{Project: "shop", Service: "api", StartCommand: "devport start shop",
				Upstream: &Upstream{Network: "tcp", Address: deadAddress(t)}},
			want: []string{"connection refused", "devport logs shop"},
			not:  []string{"devport start shop", "Start it"},
		},
		{
			name: "its own logs command",
			route: Route{Project: "shop", Service: "api", LogsCommand: "devport logs shop --service api",
				Upstream: &Upstream{Network: "tcp", Address: deadAddress(t)}},
			want: []string{"devport logs shop --service api"},
		},
	}
	for _, tc := range tests {
		for _, pages := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/pages=%v", tc.name, pages), func(t *testing.T) {
				rt := tc.route
				rt.Domains = []string{"shop.test"}
				p := startProxy(t, []Route{rt}, func(c *Config) {
					if !pages {
						c.Pages = Pages{}
					}
				})
				resp, body := get(t, p.client(t, true), "GET", "https://shop.test/", nil)
				if resp.StatusCode != http.StatusBadGateway {
					t.Fatalf("status = %d, want 502", resp.StatusCode)
				}
				for _, s := range tc.want {
					if !strings.Contains(body, s) {
						t.Errorf("page lacks %q:\n%s", s, body)
					}
				}
				for _, s := range tc.not {
					if strings.Contains(body, s) {
						t.Errorf("page offers %q:\n%s", s, body)
					}
				}
			})
		}
	}
}

// TestClientAddressNotSpoofable: the proxy is the first hop, so what a
// client says about itself in X-Forwarded-*, X-Real-IP or Forwarded never
// reaches the backend; the backend sees the real client address only.
func TestClientAddressNotSpoofable(t *testing.T) {
	got := make(chan http.Header, 1)
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	})
	ext := httptest.NewServer(backend)
	t.Cleanup(ext.Close)
	extURL, _ := url.Parse(ext.URL)
	p := startProxy(t, []Route{
		{Project: "shop", Service: "web", Domains: []string{"shop.test"}, Upstream: tcpBackend(t, backend)},
		{Project: "docs", Service: "site", Domains: []string{"docs.test"}, URL: extURL},
	}, nil)
	spoofed := http.Header{
		"X-Forwarded-For":    {"6.6.6.6"},
		"X-Real-Ip":          {"6.6.6.6"},
		"Forwarded":          {"for=6.6.6.6;proto=http"},
		"X-Forwarded-Host":   {"evil.test"},
		"X-Forwarded-Proto":  {"http"},
		"X-Forwarded-Port":   {"1"},
		"X-Forwarded-Prefix": {"/evil"},
		"X-Forwarded-Ssl":    {"off"},
	}
	tests := []struct {
		name, host string
		h2         bool
	}{
		{"HTTP/1.1 to a service", "shop.test", false},
		{"HTTP/2 to a service", "shop.test", true},
		{"HTTP/2 to a URL route", "docs.test", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := get(t, p.client(t, tc.h2), "GET", "https://"+tc.host+"/", spoofed)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			h := <-got
			want := map[string]string{
				"X-Forwarded-For":   "127.0.0.1",
				"X-Real-Ip":         "127.0.0.1",
				"Forwarded":         `for=127.0.0.1;host="` + tc.host + `";proto=https`,
				"X-Forwarded-Host":  tc.host,
				"X-Forwarded-Proto": "https",
			}
			for k, v := range want {
				if g := h.Values(k); len(g) != 1 || g[0] != v {
					t.Errorf("backend saw %s %q, want only %q", k, g, v)
				}
			}
			for _, k := range []string{"X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Ssl"} {
				if g := h.Values(k); len(g) > 0 {
					t.Errorf("backend saw the client's %s %q", k, g)
				}
			}
		})
	}
}
