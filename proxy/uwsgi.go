package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The uwsgi protocol, spoken to upstreams whose Protocol is "uwsgi", as
// nginx's uwsgi_pass does. A request is one packet header (modifier1 = 0,
// the size of the vars block as a little-endian uint16, modifier2 = 0),
// the vars block (each name and value prefixed by its length, a
// little-endian uint16), then the request body, CONTENT_LENGTH bytes of
// it. uWSGI answers with a plain HTTP/1.x response (status line, headers,
// body) and closes the connection when the body ends: the protocol has no
// keep-alive, so every request dials its own connection.
//
// The vars are those of nginx's uwsgi_params: QUERY_STRING,
// REQUEST_METHOD, CONTENT_TYPE, CONTENT_LENGTH, REQUEST_URI, PATH_INFO,
// DOCUMENT_ROOT, SERVER_PROTOCOL, REQUEST_SCHEME, HTTPS ("on" for TLS
// clients, absent otherwise), REMOTE_ADDR, REMOTE_PORT, SERVER_PORT and
// SERVER_NAME, plus SCRIPT_NAME (the route's prefix when it strips it,
// PATH_INFO being the rest; absent otherwise, PATH_INFO being the whole
// path, which uWSGI's --manage-script-name --mount can split) and every request header as HTTP_NAME,
// including the X-Forwarded-* and X-Real-IP the proxy sets. Header names
// with an underscore are dropped (nginx's underscores_in_headers off), so
// that "X_Forwarded_For" cannot pose as X-Forwarded-For; so is Proxy
// (httpoxy).
//
// Request bodies with a length are streamed. A body without one (chunked
// HTTP/1.1, HTTP/2 without content-length) is first read to its end (in
// memory up to 1 MiB, then in a temporary file, within the route's
// MaxBody) and sent with its length, as nginx does: WSGI reads
// CONTENT_LENGTH bytes and uWSGI takes no chunked input on its uwsgi
// socket.
//
// A websocket (an HTTP/1.1 Upgrade, or an HTTP/2 extended CONNECT that
// serveH2WebSocket turns into one) is passed through: the handshake goes
// as vars (HTTP_UPGRADE, HTTP_SEC_WEBSOCKET_KEY...), and when the app
// answers 101 (uwsgi.websocket_handshake) the connection carries the
// frames both ways.

// What the uWSGI side needs, for whoever starts it: --buffer-size 65535
// (its default of 4096 drops a request with larger vars, long cookies
// say, and closes the connection: the 502 page then says so), and a
// --socket-timeout above the slowest pause in an upload (default 4 s:
// bodies are streamed, not buffered first as nginx's
// uwsgi_request_buffering does).

// uwsgiMaxVars is the largest vars block the packet header can describe.
const uwsgiMaxVars = 65535

// uwsgiDefaultBufferSize is uWSGI's default buffer-size: a packet with
// larger vars is dropped by uWSGI, which closes the connection.
const uwsgiDefaultBufferSize = 4096

// uwsgiSpoolMem is how much of a body without a length is held in memory
// before it spills to a temporary file.
const uwsgiSpoolMem = 1 << 20

// UwsgiVarsTooLargeError is returned for a request whose uwsgi vars (the
// request line and headers, mostly) do not fit the protocol's 64 KiB vars
// block. The client gets 431 Request Header Fields Too Large.
type UwsgiVarsTooLargeError struct {
	// Size is the size the vars block would have had, in bytes.
	Size int
}

func (e *UwsgiVarsTooLargeError) Error() string {
	return "uwsgi: the request's vars take " + strconv.Itoa(e.Size) +
		" bytes, more than the 65535 the uwsgi protocol allows (send fewer or smaller headers or cookies)"
}

// uwsgiClosedError is an upstream that closed the connection without
// answering a request whose vars were larger than uWSGI's default
// buffer-size, the usual cause.
type uwsgiClosedError struct {
	size int
	err  error
}

func (e *uwsgiClosedError) Error() string {
	return "it closed the connection without answering; the request's uwsgi vars take " +
		strconv.Itoa(e.size) + " bytes, more than uWSGI's default buffer-size of 4096 " +
		"(start uWSGI with --buffer-size 65535)"
}

func (e *uwsgiClosedError) Unwrap() error { return e.err }

// uwsgiTransport sends requests to one upstream instance over the uwsgi
// protocol, one connection per request.
type uwsgiTransport struct {
	// dial connects to the instance (with Limits.Connect and Limits.Write
	// applied; failures are *dialError).
	dial func(ctx context.Context) (net.Conn, error)
	// readHeader bounds the wait for the response headers (Limits.Read);
	// 0 is no limit.
	readHeader time.Duration
}

