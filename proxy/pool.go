package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// pool is the RoundTripper of a service route: it picks one of the
// route's instances by least connections, skipping the ones that failed
// recently (passive health, like nginx's max_fails=1 fail_timeout), and
// retries once on another instance when the connection could not be made.
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

// upstreamKey is the context key under which the access log finds where a
// request went.
type upstreamKey struct{}

// upstreamSlot receives the instance a request was sent to.
type upstreamSlot struct{ up string }

func (p *pool) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(p.insts) == 1 {
		// One instance: nothing to balance or fail over to (nginx also
		// ignores max_fails then).
		ut := p.insts[0]
		note(req, ut)
		return p.send(ut, req)
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
	resp, err := p.try(first, req)
	var de *dialError
	if err == nil || !errors.As(err, &de) || req.Context().Err() != nil || (body != nil && body.read) {
		return resp, err
	}
	second := p.pick(first)
	if second == nil {
		return nil, err
	}
	return p.try(second, req)
}

// try sends req to one instance and keeps its in-flight count until the
// response body is closed.
func (p *pool) try(ut *upstreamTransport, req *http.Request) (*http.Response, error) {
	note(req, ut)
	if ut.up.network() != "unix" {
		req.URL.Host = ut.up.Address
	}
	ut.inFlight.Add(1)
	resp, err := p.send(ut, req)
	if err != nil {
		ut.inFlight.Add(-1)
		if !errors.Is(err, context.Canceled) {
			ut.downUntil.Store(time.Now().Add(p.failTimeout).UnixNano())
		}
		return nil, err
	}
	if rwc, ok := resp.Body.(io.ReadWriteCloser); ok && resp.StatusCode == http.StatusSwitchingProtocols {
		resp.Body = &countedConn{ReadWriteCloser: rwc, ut: ut}
	} else {
		resp.Body = &countedBody{ReadCloser: resp.Body, ut: ut}
	}
	return resp, nil
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

// note tells the access log, when it listens, which instance served req.
func note(req *http.Request, ut *upstreamTransport) {
	if slot, ok := req.Context().Value(upstreamKey{}).(*upstreamSlot); ok {
		slot.up = ut.up.String()
	}
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
