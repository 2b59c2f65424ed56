package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestEngineOffersWebsocketsOverHTTP2 checks that the real engine's HTTP/2
// SETTINGS offer extended CONNECT (RFC 8441), which browsers need before
// they open a websocket on an HTTP/2 connection.
func TestEngineOffersWebsocketsOverHTTP2(t *testing.T) {
	e := newEnv(t)
	// The engine issues certificates only for the names it serves.
	e.mustRun("add", t.TempDir(), "--name", "shop", "--stack", "static")
	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	defer g.stop(t)
	raw, err := os.ReadFile(strings.TrimSpace(e.mustRun("ca")))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(raw)
	c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{RootCAs: pool, ServerName: "shop.test", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN %q, want h2", p)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	f, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok {
		t.Fatalf("first frame %T, want SETTINGS", f)
	}
	if v, ok := sf.Value(http2.SettingEnableConnectProtocol); !ok || v != 1 {
		t.Errorf("engine SETTINGS lack ENABLE_CONNECT_PROTOCOL=1 (got %d, %v)", v, ok)
	}
}
