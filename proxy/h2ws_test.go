//go:build unix

package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
	"golang.org/x/net/http2"
)

// uvicornApp is an ASGI app with a websocket endpoint that echoes text
// frames prefixed with "echo:" and the Host it was asked for.
const uvicornApp = `
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            m = await receive()
            if m["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif m["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    host = dict(scope["headers"]).get(b"host", b"").decode()
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        m = await receive()
        if m["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": "echo:" + host + ":" + (m.get("text") or "")})
`

// uvicornBackend starts a real uvicorn (Debian's python3 with uvicorn and
// websockets) on a unix socket, or skips when it is not installed.
func uvicornBackend(t *testing.T) *Upstream {
	t.Helper()
	return startUvicorn(t, uvicornApp, "--ws", "websockets")
}

// startUvicorn serves the ASGI app (the source of a module with an "app")
// with Debian's uvicorn on a unix socket in a temp dir, with more uvicorn
// flags, and stops it when the test ends. It skips when uvicorn or
// websockets is not installed.
func startUvicorn(t *testing.T, app string, args ...string) *Upstream {
	t.Helper()
	py := "/usr/bin/python3"
	testenv.Need(t, "uvicorn with websockets", exec.Command(py, "-c", "import uvicorn, websockets").Run() == nil,
		"apt-get install python3-uvicorn python3-websockets ("+testenv.InstallFix+")")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "wsapp.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "uv.sock")
	cmd := exec.Command(py, append([]string{"-m", "uvicorn", "--app-dir", dir, "--uds", sock, "--log-level", "warning"},
		append(args, "wsapp:app")...)...)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return &Upstream{Network: "unix", Address: sock}
		}
		select {
		case <-done:
			t.Fatalf("uvicorn exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("uvicorn did not listen within 10s: %s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWebSocketHTTP2 opens websockets through the proxy over HTTP/2
// (RFC 8441 extended CONNECT) and over HTTP/1.1, to a minimal Go backend
// and to a real uvicorn. net/http only offers extended CONNECT when the
// process starts with GODEBUG=http2xconnect=1, so the test runs itself
// again in a child process with it.
func TestWebSocketHTTP2(t *testing.T) {
	if !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestWebSocketHTTP2$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "GODEBUG=http2xconnect=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestWebSocketHTTP2") {
			t.Fatalf("child with GODEBUG=http2xconnect=1: %v\n%s", err, out)
		}
		if strings.Contains(string(out), "--- SKIP") {
			t.Logf("child output:\n%s", out)
		}
		return
	}
	backends := []struct {
		name string
		up   func(*testing.T) *Upstream
		want func(host, msg string) string
	}{
		{"go backend", func(t *testing.T) *Upstream { return tcpBackend(t, wsEcho(t)) }, func(_, msg string) string { return msg }},
		{"uvicorn", uvicornBackend, func(host, msg string) string { return "echo:" + host + ":" + msg }},
		{"uwsgi", func(t *testing.T) *Upstream { return startUwsgi(t).upstream() }, func(host, msg string) string { return "echo:" + host + ":" + msg }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			up := b.up(t)
			p := startProxy(t, []Route{{Project: "shop", Service: "api", Domains: []string{"shop.test"},
				PathPrefix: "/ws", Upstream: up}}, nil)
			t.Run("http2", func(t *testing.T) {
				body, send, resp := p.h2WebSocket(t, "shop.test", "/ws")
				if resp.ProtoMajor != 2 {
					t.Fatalf("proto %s", resp.Proto)
				}
				for _, msg := range []string{"hello", "again"} {
					if err := writeFrame(send, msg, true); err != nil {
						t.Fatal(err)
					}
					got, err := readFrame(body)
					if err != nil {
						t.Fatal(err)
					}
					if want := b.want("shop.test", msg); got != want {
						t.Errorf("echo = %q, want %q", got, want)
					}
				}
			})
			t.Run("http1.1", func(t *testing.T) {
				conn, br := h1WebSocket(t, p, "shop.test", "/ws")
				if err := writeFrame(conn, "one", true); err != nil {
					t.Fatal(err)
				}
				got, err := readFrame(br)
				if err != nil {
					t.Fatal(err)
				}
				if want := b.want("shop.test", "one"); got != want {
					t.Errorf("echo = %q, want %q", got, want)
				}
			})
		})
	}
	t.Run("shutdown closes http2 websockets", func(t *testing.T) {
		p := startProxy(t, []Route{{Project: "shop", Service: "api", Domains: []string{"shop.test"},
			Upstream: tcpBackend(t, wsEcho(t))}}, nil)
		body, _, _ := p.h2WebSocket(t, "shop.test", "/ws")
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if _, err := readFrame(body); err == nil {
			t.Error("the stream still carries frames after Shutdown")
		}
	})
}

