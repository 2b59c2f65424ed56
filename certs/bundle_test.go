package certs

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"testing"
	"time"
)

// TestWriteBundle checks that a verifier given only the bundle trusts both
// a devport leaf and the system's roots, and that rewriting is idempotent.
func TestWriteBundle(t *testing.T) {
	a := openTestCA(t)
	path, err := a.WriteBundle()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("bundle mode %v, want 0644 (backends run as other users)", fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(raw) {
		t.Fatal("bundle holds no certificate")
	}

	t.Run("devport leaf verifies over a real handshake", func(t *testing.T) {
		leaf, err := a.Issue([]string{"shop.test"})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{*leaf}})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				c.(*tls.Conn).Handshake()
				c.Close()
			}
		}()
		d := &net.Dialer{Timeout: 5 * time.Second}
		c, err := tls.DialWithDialer(d, "tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "shop.test"})
		if err != nil {
			t.Fatalf("handshake with only the bundle: %v", err)
		}
		c.Close()
	})
	t.Run("system roots are kept", func(t *testing.T) {
		var sys []byte
		for _, p := range systemBundles() {
			if b, err := os.ReadFile(p); err == nil {
				sys = b
				break
			}
		}
		if len(sys) == 0 {
			t.Skip("this system has no CA bundle file")
		}
		if len(raw) <= len(sys) || string(raw[:len(sys)]) != string(sys) {
			t.Errorf("bundle does not start with the system roots (%d bytes)", len(sys))
		}
	})
	t.Run("rewrite is idempotent", func(t *testing.T) {
		before, _ := os.Stat(path)
		time.Sleep(10 * time.Millisecond)
		if _, err := a.WriteBundle(); err != nil {
			t.Fatal(err)
		}
		after, _ := os.Stat(path)
		if !after.ModTime().Equal(before.ModTime()) {
			t.Error("unchanged bundle was rewritten")
		}
	})
}

func TestBundleEnv(t *testing.T) {
	env := BundleEnv("/x/bundle.pem")
	want := map[string]bool{"SSL_CERT_FILE=/x/bundle.pem": true, "REQUESTS_CA_BUNDLE=/x/bundle.pem": true,
		"CURL_CA_BUNDLE=/x/bundle.pem": true, "NODE_EXTRA_CA_CERTS=/x/bundle.pem": true}
	for _, kv := range env {
		delete(want, kv)
	}
	if len(want) != 0 {
		t.Errorf("BundleEnv lacks %v", want)
	}
}
