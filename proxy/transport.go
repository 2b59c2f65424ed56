package proxy

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Upstream connection settings. Backends are local, so a dial that takes
// longer than dialTimeout is a backend that hangs, not a slow network.
// There is deliberately no response timeout: a request paused in a
// debugger, a long upload or a slow report must not be cut off by the
// development proxy (nginx's 60 s proxy_read_timeout is a common surprise).
const (
	dialTimeout = 10 * time.Second
	// maxIdlePerHost keeps enough warm connections for a browser's burst
	// of parallel requests over HTTP/2 (the default of 2 would make the
	// proxy redial on nearly every request under load).
	maxIdlePerHost = 128
)

// UpstreamIdleTimeout is how long an idle keep-alive connection to a
// backend is kept for the next request. It must stay below the keep-alive
// timeout of every backend devport runs (Apache's KeepAliveTimeout,
// uvicorn's --timeout-keep-alive and gunicorn's --keep-alive, which
// devport sets to 15 s; their defaults are 5, 5 and 2 s), so that the
// proxy closes an idle connection before the backend does. A connection
// the backend closed anyway (one with a shorter keep-alive, or a worker
// that restarted) is noticed when the request sent on it gets nothing
// back, and a GET or HEAD is then sent again on a new connection.
const UpstreamIdleTimeout = 4 * time.Second

// transports owns one http.Transport per upstream instance (and per set
// of transport limits), so each backend gets its own keep-alive pool, its
// own dialer (TCP or unix socket) and its own passive health state, and
// one shared transport for external URL routes. The map is only touched
// when a table is installed, never per request.
type transports struct {
	mu       sync.Mutex
	byUp     map[transportKey]*upstreamTransport
	external *http.Transport
}

// transportKey names a transport: an upstream and the limits it dials and
// waits with. Routes that share both share the transport.
type transportKey struct {
	up     Upstream
	limits transportLimits
}

type upstreamTransport struct {
	// rt is the hot path (h1Transport) in front of the upstream's
	// http.Transport.
	rt *h1Transport
	// uw, when set, is the uwsgi transport that replaces rt for an
	// upstream whose Protocol is "uwsgi".
	uw *uwsgiTransport
	// dial connects to the upstream with the route's Connect and Write
	// limits; its failures are *dialError.
	dial func(ctx context.Context) (net.Conn, error)
	// badProtocol, when set, fails every request: the upstream's
	// Protocol is not one the proxy speaks.
	badProtocol error
	up          Upstream
	// name is up.String(), for the access log and the log lines.
	name string
	// inFlight counts the requests on this instance whose response has
	// not been fully read (least-connections balancing).
	inFlight atomic.Int64
	// downUntil is when a failed instance may be tried again, in
	// UnixNano; 0 when healthy.
	downUntil atomic.Int64
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
	return &transports{byUp: make(map[transportKey]*upstreamTransport), external: ext}
}

// baseTransport is the configuration shared by every upstream transport.
func baseTransport() *http.Transport {
	return &http.Transport{
		Proxy:                  nil, // never send local traffic through HTTP_PROXY
		MaxIdleConnsPerHost:    maxIdlePerHost,
		IdleConnTimeout:        UpstreamIdleTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		// Pass Accept-Encoding and compressed bodies through untouched.
		DisableCompression: true,
		WriteBufferSize:    32 << 10,
		ReadBufferSize:     32 << 10,
	}
}

// dialError marks a failure to connect to an instance: nothing of the
// request was sent, so it may be retried on another instance.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// newUpstreamTransport dials one upstream whatever host the request URL
// names, so a unix socket request can keep the site's host in its URL.
func newUpstreamTransport(k transportKey) *http.Transport {
	t := baseTransport()
	network, address := k.up.network(), k.up.Address
	connect := k.limits.connect
	if connect <= 0 {
		connect = dialTimeout
	}
	d := &net.Dialer{Timeout: connect}
	if network != "unix" {
		d.KeepAlive = 30 * time.Second
	}
	write := k.limits.write
	t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, address)
		if err != nil {
			return nil, &dialError{err}
		}
		if write > 0 {
			return &writeDeadlineConn{Conn: c, timeout: write}, nil
		}
		return c, nil
	}
	t.ResponseHeaderTimeout = k.limits.read
	// Local backends speak plain HTTP/1.1.
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP1(true)
	return t
}

// UnknownProtocolError fails the requests to an upstream whose Protocol
// the proxy does not speak.
type UnknownProtocolError struct{ Protocol string }

func (e *UnknownProtocolError) Error() string {
	return "its upstream protocol " + strconv.Quote(e.Protocol) + " is not supported (use \"http\" or \"uwsgi\")"
}

// writeDeadlineConn gives each write to the upstream its own deadline
// (Limits.Write), so a backend that stops reading the request body fails
// the request instead of holding it forever.
type writeDeadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *writeDeadlineConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// CloseWrite half-closes the connection when the socket can (a websocket
// whose client finished sending); otherwise it closes it.
func (c *writeDeadlineConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// sync returns the transport for each of keys, reusing existing ones so
// that their warm connections and health survive a table swap. Transports
// no longer needed lose their idle connections (requests still in flight
// on them finish normally) and are forgotten once their pools have surely
// drained.
func (ts *transports) sync(keys []transportKey) map[transportKey]*upstreamTransport {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := time.Now()
	next := make(map[transportKey]*upstreamTransport, len(keys))
	for _, k := range keys {
		k.up.Network = k.up.network()
		k.up.Protocol = k.up.protocol()
		if _, ok := next[k]; ok {
			continue
		}
		ut := ts.byUp[k]
		if ut == nil {
			t := newUpstreamTransport(k)
			dial := func(ctx context.Context) (net.Conn, error) { return t.DialContext(ctx, "tcp", "") }
			ut = &upstreamTransport{up: k.up, name: k.up.String(), dial: dial, rt: &h1Transport{
				dial:       dial,
				fallback:   t,
				readHeader: k.limits.read,
			}}
			switch k.up.Protocol {
			case "":
			case "uwsgi":
				ut.uw = &uwsgiTransport{dial: dial, readHeader: k.limits.read}
			default:
				ut.badProtocol = &UnknownProtocolError{Protocol: k.up.Protocol}
			}
			ts.byUp[k] = ut
		}
		ut.retired = time.Time{}
		next[k] = ut
	}
	for k, ut := range ts.byUp {
		if _, ok := next[k]; ok {
			continue
		}
		switch {
		case ut.retired.IsZero():
			ut.retired = now
			ut.rt.CloseIdleConnections()
		case now.Sub(ut.retired) > 2*UpstreamIdleTimeout:
			ut.rt.CloseIdleConnections()
			delete(ts.byUp, k)
		}
	}
	return next
}

// closeIdle closes every idle upstream connection (on Shutdown); hot-path
// connections still in use are closed when their request ends.
func (ts *transports) closeIdle() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, ut := range ts.byUp {
		ut.rt.close()
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
