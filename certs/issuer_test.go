package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
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

	fallbackDNS := strings.Join(fallbackNames[:2], ",")
	tests := []struct {
		name       string
		serverName string // SNI and verified name; an IP sends no SNI
		wantDNS    string
		wantIPs    int
	}{
		{"apex via names", "shop.test", "shop.test,*.shop.test", 0},
		{"subdomain via names", "api.shop.test", "shop.test,*.shop.test", 0},
		{"devport's own name", FallbackName, fallbackDNS, 2},
		{"localhost", "localhost", fallbackDNS, 2},
		{"IP access", "127.0.0.1", fallbackDNS, 2},
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

	// An unknown name gets the fallback, which a verifying client refuses
	// for that name (and a browser shows as a mismatch, with a way on to
	// the proxy's unknown-host page).
	for _, sn := range []string{"blog.test", "example.com"} {
		t.Run("unknown name "+sn+" gets the fallback", func(t *testing.T) {
			_, err := dialTLS(t, a, addr, sn)
			if err == nil || !strings.Contains(err.Error(), "certificate is valid for "+FallbackName) {
				t.Errorf("handshake for %s: %v, want a name mismatch with the fallback", sn, err)
			}
		})
	}

	t.Run("one issue per served SAN set", func(t *testing.T) {
		// shop.test and api.shop.test share a cert; the fallback is not
		// reported.
		if got := log.count(); got != 1 {
			t.Errorf("OnIssue called %d times, want 1: %v", got, log.names)
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
			iss := NewIssuer(a, shopResolve)
			iss.OnIssue = log.record
			hello := &tls.ClientHelloInfo{ServerName: "shop.test"}
			unknown := &tls.ClientHelloInfo{ServerName: "nope.test"}
			firstFallback, err := iss.GetCertificate(unknown)
			if err != nil {
				t.Fatal(err)
			}

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
			secondFallback, err := iss.GetCertificate(unknown)
			if err != nil {
				t.Fatal(err)
			}
			if renewed := secondFallback != firstFallback; renewed != tc.renewed {
				t.Errorf("fallback renewed = %v, want %v", renewed, tc.renewed)
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
	const fallback = "devport.localhost,localhost,127.0.0.1,::1"
	tests := []struct {
		name       string
		names      func(string) []string
		serverName string
		want       string // joined SANs, or "error"
	}{
		{"names wins", shopResolve, "api.shop.test", "shop.test,*.shop.test"},
		{"names sees the name lowercase without the dot", shopResolve, "API.Shop.Test.", "shop.test,*.shop.test"},
		{"nil names result, managed TLD", shopResolve, "blog.test", fallback},
		{"empty names result", func(string) []string { return []string{} }, "blog.test", fallback},
		{"nil names func", nil, "shop.test", fallback},
		{"empty server name", shopResolve, "", fallback},
		{"localhost", nil, "localhost", fallback},
		{"outside managed TLDs", shopResolve, "example.com", fallback},
		{"bare TLD", nil, "test", fallback},
		{"wildcard as SNI, unknown", nil, "*.shop.test", fallback},
		{"names returns a foreign name", func(string) []string { return []string{"evil.com"} }, "shop.test", "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iss := NewIssuer(a, tc.names)
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

// cachedLeaves is how many leaves iss keeps in memory.
func cachedLeaves(iss *Issuer) int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.cache.Len()
}

// TestIssuerUnknownNames is issue 11.8: a name no project serves gets one
// shared fallback certificate, never a leaf of its own, so thousands of
// SNIs cost neither memory nor store events; and the leaves of served names
// stay bounded too.
func TestIssuerUnknownNames(t *testing.T) {
	a := openTestCA(t)
	var log issueLog
	iss := NewIssuer(a, shopResolve)
	iss.OnIssue = log.record
	const n = 3000

	distinct := map[*tls.Certificate]bool{}
	var fallback *tls.Certificate
	var errs int
	for k := range n {
		var sn string
		switch k % 3 {
		case 0:
			sn = fmt.Sprintf("site%d.test", k)
		case 1:
			sn = fmt.Sprintf("x%d.localhost", k)
		default:
			sn = fmt.Sprintf("host%d.example.com", k)
		}
		c, err := iss.GetCertificate(&tls.ClientHelloInfo{ServerName: sn})
		if err != nil {
			errs++
			continue
		}
		fallback = c
		distinct[c] = true
	}
	if errs > 0 || len(distinct) != 1 {
		t.Fatalf("%d unknown names gave %d distinct certificates and %d errors, want one shared fallback; OnIssue called %d times, %d leaves cached",
			n, len(distinct), errs, log.count(), cachedLeaves(iss))
	}
	t.Run("no OnIssue for the fallback", func(t *testing.T) {
		if got := log.count(); got != 0 {
			t.Errorf("OnIssue called %d times for unknown names, want 0", got)
		}
	})
	t.Run("nothing cached per unknown name", func(t *testing.T) {
		if got := cachedLeaves(iss); got != 0 {
			t.Errorf("%d leaves cached after %d unknown names, want 0", got, n)
		}
	})
	t.Run("the fallback names devport", func(t *testing.T) {
		if !slices.Contains(fallback.Leaf.DNSNames, FallbackName) {
			t.Errorf("fallback DNSNames = %v, want %s among them", fallback.Leaf.DNSNames, FallbackName)
		}
	})
	t.Run("a served name still gets its leaf", func(t *testing.T) {
		c, err := iss.GetCertificate(&tls.ClientHelloInfo{ServerName: "api.shop.test"})
		if err != nil {
			t.Fatal(err)
		}
		if c == fallback || strings.Join(c.Leaf.DNSNames, ",") != "shop.test,*.shop.test" {
			t.Errorf("api.shop.test got DNSNames %v", c.Leaf.DNSNames)
		}
		pool := x509.NewCertPool()
		pool.AddCert(a.Root())
		if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "api.shop.test"}); err != nil {
			t.Error(err)
		}
		if got := log.count(); got != 1 {
			t.Errorf("OnIssue called %d times, want 1", got)
		}
	})
}

// TestIssuerCacheBounded: served names keep at most defaultCacheSize
// leaves in memory, the least recently used going first.
func TestIssuerCacheBounded(t *testing.T) {
	a := openTestCA(t)
	// Every deeper name is its own SAN set, as the engine resolves them.
	iss := NewIssuer(a, func(sn string) []string {
		if strings.HasSuffix(sn, ".shop.test") {
			return []string{"shop.test", "*.shop.test", sn}
		}
		return nil
	})
	hello := func(k int) *tls.ClientHelloInfo {
		return &tls.ClientHelloInfo{ServerName: fmt.Sprintf("a%d.b.shop.test", k)}
	}
	first, err := iss.GetCertificate(hello(0))
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k < 2*defaultCacheSize; k++ {
		if _, err := iss.GetCertificate(hello(k)); err != nil {
			t.Fatal(err)
		}
		if _, err := iss.GetCertificate(hello(0)); err != nil { // keep a0 recently used
			t.Fatal(err)
		}
	}
	if got := cachedLeaves(iss); got > defaultCacheSize {
		t.Errorf("%d leaves cached, want at most %d", got, defaultCacheSize)
	}
	if again, err := iss.GetCertificate(hello(0)); err != nil || again != first {
		t.Errorf("the most recently used leaf was evicted (err %v)", err)
	}
}

func TestIssuerFallbackOnce(t *testing.T) {
	a := openTestCA(t)
	iss := NewIssuer(a, shopResolve)
	const n = 64
	got := make([]*tls.Certificate, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c, err := iss.GetCertificate(&tls.ClientHelloInfo{ServerName: fmt.Sprintf("n%d.test", k)})
			if err != nil {
				t.Error(err)
			}
			got[k] = c
		}()
	}
	close(start)
	wg.Wait()
	for k, c := range got {
		if c != got[0] {
			t.Fatalf("caller %d got another fallback", k)
		}
	}
}

func TestIssuerSetAuthority(t *testing.T) {
	a, b := openTestCA(t), openTestCA(t)
	iss := NewIssuer(a, shopResolve)
	for _, sn := range []string{"shop.test", "nope.test"} {
		if _, err := iss.GetCertificate(&tls.ClientHelloInfo{ServerName: sn}); err != nil {
			t.Fatal(err)
		}
	}
	iss.SetAuthority(b)
	if got := cachedLeaves(iss); got != 0 {
		t.Errorf("%d leaves of the old root kept", got)
	}
	for _, sn := range []string{"shop.test", "nope.test"} {
		c, err := iss.GetCertificate(&tls.ClientHelloInfo{ServerName: sn})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Leaf.CheckSignatureFrom(b.Root()); err != nil {
			t.Errorf("%s: not signed by the new root: %v", sn, err)
		}
	}
}
