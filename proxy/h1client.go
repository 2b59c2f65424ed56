package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// h1Transport is the hot path to a local upstream: a synchronous HTTP/1.1
// client for GET and HEAD requests without a body, the bulk of what a
// browser sends. It writes the request and reads the response on the
// goroutine that serves the client, over a pooled keep-alive connection.
// net/http.Transport hands every request to two goroutines of its own
// (a write loop and a read loop) and back, which under load cost more
// than the proxying itself (see docs/performance.md).
//
// Everything else (bodies, protocol switches, other methods) goes to
// fallback, the upstream's http.Transport.
type h1Transport struct {
	dial     func(ctx context.Context) (net.Conn, error)
	fallback *http.Transport
	// readHeader bounds the wait for the response headers (Limits.Read);
	// 0 is no limit.
	readHeader time.Duration

	mu     sync.Mutex
	idle   []*h1Conn // most recently used last
	closed bool
	// reaper closes the connections idle for UpstreamIdleTimeout; armed
	// while any is idle (nil or stopped otherwise).
	reaper *time.Timer
}

// h1Conn is one keep-alive connection to the upstream.
type h1Conn struct {
	c net.Conn
	// cr is what br reads c through: it bounds the response headers and
	// counts the bytes of each response.
	cr       connReader
	br       *bufio.Reader
	bw       *bufio.Writer
	lastUsed time.Time
	// peek tells, before reuse, whether the upstream closed c or sent
	// bytes on it while it was idle.
	peek *idlePeek
}

// maxResponseHeaderBytes bounds the status line and headers of a
// response from an upstream, as net/http's default MaxHeaderBytes does for
// requests: a backend whose headers do not end fails the request instead
// of filling memory.
const maxResponseHeaderBytes = 1 << 20

// errResponseHeaderTooLarge fails a request whose response headers from
// the upstream are larger than 1 MiB; the 502 page says so.
var errResponseHeaderTooLarge = errors.New("proxy: upstream response headers larger than 1 MiB")

// connReader reads from an upstream connection with a budget: while
// limit is not negative, at most limit more bytes (the response headers
// being read), then errResponseHeaderTooLarge. n counts the bytes read
// since it was last reset.
type connReader struct {
	c     net.Conn
	limit int64
	n     int64
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.limit >= 0 {
		if r.limit == 0 {
			return 0, errResponseHeaderTooLarge
		}
		if int64(len(p)) > r.limit {
			p = p[:r.limit]
		}
	}
	n, err := r.c.Read(p)
	r.n += int64(n)
	if r.limit >= 0 {
		r.limit -= int64(n)
	}
	return n, err
}

// readHeaders starts a response: the headers get their budget.
func (r *connReader) readHeaders() { r.limit, r.n = maxResponseHeaderBytes, 0 }

// readBody lifts the budget once the headers are in.
func (r *connReader) readBody() { r.limit = -1 }

// errUpstreamClosed is a connection that the upstream closed before it
// sent any byte of the response; on a reused connection it means the
// upstream had closed it while idle, and the request is sent again on a
// new one.
var errUpstreamClosed = errors.New("proxy: upstream closed an idle connection")

func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if (req.Method != http.MethodGet && req.Method != http.MethodHead) ||
		(req.Body != nil && req.Body != http.NoBody) || req.Header.Get("Upgrade") != "" ||
		req.URL.Scheme != "http" {
		return t.fallback.RoundTrip(req)
	}
	ctx := req.Context()
	pc, reused, err := t.get(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := t.send(pc, req)
	if err == nil || !reused || !errors.Is(err, errUpstreamClosed) || ctx.Err() != nil {
		return resp, err
	}
	// The upstream closed the reused connection while it was idle (its
	// keep-alive ended) and sent nothing back: it never saw the request.
	// GET and HEAD without a body are safe to send again, and they go on
	// a new connection: any other idle one is likely just as dead (as
	// net/http.Transport does with errServerClosedIdle).
	if pc, err = t.dialConn(ctx); err != nil {
		return nil, err
	}
	return t.send(pc, req)
}

// send writes req on pc and reads the response headers. The body it
// returns puts pc back in the pool once read to the end.
func (t *h1Transport) send(pc *h1Conn, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stop := context.AfterFunc(ctx, func() {
		// Unblock the read or write below; the connection is lost.
		_ = pc.c.SetDeadline(aLongTimeAgo)
	})
	fail := func(err error, nothingRead bool) (*http.Response, error) {
		stop()
		_ = pc.c.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		if nothingRead && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isConnReset(err)) {
			return nil, errors.Join(errUpstreamClosed, err)
		}
		return nil, err
	}
	if err := req.Write(pc.bw); err != nil {
		return fail(err, true)
	}
	if err := pc.bw.Flush(); err != nil {
		return fail(err, true)
	}
	if t.readHeader > 0 {
		_ = pc.c.SetReadDeadline(time.Now().Add(t.readHeader))
	}
	pc.cr.readHeaders()
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(pc.br, req)
		if err != nil {
			return fail(err, pc.cr.n == 0)
		}
		// Interim responses (100 Continue, 103 Early Hints) are not
		// forwarded on this path; the final one follows.
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	pc.cr.readBody()
	if t.readHeader > 0 {
		_ = pc.c.SetReadDeadline(time.Time{})
		if ctx.Err() != nil {
			// Cancelled while the deadline was cleared, which may have
			// undone the cancellation's own deadline: the body would wait
			// on the upstream with nothing to stop it.
			return fail(ctx.Err(), false)
		}
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// Not asked for (no Upgrade header): the upstream is confused.
		stop()
		_ = pc.c.Close()
		return nil, errors.New("proxy: upstream switched protocols without being asked")
	}
	reuse := !resp.Close && !req.Close
	if resp.Body == http.NoBody { // HEAD, 204, 304: done already
		// Bytes after a response without a body (a body sent with a HEAD
		// answer) would be read as the next response: reuse only a
		// connection with nothing more in it.
		if stop() && reuse && pc.br.Buffered() == 0 {
			t.put(pc)
		} else {
			_ = pc.c.Close()
		}
		return resp, nil
	}
	resp.Body = &h1Body{rc: resp.Body, pc: pc, t: t, stop: stop, reuse: reuse}
	return resp, nil
}

