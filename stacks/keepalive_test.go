//go:build unix

package stacks

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// TestKeepAliveSettings checks that every generated backend states its
// keep-alive (BackendKeepAlive) instead of trusting the server's default
// (Apache and uvicorn 5 s, gunicorn 2 s), in both runtimes.
func TestKeepAliveSettings(t *testing.T) {
	secs := strconv.Itoa(int(BackendKeepAlive / time.Second))
	tests := []struct {
		name      string
		stack     string
		container bool
		want      string // in the generated config, script or command line
	}{
		{name: "apache process", stack: stackdef.PHP, want: "\nKeepAlive " + ApacheKeepAlive + "\n"},
		{name: "apache container", stack: stackdef.PHP, container: true, want: "\nKeepAlive " + ApacheKeepAlive + "\n"},
		{name: "uvicorn process", stack: stackdef.Uvicorn, want: " --timeout-keep-alive " + secs + " "},
		{name: "uvicorn container", stack: stackdef.Uvicorn, container: true, want: " --timeout-keep-alive " + secs + " "},
		{name: "gunicorn process", stack: stackdef.Gunicorn, want: " --keep-alive " + secs + " "},
		{name: "gunicorn container", stack: stackdef.Gunicorn, container: true, want: " --keep-alive " + secs + " "},
		{name: "wsgi process", stack: stackdef.WSGI, want: " --keep-alive " + secs + " "},
		{name: "wsgi container", stack: stackdef.WSGI, container: true, want: " --keep-alive " + secs + " "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"main.py": "", "index.php": ""}
			spec := testSpec(t, tc.stack, files)
			spec.App = "main:app"
			if err := spec.validate(); err != nil {
				t.Fatal(err)
			}
			var got string
			if tc.container {
				spec.Home = t.TempDir()
				p, err := planContainer(spec, "img", []string{"172.18.0.1"})
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range p.files {
					got += string(b)
				}
			} else {
				requireStack(t, tc.stack)
				r := mustRunner(t, spec)
				l, err := r.be.prepare(t.Context(), 0)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(r.be.cleanup)
				got = l.command() + " "
				if tc.stack == stackdef.PHP {
					b, err := os.ReadFile(filepath.Join(spec.RunDir, "httpd.conf"))
					if err != nil {
						t.Fatal(err)
					}
					got = string(b)
				}
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("generated %s lacks %q:\n%s", tc.name, tc.want, got)
			}
		})
	}
}

// TestBackendKeepsIdleConnections holds a connection to each real backend
// idle for longer than the servers' own default keep-alive (5 s), then
// sends a second request on it: the backend must still be there, so the
// proxy's idle pool (which closes after proxy.UpstreamIdleTimeout, below
// BackendKeepAlive) never writes to a connection the backend has closed.
// The backends idle together, one wait for all.
func TestBackendKeepsIdleConnections(t *testing.T) {
	// It mostly waits: alongside the other parallel tests.
	t.Parallel()
	const idle = 5500 * time.Millisecond // > 5 s, the longest default (Apache, uvicorn)
	if BackendKeepAlive <= idle {
		t.Fatalf("BackendKeepAlive %s is not above the %s this test idles", BackendKeepAlive, idle)
	}
	tests := []struct {
		name  string
		stack string
		files map[string]string
		app   string
	}{
		{name: "uvicorn", stack: stackdef.Uvicorn, files: map[string]string{"main.py": fastAPIApp}, app: "main:api"},
		{name: "gunicorn", stack: stackdef.Gunicorn, files: map[string]string{"main.py": fastAPIApp}, app: "main:api"},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conns := make([]*keepAliveConn, len(tests))
	for i, tc := range tests {
		requireStack(t, tc.stack)
		spec := testSpec(t, tc.stack, tc.files)
		spec.App, spec.Workers = tc.app, 1
		up := startRunner(t, mustRunner(t, spec))
		c, err := dialKeepAlive(ctx, up)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		defer c.Close()
		if err := c.roundTrip(1); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		conns[i] = c
	}
	time.Sleep(idle)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := conns[i].roundTrip(2); err != nil {
				t.Errorf("after %s idle: %v (the backend closed the connection)", idle, err)
			}
		})
	}
}

// keepAliveConn is one HTTP/1.1 connection to a backend, requests sent by
// hand so that nothing reconnects behind the test's back.
type keepAliveConn struct {
	net.Conn
	br *bufio.Reader
}

func dialKeepAlive(ctx context.Context, up Upstream) (*keepAliveConn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, up.Network, up.Address)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	return &keepAliveConn{Conn: conn, br: bufio.NewReader(conn)}, nil
}

// roundTrip sends request n and reads its answer, which must not close the
// connection.
func (c *keepAliveConn) roundTrip(n int) error {
	if _, err := fmt.Fprintf(c, "GET /info HTTP/1.1\r\nHost: shop.test\r\n\r\n"); err != nil {
		return fmt.Errorf("request %d: write: %w", n, err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return fmt.Errorf("request %d: %w", n, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close {
		return fmt.Errorf("request %d: the backend closes the connection (Connection: close)", n)
	}
	return nil
}
