package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// shopResolve maps shop.test and its subdomains to one wildcard cert, like
// devport's route table does; anything else is left to the default rules.
func shopResolve(serverName string) []string {
	if serverName == "shop.test" || strings.HasSuffix(serverName, ".shop.test") {
		return []string{"shop.test", "*.shop.test"}
	}
	return nil
}

// issueLog records OnIssue calls.
type issueLog struct {
	mu    sync.Mutex
	names [][]string
}

func (l *issueLog) record(names []string, _ time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = append(l.names, names)
}

func (l *issueLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.names)
}

// serveTLS runs a real TLS server on addr (a :0 port) that completes the
// handshake, writes "ok" and closes. It stops when the test ends.
func serveTLS(t *testing.T, addr string, getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) string {
	t.Helper()
	ln, err := tls.Listen("tcp", addr, &tls.Config{GetCertificate: getCert, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if err := c.(*tls.Conn).Handshake(); err == nil {
					_, _ = c.Write([]byte("ok"))
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// dialTLS connects to addr verifying against the CA only, with serverName
// as SNI and the name to verify; it returns the server's leaf.
func dialTLS(t *testing.T, a *Authority, addr, serverName string) (*x509.Certificate, error) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(a.Root())
	d := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: serverName})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	body, err := io.ReadAll(conn)
	if err != nil {
		return nil, err
	}
	if string(body) != "ok" {
		return nil, errors.New("server said " + string(body))
	}
	return conn.ConnectionState().PeerCertificates[0], nil
}

func TestIssuerHandshake(t *testing.T) {
	a := openTestCA(t)
	var log issueLog
	iss := NewIssuer(a, shopResolve)
	iss.OnIssue = log.record
	addr := serveTLS(t, "127.0.0.1:0", iss.GetCertificate)

	tests := []struct {
		name       string
		serverName string // SNI and verified name; an IP sends no SNI
		wantDNS    string
		wantIPs    int
	}{
		{"apex via resolve", "shop.test", "shop.test,*.shop.test", 0},
		{"subdomain via resolve", "api.shop.test", "shop.test,*.shop.test", 0},
		{"managed TLD without resolve", "blog.test", "blog.test", 0},
		{"localhost", "localhost", "localhost", 0},
		{"IP access", "127.0.0.1", "", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf, err := dialTLS(t, a, addr, tc.serverName)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(leaf.DNSNames, ","); got != tc.wantDNS {
				t.Errorf("DNSNames = %s, want %s", got, tc.wantDNS)
			}
			if len(leaf.IPAddresses) != tc.wantIPs {
				t.Errorf("IPAddresses = %v", leaf.IPAddresses)
			}
		})
	}

	t.Run("IPv6 access", func(t *testing.T) {
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			t.Skip("no IPv6 loopback:", err)
		}
		ln.Close()
		addr6 := serveTLS(t, "[::1]:0", iss.GetCertificate)
		if _, err := dialTLS(t, a, addr6, "::1"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("one issue per SAN set", func(t *testing.T) {
		// shop.test and api.shop.test share a cert; blog.test, localhost and
		// the IPs have one each.
		if got := log.count(); got != 4 {
			t.Errorf("OnIssue called %d times, want 4: %v", got, log.names)
		}
	})

	t.Run("refuses names outside the managed TLDs", func(t *testing.T) {
		_, err := dialTLS(t, a, addr, "example.com")
		if err == nil {
			t.Fatal("handshake for example.com succeeded")
		}
		_, err = iss.GetCertificate(&tls.ClientHelloInfo{ServerName: "example.com"})
		if !errors.Is(err, ErrNameNotAllowed) {
			t.Errorf("GetCertificate(example.com) = %v, want ErrNameNotAllowed", err)
		}
	})
}

func TestIssuerCache(t *testing.T) {
	t.Run("same certificate for the same SAN set", func(t *testing.T) {
		a := openTestCA(t)
		var log issueLog
		iss := NewIssuer(a, shopResolve)
		iss.OnIssue = log.record
		first, err := iss.GetCertificate(&tls.ClientHelloInfo{ServerName: "shop.test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, sn := range []string{"shop.test", "api.shop.test", "SHOP.TEST."} {
			c, err := iss.GetCertificate(&tls.ClientHelloInfo{ServerName: sn})
			if err != nil {
				t.Fatal(err)
			}
			if c != first {
				t.Errorf("%s: got a different certificate", sn)
			}
		}
		if log.count() != 1 {
			t.Errorf("OnIssue called %d times, want 1", log.count())
		}
		if got := strings.Join(log.names[0], ","); got != "shop.test,*.shop.test" {
			t.Errorf("OnIssue names = %s", got)
		}
	})

	t.Run("concurrent callers issue once", func(t *testing.T) {
		a := openTestCA(t)
		var issued atomic.Int32
		iss := NewIssuer(a, shopResolve)
		iss.OnIssue = func([]string, time.Time) { issued.Add(1) }
		const n = 64
		certs := make([]*tls.Certificate, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for k := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				sn := "shop.test"
				if k%2 == 1 {
					sn = "www.shop.test"
				}
				c, err := iss.GetCertificate(&tls.ClientHelloInfo{ServerName: sn})
				if err != nil {
					t.Error(err)
				}
				certs[k] = c
			}()
		}
		close(start)
		wg.Wait()
		for k, c := range certs {
			if c != certs[0] {
				t.Fatalf("caller %d got a different certificate", k)
			}
		}
		if got := issued.Load(); got != 1 {
			t.Errorf("issued %d times, want 1", got)
		}
	})

	t.Run("concurrent handshakes issue once", func(t *testing.T) {
		a := openTestCA(t)
		var issued atomic.Int32
		iss := NewIssuer(a, shopResolve)
		iss.OnIssue = func([]string, time.Time) { issued.Add(1) }
		addr := serveTLS(t, "127.0.0.1:0", iss.GetCertificate)
		const n = 16
		serials := make([]string, n)
		var wg sync.WaitGroup
		for k := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				leaf, err := dialTLS(t, a, addr, "api.shop.test")
				if err != nil {
					t.Error(err)
					return
				}
				serials[k] = leaf.SerialNumber.String()
			}()
		}
		wg.Wait()
		for k, s := range serials {
			if s != serials[0] {
				t.Errorf("handshake %d saw serial %s, want %s", k, s, serials[0])
			}
		}
		if got := issued.Load(); got != 1 {
			t.Errorf("issued %d times, want 1", got)
		}
	})
}

