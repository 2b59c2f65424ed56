package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// pool is the RoundTripper of a service route: it picks one of the
// route's instances by least connections, skipping the ones that failed
// recently (passive health, like nginx's max_fails=1 fail_timeout), and
// retries once on another instance when the connection could not be made.
// Websockets over HTTP/2 take their connection from dial, with the same
// choice, counting and health.
type pool struct {
	insts       []*upstreamTransport
	failTimeout time.Duration
	// next rotates the starting point among equally loaded instances, so
	// that an idle pool still spreads its requests.
	next atomic.Uint32
	// scriptName is the route's prefix when it strips it: the SCRIPT_NAME
	// of requests to uwsgi instances.
	scriptName string
}

// instanceError is a failed round trip or dial to one instance of a pool;
// it names the instance for the log line of the failure.
type instanceError struct {
	ut  *upstreamTransport
	err error
}

func (e *instanceError) Error() string { return e.err.Error() }
func (e *instanceError) Unwrap() error { return e.err }

func (p *pool) RoundTrip(req *http.Request) (*http.Response, error) {
	return p.roundTrip(req, nil)
}

// notingPool is the RoundTripper of a request whose access entry names
// the instance that served it: the route's pool, which writes the
// instance's name to *upstream.
type notingPool struct {
	pool     *pool
	upstream *string
}

func (n *notingPool) RoundTrip(req *http.Request) (*http.Response, error) {
	return n.pool.roundTrip(req, n.upstream)
}

// roundTrip sends req to an instance, and to another one when the first
// could not be dialed. When upstream is not nil it receives the name of
// the instance tried last.
func (p *pool) roundTrip(req *http.Request, upstream *string) (*http.Response, error) {
	if len(p.insts) == 1 {
		// One instance: nothing to balance or fail over to (nginx also
		// ignores max_fails then).
		ut := p.insts[0]
		if upstream != nil {
			*upstream = ut.name
		}
		resp, err := p.send(ut, req)
		if err != nil {
			return nil, &instanceError{ut: ut, err: err}
		}
		return resp, nil
	}
	first := p.pick(nil)
	var body *retryBody
	if req.Body != nil && req.Body != http.NoBody {
		// The transport closes the body when a round trip fails; keep it
		// open (the server closes it after the handler) so that a retry
		// can still send it, unless the first try read from it.
		body = &retryBody{ReadCloser: req.Body}
		req.Body = body
	}
	resp, err := p.try(first, req, upstream)
	if err == nil || !isDialError(err) || req.Context().Err() != nil || (body != nil && body.read) {
		return resp, err
	}
	second := p.pick(first)
	if second == nil {
		return nil, err
	}
	return p.try(second, req, upstream)
}

// isDialError reports whether err is a failure to connect: nothing of the
// request was sent, so it may go to another instance.
func isDialError(err error) bool {
	var de *dialError
	return errors.As(err, &de)
}

// try sends req to one instance and keeps its in-flight count until the
// response body is closed.
func (p *pool) try(ut *upstreamTransport, req *http.Request, upstream *string) (*http.Response, error) {
	if upstream != nil {
		*upstream = ut.name
	}
	if ut.up.network() != "unix" {
		req.URL.Host = ut.up.Address
	}
	ut.inFlight.Add(1)
	resp, err := p.send(ut, req)
	if err != nil {
		ut.inFlight.Add(-1)
		p.failed(ut, err)
		return nil, &instanceError{ut: ut, err: err}
	}
	if rwc, ok := resp.Body.(io.ReadWriteCloser); ok && resp.StatusCode == http.StatusSwitchingProtocols {
		resp.Body = &countedConn{ReadWriteCloser: rwc, ut: ut}
	} else {
		resp.Body = &countedBody{ReadCloser: resp.Body, ut: ut}
	}
	return resp, nil
}

// failed marks ut down for failTimeout after err, unless the client
// cancelled the request.
func (p *pool) failed(ut *upstreamTransport, err error) {
	if !errors.Is(err, context.Canceled) {
		ut.downUntil.Store(time.Now().Add(p.failTimeout).UnixNano())
	}
}