// roundTrip sends req (the outgoing request built by the route's Rewrite)
// and returns the response with its headers read. scriptName is the
// route's prefix when it strips it, "" otherwise. The response body
// closes the connection when it is read to its end or closed.
func (t *uwsgiTransport) roundTrip(req *http.Request, scriptName string) (*http.Response, error) {
	ctx := req.Context()
	body, length := req.Body, req.ContentLength
	if body == http.NoBody {
		body = nil
	}
	// cleanup removes a spooled body once it has been sent; the body
	// goroutine takes it over when it starts.
	cleanup := func() {}
	defer func() { cleanup() }()
	if body == nil {
		length = 0
	} else if length < 0 {
		sp, n, err := spoolBody(body)
		if err != nil {
			return nil, err
		}
		cleanup = func() { _ = sp.Close() }
		body, length = sp, n
	}
	packet, err := encodeUwsgiPacket(uwsgiVars(req, scriptName, length))
	if err != nil {
		return nil, err
	}
	conn, err := t.dial(ctx)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() {
		// Unblock the reads and writes below; the request is abandoned.
		_ = conn.SetDeadline(aLongTimeAgo)
	})
	fail := func(err error) (*http.Response, error) {
		stop()
		_ = conn.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	if _, err := conn.Write(packet); err != nil {
		return fail(err)
	}
	var werr chan error
	if body != nil && length > 0 {
		// The body goes on its own goroutine while the response is read,
		// so that an app that answers before reading its whole body (an
		// early 4xx) does not deadlock against a full socket buffer.
		werr = make(chan error, 1)
		done := cleanup
		cleanup = func() {}
		go func() {
			defer done()
			_, err := io.Copy(conn, io.LimitReader(body, length))
			werr <- err
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Limits.Write passed: the upstream stopped reading.
				// Unblock the response read too.
				_ = conn.Close()
			}
		}()
	}
	if t.readHeader > 0 {
		_ = conn.SetReadDeadline(time.Now().Add(t.readHeader))
	}
	cr := &connReader{c: conn}
	cr.readHeaders()
	br := bufio.NewReaderSize(cr, 16<<10)
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(br, req)
		if err != nil {
			nothingRead := cr.n == 0
			_ = conn.Close()
			select {
			case e := <-werr: // nil channel without a body: never ready
				if e != nil && !errors.Is(e, net.ErrClosed) && !isBrokenPipe(e) {
					err = e // the body could not be sent (Limits.Write)
				}
			default:
			}
			if nothingRead && len(packet)-4 > uwsgiDefaultBufferSize &&
				(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
				err = &uwsgiClosedError{size: len(packet) - 4, err: err}
			}
			return fail(err)
		}
		// Interim responses are not forwarded; the final one follows.
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	cr.readBody()
	if t.readHeader > 0 {
		_ = conn.SetReadDeadline(time.Time{})
		if ctx.Err() != nil {
			// Cancelled while the deadline was cleared, which may have
			// undone the cancellation's own deadline.
			return fail(ctx.Err())
		}
	}
	// uWSGI writes the request's SERVER_PROTOCOL in its status line
	// ("HTTP/2.0" for an HTTP/2 client); the response was received over
	// a plain HTTP/1.1-style stream.
	resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/1.1", 1, 1
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if req.Header.Get("Upgrade") == "" {
			return fail(errors.New("proxy: upstream switched protocols without being asked"))
		}
		resp.Body = &uwsgiUpgraded{br: br, conn: conn, stop: stop}
		return resp, nil
	}
	if resp.Body == http.NoBody { // HEAD, 204, 304
		stop()
		_ = conn.Close()
		return resp, nil
	}
	resp.Body = &uwsgiBody{rc: resp.Body, conn: conn, stop: stop}
	return resp, nil
}

// isBrokenPipe reports whether err is a write to a connection the upstream
// closed (it answered without reading the whole body).
func isBrokenPipe(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "write" && !op.Timeout()
}

// uwsgiBody is a response body: its end, or closing it, closes the
// connection.
type uwsgiBody struct {
	rc   io.ReadCloser
	conn net.Conn
	stop func() bool
	done bool
}

func (b *uwsgiBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err != nil {
		b.finish()
	}
	return n, err
}

func (b *uwsgiBody) Close() error {
	if !b.done {
		b.finish()
	}
	return nil
}

// finish closes the connection, and then the body: closed first, an
// unfinished body would be drained to its end.
func (b *uwsgiBody) finish() {
	b.done = true
	b.stop()
	_ = b.conn.Close()
	_ = b.rc.Close()
}

// uwsgiUpgraded is the body of a 101 response: the connection itself,
// read through the buffer that holds what came with the response.
type uwsgiUpgraded struct {
	br   *bufio.Reader
	conn net.Conn
	stop func() bool
}

func (u *uwsgiUpgraded) Read(p []byte) (int, error)  { return u.br.Read(p) }
func (u *uwsgiUpgraded) Write(p []byte) (int, error) { return u.conn.Write(p) }
func (u *uwsgiUpgraded) Close() error {
	u.stop()
	return u.conn.Close()
}

// writeUwsgiHead writes the packet of a request without a body, the
// websocket handshake that serveH2WebSocket bridges.
func writeUwsgiHead(conn net.Conn, req *http.Request, scriptName string) error {
	packet, err := encodeUwsgiPacket(uwsgiVars(req, scriptName, 0))
	if err != nil {
		return err
	}
	_, err = conn.Write(packet)
	return err
}

// uwsgiVar is one name and value of the vars block.
type uwsgiVar struct{ name, value string }

