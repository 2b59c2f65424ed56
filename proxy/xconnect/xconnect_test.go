package xconnect_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/devport/devport/proxy/xconnect"
	"golang.org/x/net/http2"
)

// TestEnabled starts an HTTP/2 server in this process, which imported
// xconnect, and checks that its SETTINGS frame offers extended CONNECT:
// proof that the init ran before net/http read GODEBUG.
func TestEnabled(t *testing.T) {
	if !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		t.Fatalf("GODEBUG = %q", os.Getenv("GODEBUG"))
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	c, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
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
	v, ok := sf.Value(http2.SettingEnableConnectProtocol)
	if !ok || v != 1 {
		t.Errorf("server SETTINGS lack ENABLE_CONNECT_PROTOCOL=1 (got %d, %v): net/http initialised before xconnect", v, ok)
	}
}