// fakeClock is a settable clock for renewal tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestIssuerRenewal(t *testing.T) {
	tests := []struct {
		name     string
		validity time.Duration
		advance  time.Duration
		renewed  bool
	}{
		{"fresh", leafValidity, time.Hour, false},
		{"just over two thirds used", leafValidity, 61 * 24 * time.Hour, true},
		{"just under two thirds used", leafValidity, 59 * 24 * time.Hour, false},
		{"expired", leafValidity, 100 * 24 * time.Hour, true},
		{"short validity", 3 * time.Hour, 2 * time.Hour, true}, // lifetime 4h incl. clockSkew
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := openTestCA(t)
			clock := &fakeClock{t: time.Now()}
			a.now = clock.Now
			a.leafValidity = tc.validity
			var log issueLog
			iss := NewIssuer(a, nil)
			iss.OnIssue = log.record
			hello := &tls.ClientHelloInfo{ServerName: "shop.test"}

			first, err := iss.GetCertificate(hello)
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(tc.advance)
			second, err := iss.GetCertificate(hello)
			if err != nil {
				t.Fatal(err)
			}
			if renewed := second != first; renewed != tc.renewed {
				t.Errorf("renewed = %v, want %v", renewed, tc.renewed)
			}
			wantIssues := 1
			if tc.renewed {
				wantIssues = 2
				if !second.Leaf.NotAfter.After(first.Leaf.NotAfter) {
					t.Error("renewed certificate does not expire later")
				}
			}
			if log.count() != wantIssues {
				t.Errorf("OnIssue called %d times, want %d", log.count(), wantIssues)
			}
		})
	}
}

func TestIssuerNames(t *testing.T) {
	a := openTestCA(t)
	tests := []struct {
		name       string
		resolve    func(string) []string
		serverName string
		want       string // joined SANs, or "error"
	}{
		{"resolve wins", shopResolve, "api.shop.test", "shop.test,*.shop.test"},
		{"nil resolve result, managed TLD", shopResolve, "blog.test", "blog.test"},
		{"empty resolve result, managed TLD", func(string) []string { return []string{} }, "blog.test", "blog.test"},
		{"nil resolve func", nil, "Blog.Test.", "blog.test"},
		{"empty server name", shopResolve, "", "127.0.0.1,::1"},
		{"localhost", nil, "localhost", "localhost"},
		{"outside managed TLDs", shopResolve, "example.com", "error"},
		{"bare TLD", nil, "test", "error"},
		{"wildcard as SNI", nil, "*.shop.test", "error"},
		{"resolve returns a foreign name", func(string) []string { return []string{"evil.com"} }, "shop.test", "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iss := NewIssuer(a, tc.resolve)
			c, err := iss.GetCertificate(&tls.ClientHelloInfo{ServerName: tc.serverName})
			if tc.want == "error" {
				if !errors.Is(err, ErrNameNotAllowed) {
					t.Errorf("err = %v, want ErrNameNotAllowed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := c.Leaf.DNSNames
			for _, ip := range c.Leaf.IPAddresses {
				got = append(got, ip.String())
			}
			if strings.Join(got, ",") != tc.want {
				t.Errorf("SANs = %v, want %s", got, tc.want)
			}
		})
	}
}