// send sends req to ut in the protocol its upstream speaks.
func (p *pool) send(ut *upstreamTransport, req *http.Request) (*http.Response, error) {
	switch {
	case ut.uw != nil:
		return ut.uw.roundTrip(req, p.scriptName)
	case ut.badProtocol != nil:
		return nil, ut.badProtocol
	}
	return ut.rt.RoundTrip(req)
}

// dial connects to an instance for a protocol switch that the proxy
// bridges itself (a websocket over HTTP/2, sent on as an HTTP/1.1
// Upgrade). The instance is chosen as for a round trip, a failed dial
// marks it down and is tried once more on another instance, and the
// connection counts as in flight on its instance until it is closed.
// When upstream is not nil it receives the name of the instance tried
// last. Errors are *instanceError.
func (p *pool) dial(ctx context.Context, upstream *string) (*switchConn, error) {
	first := p.pick(nil)
	conn, err := p.dialOne(ctx, first, upstream)
	if err == nil || len(p.insts) == 1 || !isDialError(err) || ctx.Err() != nil {
		return conn, err
	}
	second := p.pick(first)
	if second == nil {
		return nil, err
	}
	return p.dialOne(ctx, second, upstream)
}

func (p *pool) dialOne(ctx context.Context, ut *upstreamTransport, upstream *string) (*switchConn, error) {
	if upstream != nil {
		*upstream = ut.name
	}
	if ut.badProtocol != nil {
		return nil, &instanceError{ut: ut, err: ut.badProtocol}
	}
	ut.inFlight.Add(1)
	c, err := ut.dial(ctx)
	if err != nil {
		ut.inFlight.Add(-1)
		if len(p.insts) > 1 {
			p.failed(ut, err)
		}
		return nil, &instanceError{ut: ut, err: err}
	}
	return &switchConn{Conn: c, ut: ut}, nil
}

// pick returns the healthy instance with the fewest requests in flight,
// other than not. When every instance failed recently it picks among all
// of them: a pool that refuses everything helps nobody.
func (p *pool) pick(not *upstreamTransport) *upstreamTransport {
	now := time.Now().UnixNano()
	n := len(p.insts)
	start := int(p.next.Add(1)) % n
	var best, fallback *upstreamTransport
	for j := range n {
		ut := p.insts[(start+j)%n]
		if ut == not {
			continue
		}
		if fallback == nil || ut.inFlight.Load() < fallback.inFlight.Load() {
			fallback = ut
		}
		if ut.downUntil.Load() > now {
			continue
		}
		if best == nil || ut.inFlight.Load() < best.inFlight.Load() {
			best = ut
		}
	}
	if best == nil {
		return fallback
	}
	return best
}

// retryBody keeps a request body open across a failed dial and remembers
// whether anything was read from it.
type retryBody struct {
	io.ReadCloser
	read bool
}

func (b *retryBody) Read(p []byte) (int, error) {
	b.read = true
	return b.ReadCloser.Read(p)
}

func (b *retryBody) Close() error { return nil }

// countedBody ends its instance's in-flight count when it is closed.
type countedBody struct {
	io.ReadCloser
	ut   *upstreamTransport
	done atomic.Bool
}

func (b *countedBody) Close() error {
	if b.done.CompareAndSwap(false, true) {
		b.ut.inFlight.Add(-1)
	}
	return b.ReadCloser.Close()
}

// countedConn is countedBody for a switched protocol (websocket), whose
// body ReverseProxy also writes to.
type countedConn struct {
	io.ReadWriteCloser
	ut   *upstreamTransport
	done atomic.Bool
}

func (c *countedConn) Close() error {
	if c.done.CompareAndSwap(false, true) {
		c.ut.inFlight.Add(-1)
	}
	return c.ReadWriteCloser.Close()
}

// switchConn is a connection from pool.dial: it ends its instance's
// in-flight count when it is closed, and knows its instance.
type switchConn struct {
	net.Conn
	ut   *upstreamTransport
	done atomic.Bool
}

func (c *switchConn) Close() error {
	if c.done.CompareAndSwap(false, true) {
		c.ut.inFlight.Add(-1)
	}
	return c.Conn.Close()
}

// CloseWrite half-closes the connection when the socket can, so the
// backend sees the end of the client's stream; otherwise it closes it.
func (c *switchConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Close()
}
