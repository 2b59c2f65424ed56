package proxy

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// Upstream connection settings. Backends are local, so a dial that takes
// longer than dialTimeout is a backend that hangs, not a slow network.
// There is deliberately no response timeout: a request paused in a
// debugger, a long upload or a slow report must not be cut off by the
// development proxy (nginx's 60 s proxy_read_timeout is a common surprise).
const (
	dialTimeout     = 10 * time.Second
	idleConnTimeout = 90 * time.Second
	// maxIdlePerHost keeps enough warm connections for a browser's burst
	// of parallel requests over HTTP/2 (the default of 2 would make the
	// proxy redial on nearly every request under load).
	maxIdlePerHost = 128
)

// transports owns one http.Transport per upstream, so each backend gets
// its own keep-alive pool and its own dialer (TCP or unix socket), and one
// shared transport for external URL routes. The map is only touched when
// a table is installed, never per request.
type transports struct {
	mu       sync.Mutex
	byUp     map[Upstream]*upstreamTransport
	external *http.Transport
}

type upstreamTransport struct {
	t *http.Transport
	// retired is when the upstream left the route table (zero while in
	// use). A retired transport is kept a while, so that connections
	// returned to its pool by requests that were still in flight are
	// closed by Shutdown, and so that an upstream coming back reuses it.
	retired time.Time
}

func newTransports() *transports {
	ext := baseTransport()
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	ext.DialContext = d.DialContext
	ext.ForceAttemptHTTP2 = true // https URLs may speak h2; upgrades still use HTTP/1.1
	ext.TLSHandshakeTimeout = dialTimeout
	return &transports{byUp: make(map[Upstream]*upstreamTransport), external: ext}
}

// baseTransport is the configuration shared by every upstream transport.
func baseTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // never send local traffic through HTTP_PROXY
		MaxIdleConnsPerHost:   maxIdlePerHost,
		IdleConnTimeout:       idleConnTimeout,
		ExpectContinueTimeout: time.Second,
		// Pass Accept-Encoding and compressed bodies through untouched.
		DisableCompression: true,
		WriteBufferSize:    32 << 10,
		ReadBufferSize:     32 << 10,
	}
}

// newUpstreamTransport dials one upstream whatever host the request URL
// names, so a unix socket request can keep the site's host in its URL.
func newUpstreamTransport(u Upstream) *http.Transport {
	t := baseTransport()
	network, address := u.network(), u.Address
	d := &net.Dialer{Timeout: dialTimeout}
	if network != "unix" {
		d.KeepAlive = 30 * time.Second
	}
	t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, address)
	}
	// Local backends speak plain HTTP/1.1.
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP1(true)
	return t
}

// sync returns the transport for each of ups, reusing existing ones so
// that their warm connections survive a table swap. Transports no longer
// needed lose their idle connections (requests still in flight on them
// finish normally) and are forgotten once their pools have surely drained.
func (ts *transports) sync(ups []Upstream) map[Upstream]*http.Transport {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := time.Now()
	next := make(map[Upstream]*http.Transport, len(ups))
	for _, u := range ups {
		u.Network = u.network()
		if _, ok := next[u]; ok {
			continue
		}
		ut := ts.byUp[u]
		if ut == nil {
			ut = &upstreamTransport{t: newUpstreamTransport(u)}
			ts.byUp[u] = ut
		}
		ut.retired = time.Time{}
		next[u] = ut.t
	}
	for u, ut := range ts.byUp {
		if _, ok := next[u]; ok {
			continue
		}
		switch {
		case ut.retired.IsZero():
			ut.retired = now
			ut.t.CloseIdleConnections()
		case now.Sub(ut.retired) > 2*idleConnTimeout:
			ut.t.CloseIdleConnections()
			delete(ts.byUp, u)
		}
	}
	return next
}

// closeIdle closes every idle upstream connection (on Shutdown).
func (ts *transports) closeIdle() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, ut := range ts.byUp {
		ut.t.CloseIdleConnections()
	}
	ts.external.CloseIdleConnections()
}

// bufferPool recycles the 32 KiB buffers ReverseProxy copies bodies with,
// instead of allocating one per request.
type bufferPool struct{ p sync.Pool }

const bufSize = 32 << 10

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, bufSize)
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) != bufSize {
		return
	}
	buf = buf[:bufSize]
	b.p.Put(&buf)
}