// uwsgiVars lists the vars for req, nginx's uwsgi_params plus SCRIPT_NAME
// and the headers. length is the body length that will be sent.
func uwsgiVars(req *http.Request, scriptName string, length int64) []uwsgiVar {
	vars := make([]uwsgiVar, 0, 16+len(req.Header))
	add := func(name, value string) { vars = append(vars, uwsgiVar{name, value}) }
	cl := ""
	if length > 0 || req.Body != nil && req.Body != http.NoBody {
		cl = strconv.FormatInt(length, 10)
	}
	requestURI := req.RequestURI
	if requestURI == "" {
		requestURI = scriptName + req.URL.RequestURI()
	}
	proto := req.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	pathInfo := req.URL.Path
	if pathInfo == "" {
		pathInfo = "/"
	}
	add("QUERY_STRING", req.URL.RawQuery)
	add("REQUEST_METHOD", req.Method)
	add("CONTENT_TYPE", strings.Join(req.Header["Content-Type"], ", "))
	add("CONTENT_LENGTH", cl)
	add("REQUEST_URI", requestURI)
	add("PATH_INFO", pathInfo)
	if scriptName != "" {
		// Absent otherwise, as with nginx, so that uWSGI's
		// --manage-script-name and --mount can split PATH_INFO.
		add("SCRIPT_NAME", scriptName)
	}
	add("DOCUMENT_ROOT", "")
	add("SERVER_PROTOCOL", proto)
	if req.TLS != nil {
		add("REQUEST_SCHEME", "https")
		add("HTTPS", "on")
	} else {
		add("REQUEST_SCHEME", "http")
	}
	ip, port, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		ip, port = req.RemoteAddr, ""
	}
	add("REMOTE_ADDR", ip)
	add("REMOTE_PORT", port)
	add("SERVER_PORT", serverPort(req))
	name, ok := normalizeHost(req.Host)
	if !ok {
		name = ""
	}
	add("SERVER_NAME", name)
	add("HTTP_HOST", req.Host)
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		switch {
		case k == "Content-Type", k == "Content-Length", k == "Host", k == "Proxy",
			strings.IndexByte(k, '_') >= 0:
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		sep := ", "
		if k == "Cookie" {
			sep = "; "
		}
		add(cgiHeaderName(k), strings.Join(req.Header[k], sep))
	}
	return vars
}

// cgiHeaderName turns "X-Forwarded-For" into "HTTP_X_FORWARDED_FOR".
func cgiHeaderName(k string) string {
	b := make([]byte, 0, 5+len(k))
	b = append(b, "HTTP_"...)
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '-':
			c = '_'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// serverPort is the port the client connected to, as nginx's
// $server_port: the local address of the connection, else the Host
// header's port, else the scheme's default.
func serverPort(req *http.Request) string {
	if a, ok := req.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			return p
		}
	}
	if _, p, err := net.SplitHostPort(req.Host); err == nil && p != "" {
		return p
	}
	if req.TLS != nil {
		return "443"
	}
	return "80"
}

// encodeUwsgiPacket renders the packet header and the vars block.
func encodeUwsgiPacket(vars []uwsgiVar) ([]byte, error) {
	size := 0
	for _, v := range vars {
		size += 4 + len(v.name) + len(v.value)
	}
	if size > uwsgiMaxVars {
		return nil, &UwsgiVarsTooLargeError{Size: size}
	}
	b := make([]byte, 4, 4+size)
	b[0] = 0 // modifier1: a WSGI/HTTP request
	binary.LittleEndian.PutUint16(b[1:3], uint16(size))
	b[3] = 0 // modifier2
	for _, v := range vars {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v.name)))
		b = append(b, v.name...)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v.value)))
		b = append(b, v.value...)
	}
	return b, nil
}

// spoolBody reads a body of unknown length to its end, in memory up to
// uwsgiSpoolMem and in a temporary file beyond, so that it can be sent
// with a CONTENT_LENGTH. The route's MaxBody applies already (limitBody
// capped the body; passing it fails with *http.MaxBytesError, a 413).
// Closing the result removes the file.
func spoolBody(body io.Reader) (io.ReadCloser, int64, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(body, uwsgiSpoolMem+1))
	if err != nil {
		return nil, 0, err
	}
	if n <= uwsgiSpoolMem {
		return io.NopCloser(&buf), n, nil
	}
	f, err := os.CreateTemp("", "devport-body-*")
	if err != nil {
		return nil, 0, fmt.Errorf("proxy: spool a request body without a length: %w", err)
	}
	sp := &spoolFile{f}
	if _, err := buf.WriteTo(f); err != nil {
		sp.Close()
		return nil, 0, fmt.Errorf("proxy: spool a request body without a length: %w", err)
	}
	rest, err := io.Copy(f, body)
	if err != nil {
		sp.Close()
		return nil, 0, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		sp.Close()
		return nil, 0, err
	}
	return sp, n + rest, nil
}

// spoolFile is a temporary file removed when closed.
type spoolFile struct{ *os.File }

func (s *spoolFile) Close() error {
	err := s.File.Close()
	_ = os.Remove(s.File.Name())
	return err
}