// get returns an idle connection, or dials a new one. reused reports
// which: a reused connection may have been closed by the upstream since.
// Idle connections past UpstreamIdleTimeout are closed, and so are those
// the upstream closed or sent bytes on while they were idle (an
// unsolicited response, which must not become the next request's).
func (t *h1Transport) get(ctx context.Context) (pc *h1Conn, reused bool, err error) {
	now := time.Now()
	for {
		t.mu.Lock()
		n := len(t.idle)
		if n == 0 {
			t.mu.Unlock()
			break
		}
		pc = t.idle[n-1]
		t.idle[n-1] = nil
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		if now.Sub(pc.lastUsed) < UpstreamIdleTimeout && pc.peek.isQuiet() {
			return pc, true, nil
		}
		_ = pc.c.Close()
	}
	pc, err = t.dialConn(ctx)
	return pc, false, err
}

// dialConn dials a new connection to the upstream.
func (t *h1Transport) dialConn(ctx context.Context) (*h1Conn, error) {
	c, err := t.dial(ctx)
	if err != nil {
		return nil, err
	}
	pc := &h1Conn{c: c, cr: connReader{c: c, limit: -1}, bw: bufio.NewWriterSize(c, 8<<10), peek: newIdlePeek(c)}
	pc.br = bufio.NewReaderSize(&pc.cr, 16<<10)
	return pc, nil
}

// put returns pc to the pool, or closes it when the pool is full or the
// transport closed.
func (t *h1Transport) put(pc *h1Conn) {
	pc.lastUsed = time.Now()
	t.mu.Lock()
	if t.closed || len(t.idle) >= maxIdlePerHost {
		t.mu.Unlock()
		_ = pc.c.Close()
		return
	}
	t.idle = append(t.idle, pc)
	if t.reaper == nil {
		t.reaper = time.AfterFunc(UpstreamIdleTimeout, t.reap)
	} else if len(t.idle) == 1 {
		t.reaper.Reset(UpstreamIdleTimeout)
	}
	t.mu.Unlock()
}

// reap closes the connections idle for UpstreamIdleTimeout, oldest first,
// and arms itself again for the next one to expire. Idle connections are
// not kept until the backend gives up on them: each one may hold a whole
// worker of a prefork Apache, and a burst's other requests would wait in
// its backlog meanwhile.
func (t *h1Transport) reap() {
	now := time.Now()
	t.mu.Lock()
	n := 0
	for n < len(t.idle) && now.Sub(t.idle[n].lastUsed) >= UpstreamIdleTimeout {
		n++
	}
	expired := slices.Clone(t.idle[:n])
	t.idle = slices.Delete(t.idle, 0, n)
	if len(t.idle) > 0 && !t.closed {
		t.reaper.Reset(UpstreamIdleTimeout - now.Sub(t.idle[0].lastUsed))
	}
	t.mu.Unlock()
	for _, pc := range expired {
		_ = pc.c.Close()
	}
}

// CloseIdleConnections closes the pooled connections; connections in use
// go back to the pool afterwards and are closed by the next call.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, pc := range idle {
		_ = pc.c.Close()
	}
	t.fallback.CloseIdleConnections()
}

// close closes the idle connections and makes put close the ones still
// in use when they come back (Shutdown).
func (t *h1Transport) close() {
	t.mu.Lock()
	t.closed = true
	if t.reaper != nil {
		t.reaper.Stop()
	}
	t.mu.Unlock()
	t.CloseIdleConnections()
}

// h1Body is a response body on the hot path: read to its end, it hands
// its connection back to the pool; closed early, it closes it.
type h1Body struct {
	rc    io.ReadCloser
	pc    *h1Conn
	t     *h1Transport
	stop  func() bool
	reuse bool
	done  bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *h1Body) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

// finish releases the connection: back to the pool after a complete body
// (and while the request's context still stands) when nothing follows it,
// closed otherwise. A body that was not read to its end is not drained:
// the connection is closed under it, so an endless stream or a large
// download the client abandoned costs nothing more.
func (b *h1Body) finish(complete bool) {
	b.done = true
	if !complete {
		b.stop()
		_ = b.pc.c.Close()
		return
	}
	_ = b.rc.Close()
	// Bytes after the body are more than the upstream was asked for: an
	// extra response would be handed to the next request.
	if b.stop() && b.reuse && b.pc.br.Buffered() == 0 {
		b.t.put(b.pc)
		return
	}
	_ = b.pc.c.Close()
}

// aLongTimeAgo is a deadline that has passed, to unblock I/O at once.
var aLongTimeAgo = time.Unix(1, 0)

func isConnReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}