// h2WebSocket opens an RFC 8441 websocket through the proxy and returns
// the stream's read side, its write side and the response.
func (p *testProxy) h2WebSocket(t *testing.T, host, path string) (io.Reader, io.Writer, *http.Response) {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTPSPort()))
	// net/http's client refuses the ":protocol" pseudo-header; the
	// x/net one speaks RFC 8441 (tests only: the proxy imports no x/net).
	tr := &http2.Transport{
		TLSClientConfig: &tls.Config{RootCAs: p.ca.pool, NextProtos: []string{"h2"}},
		DialTLSContext: func(ctx context.Context, _, _ string, cfg *tls.Config) (net.Conn, error) {
			return (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodConnect, "https://"+host+path, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(":protocol", "websocket")
	req.Header.Set("Sec-Websocket-Version", "13")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("extended CONNECT: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("extended CONNECT: status %d, body %q", resp.StatusCode, b)
	}
	return resp.Body, pw, resp
}

// h1WebSocket does a plain HTTP/1.1 websocket handshake through the proxy.
func h1WebSocket(t *testing.T, p *testProxy, host, path string) (net.Conn, *bufio.Reader) {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTPSPort()))
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: p.ca.pool, ServerName: host, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, host, key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-Websocket-Accept") != wsAccept(key) {
		t.Fatalf("handshake: status %d accept %q", resp.StatusCode, resp.Header.Get("Sec-Websocket-Accept"))
	}
	return conn, br
}

// runWithXConnect runs test name again in a child process with
// GODEBUG=http2xconnect=1 (net/http reads it once at start) and reports
// whether the caller is that child, which should go on with the test.
func runWithXConnect(t *testing.T, name string) bool {
	t.Helper()
	if strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		return true
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "GODEBUG=http2xconnect=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("child with GODEBUG=http2xconnect=1: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Logf("child output:\n%s", out)
	}
	return false
}

// TestWebSocketHTTP2Pool: a websocket over HTTP/2 goes through the route's
// pool like any other request: an instance that cannot be dialed is
// skipped (the stream goes to another one, and the dead one is marked
// down), and an open websocket counts as in flight on its instance until
// it closes.
func TestWebSocketHTTP2Pool(t *testing.T) {
	if !runWithXConnect(t, "TestWebSocketHTTP2Pool") {
		return
	}
	p := startProxy(t, []Route{{Project: "shop", Service: "api", Domains: []string{"shop.test"},
		Upstreams: []Upstream{{Address: deadAddress(t)}, *tcpBackend(t, wsEcho(t))},
		Limits:    Limits{FailTimeout: time.Minute}}}, nil)
	pl := p.active.Load().handlers[0].pool
	dead, live := pl.insts[0], pl.insts[1]

	type stream struct {
		body io.Reader
		send *io.PipeWriter
		resp *http.Response
	}
	var open []stream
	for i := range 4 {
		body, send, resp := p.h2WebSocket(t, "shop.test", "/ws")
		if err := writeFrame(send, "hi", true); err != nil {
			t.Fatal(err)
		}
		if got, err := readFrame(body); err != nil || got != "hi" {
			t.Fatalf("websocket %d: echo %q, %v", i, got, err)
		}
		open = append(open, stream{body, send.(*io.PipeWriter), resp})
	}
	t.Run("dead instance is marked down", func(t *testing.T) {
		if dead.downUntil.Load() <= time.Now().UnixNano() {
			t.Error("the instance that refused the dial is not marked down")
		}
	})
	t.Run("open websockets are in flight", func(t *testing.T) {
		if n := live.inFlight.Load(); n != int64(len(open)) {
			t.Errorf("live instance has %d in flight with %d websockets open", n, len(open))
		}
		if n := dead.inFlight.Load(); n != 0 {
			t.Errorf("dead instance has %d in flight", n)
		}
	})
	t.Run("closed websockets are not", func(t *testing.T) {
		for _, s := range open {
			s.send.Close()
			s.resp.Body.Close()
		}
		deadline := time.Now().Add(5 * time.Second)
		for live.inFlight.Load() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := live.inFlight.Load(); n != 0 {
			t.Errorf("%d still in flight after every websocket closed", n)
		}
	})
}
