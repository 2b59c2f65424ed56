package proxy

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devport/devport/assets"
)

// testCA is a throwaway certificate authority that issues a leaf for each
// server name on demand, like the certs package does, without depending on it.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool

	mu    sync.Mutex
	leafs map[string]*tls.Certificate
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "devport proxy test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool, leafs: make(map[string]*tls.Certificate)}
}

// GetCertificate issues (and caches) a leaf for the requested name, or for
// 127.0.0.1 when the client sent no SNI.
func (ca *testCA) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c, ok := ca.leafs[name]; ok {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if name == "" {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	} else {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	ca.leafs[name] = c
	return c, nil
}

// testPages parses the pages the app ships.
func testPages(t testing.TB) Pages {
	t.Helper()
	return Pages{
		UnknownHost: template.Must(template.New("unknown-host").Parse(assets.UnknownHostPage)),
		BadGateway:  template.Must(template.New("bad-gateway").Parse(assets.BadGatewayPage)),
	}
}

// testProxy is a started Server on loopback :0 ports with its test CA.
type testProxy struct {
	*Server
	ca *testCA
}

// startProxy starts a proxy for routes. edit, when not nil, may change the
// config before New.
func startProxy(t testing.TB, routes []Route, edit func(*Config)) *testProxy {
	t.Helper()
	ca := newTestCA(t)
	cfg := Config{
		HTTPSAddrs:     []string{"127.0.0.1:0"},
		HTTPAddrs:      []string{"127.0.0.1:0"},
		GetCertificate: ca.GetCertificate,
		Pages:          testPages(t),
	}
	if edit != nil {
		edit(&cfg)
	}
	s := New(cfg)
	s.SetRoutes(NewTable(routes))
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &testProxy{Server: s, ca: ca}
}

// client returns an HTTPS client that trusts the test CA and sends every
// request to the proxy, whatever host the URL names (as /etc/hosts would).
// h2 lets it negotiate HTTP/2.
func (p *testProxy) client(t testing.TB, h2 bool) *http.Client {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTPSPort()))
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: p.ca.pool},
		Protocols:       new(http.Protocols),
	}
	tr.Protocols.SetHTTP1(true)
	tr.Protocols.SetHTTP2(h2)
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport: tr,
		Timeout:   10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// get does a request and returns the response with its body read.
func get(t testing.TB, c *http.Client, method, url string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp, string(body)
}

// seen is what an echo backend reports about the request it got.
type seen struct {
	Backend  string
	Host     string
	Path     string // escaped
	Query    string
	XFF      string
	XFProto  string
	XFHost   string
	XRealIP  string
	Upgrade  string
	ProtoMaj int
}

// echoBackend answers every request with a JSON description of it and
// counts the requests.
type echoBackend struct {
	name string
	hits atomic.Int64
}

func (b *echoBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.hits.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(seen{
		Backend:  b.name,
		Host:     r.Host,
		Path:     r.URL.EscapedPath(),
		Query:    r.URL.RawQuery,
		XFF:      r.Header.Get("X-Forwarded-For"),
		XFProto:  r.Header.Get("X-Forwarded-Proto"),
		XFHost:   r.Header.Get("X-Forwarded-Host"),
		XRealIP:  r.Header.Get("X-Real-IP"),
		Upgrade:  r.Header.Get("Upgrade"),
		ProtoMaj: r.ProtoMajor,
	})
}

func decodeSeen(t testing.TB, body string) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("backend answer %q: %v", body, err)
	}
	return s
}

// tcpBackend starts h on a real TCP port and returns its upstream.
func tcpBackend(t testing.TB, h http.Handler) *Upstream {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Upstream{Network: "tcp", Address: srv.Listener.Addr().String()}
}

// unixBackend serves h on a unix socket in a temp dir.
func unixBackend(t testing.TB, h http.Handler) *Upstream {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "b.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return &Upstream{Network: "unix", Address: sock}
}

// deadAddress is a loopback TCP address nobody listens on.
func deadAddress(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Minimal websocket (RFC 6455), enough to prove that bytes pass both ways
// after a real 101: the handshake and single unfragmented text frames
// shorter than 126 bytes.

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

func writeFrame(w io.Writer, payload string, mask bool) error {
	if len(payload) >= 126 {
		return errors.New("test frames are short")
	}
	b := []byte{0x81, byte(len(payload))} // FIN, text
	p := []byte(payload)
	if mask { // clients must mask
		key := []byte{0x12, 0x34, 0x56, 0x78}
		b[1] |= 0x80
		b = append(b, key...)
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	_, err := w.Write(append(b, p...))
	return err
}

func readFrame(r io.Reader) (string, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", err
	}
	if h[0] != 0x81 {
		return "", fmt.Errorf("unexpected frame header %#x", h[0])
	}
	n := int(h[1] & 0x7f)
	if n >= 126 {
		return "", errors.New("test frames are short")
	}
	var key []byte
	if h[1]&0x80 != 0 {
		key = make([]byte, 4)
		if _, err := io.ReadFull(r, key); err != nil {
			return "", err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return "", err
	}
	for i := range p {
		if key != nil {
			p[i] ^= key[i%4]
		}
	}
	return string(p), nil
}

// wsEcho is a websocket backend: it completes the handshake by hand and
// echoes text frames until the connection closes.
func wsEcho(t testing.TB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" || r.Header.Get("Connection") != "Upgrade" {
			http.Error(w, "want a websocket upgrade, got Upgrade="+r.Header.Get("Upgrade")+
				" Connection="+r.Header.Get("Connection"), http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("backend hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: %s\r\nX-Backend-Host: %s\r\n\r\n", wsAccept(r.Header.Get("Sec-WebSocket-Key")), r.Host)
		if err := brw.Flush(); err != nil {
			return
		}
		for {
			msg, err := readFrame(brw)
			if err != nil {
				return
			}
			if err := writeFrame(conn, msg, false); err != nil {
				return
			}
		}
	})
}

// wsDial opens a websocket through the proxy over TLS, offering alpn, and
// checks the 101 and that the backend saw the Host. It returns the
// connection and a reader over it.
func (p *testProxy) wsDial(t testing.TB, host string, alpn []string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, br, resp := p.wsHandshake(t, host, alpn)
	if got := resp.Header.Get("X-Backend-Host"); got != host {
		t.Errorf("backend saw Host %q, want %q", got, host)
	}
	return conn, br
}

// wsHandshake opens a websocket to /ws through the proxy over TLS,
// offering alpn, and checks the 101 and its Sec-WebSocket-Accept.
func (p *testProxy) wsHandshake(t testing.TB, host string, alpn []string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HTTPSPort()))
	d := &tls.Dialer{Config: &tls.Config{RootCAs: p.ca.pool, ServerName: host, NextProtos: alpn}}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", host, key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("handshake status = %d, want 101; body %q", resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), wsAccept(key); got != want {
		t.Fatalf("Sec-WebSocket-Accept = %q, want %q", got, want)
	}
	return conn, br, resp
}
