package proxy

import (
	"crypto/tls"
	"net"
	"strconv"
	"testing"
)

// TestTLSSessionResumption checks that a returning client resumes its TLS
// session from a ticket instead of doing a full handshake (and a
// certificate signature) again, for both TLS versions browsers use.
func TestTLSSessionResumption(t *testing.T) {
	p := startProxy(t, []Route{{Project: "shop", Service: "web", Domains: []string{"shop.test"},
		Upstream: tcpBackend(t, &echoBackend{name: "web"})}}, nil)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTPSPort()))
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			cache := tls.NewLRUClientSessionCache(4)
			for i, wantResume := range []bool{false, true, true} {
				cfg := &tls.Config{RootCAs: p.ca.pool, ServerName: "shop.test", ClientSessionCache: cache,
					MinVersion: v, MaxVersion: v, NextProtos: []string{"http/1.1"}}
				conn, err := tls.Dial("tcp", addr, cfg)
				if err != nil {
					t.Fatal(err)
				}
				// A request and its answer: TLS 1.3 sends the ticket after
				// the handshake, and the client reads it with the response.
				if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: shop.test\r\n\r\n")); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 4096)
				if _, err := conn.Read(buf); err != nil {
					t.Fatal(err)
				}
				if got := conn.ConnectionState().DidResume; got != wantResume {
					t.Errorf("connection %d: DidResume = %v, want %v", i, got, wantResume)
				}
				conn.Close()
			}
		})
	}
}
