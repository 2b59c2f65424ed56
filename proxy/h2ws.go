package proxy

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
)

// Websockets over HTTP/2 (RFC 8441). A browser that was told
// SETTINGS_ENABLE_CONNECT_PROTOCOL opens a websocket as an extended
// CONNECT stream (":protocol: websocket") on its existing HTTP/2
// connection. Backends such as uvicorn speak websockets over HTTP/1.1
// only, so the proxy turns the stream into an HTTP/1.1 Upgrade request on
// a connection of its own and copies the frames both ways: the websocket
// frames are the same on both sides, only the handshake differs.
//
// net/http in Go 1.26 advertises the setting only when the process runs
// with GODEBUG=http2xconnect=1 (read once at start); the devport binary
// imports proxy/xconnect, which sets it. Without it browsers keep opening
// their websockets over HTTP/1.1, which works as before.

// isExtendedConnect reports whether r is an RFC 8441 websocket stream.
func isExtendedConnect(r *http.Request) bool {
	return r.Method == http.MethodConnect && r.ProtoMajor == 2 &&
		strings.EqualFold(r.Header.Get(":protocol"), "websocket")
}

// serveH2WebSocket bridges an extended CONNECT stream to the route's
// upstream over an HTTP/1.1 Upgrade: the handshake on a connection from
// the route's pool, then the pump that copies the frames both ways. When
// upstream is not nil it receives the name of the instance dialed.
func (s *Server) serveH2WebSocket(w http.ResponseWriter, r *http.Request, h *routeHandler, upstream *string, host string) {
	if h.pool == nil {
		// Static folders and external URLs take no websockets.
		writePage(w, s.log, http.StatusNotImplemented, nil, nil,
			"501 Not Implemented: this route does not take websockets over HTTP/2.\n")
		return
	}
	conn, err := h.pool.dial(r.Context(), upstream)
	if err != nil {
		s.proxyError(w, r, h.route, err)
		return
	}
	defer conn.Close()
	if !s.upgrades.track(conn) {
		s.badGateway(w, host, h.route, "devport is shutting down")
		return
	}
	defer s.upgrades.untrack(conn)
	br, ok := s.h2Handshake(w, r, h, conn)
	if !ok {
		return
	}
	pumpH2WebSocket(w, r, conn, br)
}

// h2Handshake sends the HTTP/1.1 Upgrade for stream r on conn and answers
// the stream: 200 when the backend switched protocols (the tunnel is
// open; it returns the reader of conn, which may hold the first frames),
// or the backend's refusal, or the 502 page. ok is false when the stream
// got its final answer.
func (s *Server) h2Handshake(w http.ResponseWriter, r *http.Request, h *routeHandler, conn *switchConn) (br *bufio.Reader, ok bool) {
	route, ut := h.route, conn.ut
	// The HTTP/1.1 handshake the backend expects, with the headers the
	// proxy adds to every request (Rewrite) and the client's websocket
	// options (subprotocols, extensions, origin, cookies).
	out := r.Clone(r.Context())
	out.Method, out.Proto, out.ProtoMajor, out.ProtoMinor = http.MethodGet, "HTTP/1.1", 1, 1
	out.Body, out.ContentLength = nil, 0
	out.RequestURI = ""
	out.Header.Del(":protocol")
	rewrite(&httputil.ProxyRequest{In: r, Out: out}, route)
	if route.URL == nil && ut.up.network() != "unix" {
		out.URL.Host = ut.up.Address
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	out.Header.Set("Connection", "Upgrade")
	out.Header.Set("Upgrade", "websocket")
	out.Header.Set("Sec-Websocket-Key", base64.StdEncoding.EncodeToString(key))
	out.Header.Set("Sec-Websocket-Version", "13")
	var err error
	if ut.uw != nil {
		// uWSGI takes the handshake as uwsgi vars and answers it in
		// HTTP/1.1, like any other request.
		err = writeUwsgiHead(conn, out, h.pool.scriptName)
	} else {
		err = out.Write(conn)
	}
	if err != nil {
		s.proxyError(w, r, route, &instanceError{ut: ut, err: err})
		return nil, false
	}
	cr := &connReader{c: conn}
	cr.readHeaders()
	br = bufio.NewReader(cr)
	resp, err := http.ReadResponse(br, out)
	if err != nil {
		s.proxyError(w, r, route, &instanceError{ut: ut, err: err})
		return nil, false
	}
	cr.readBody()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		// Refused (401, 403, 404...): the client gets the backend's answer.
		defer resp.Body.Close()
		copyEndToEnd(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return nil, false
	}
	// RFC 8441: a 200 opens the tunnel; the accept key belongs to the
	// HTTP/1.1 handshake only.
	for _, k := range []string{"Sec-Websocket-Protocol", "Sec-Websocket-Extensions", "Set-Cookie"} {
		if v := resp.Header.Values(k); len(v) > 0 {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(http.StatusOK)
	if err := http.NewResponseController(w).Flush(); err != nil {
		return nil, false
	}
	return br, true
}

// pumpH2WebSocket copies the frames of an open tunnel both ways until
// either side ends: the client's stream to conn, and conn (through br,
// which may already hold some) to the stream, flushed as each piece
// arrives. The end of the client's stream half-closes conn; the end of
// conn ends the stream.
func pumpH2WebSocket(w http.ResponseWriter, r *http.Request, conn *switchConn, br *bufio.Reader) {
	var wg sync.WaitGroup
	wg.Go(func() {
		// client -> backend
		_, _ = io.Copy(conn, r.Body)
		_ = conn.CloseWrite()
	})
	// backend -> client
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil || rc.Flush() != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = conn.Close()
	_ = r.Body.Close()
	wg.Wait()
}

// copyEndToEnd copies the headers of src that are not hop-by-hop.
func copyEndToEnd(dst, src http.Header) {
	hop := map[string]bool{"Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
		"Transfer-Encoding": true, "Upgrade": true, "Te": true, "Trailer": true}
	for _, f := range src.Values("Connection") {
		for _, name := range strings.Split(f, ",") {
			hop[http.CanonicalHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	for k, v := range src {
		if !hop[k] {
			dst[k] = v
		}
	}
}

// track registers a connection that Shutdown must close; false once
// Shutdown began.
func (u *upgrades) track(c net.Conn) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closing {
		return false
	}
	uc := &upgradedConn{Conn: c, u: u}
	u.conns[uc] = struct{}{}
	u.byConn[c] = uc
	u.open.Add(1)
	return true
}

// untrack forgets a connection registered by track.
func (u *upgrades) untrack(c net.Conn) {
	u.mu.Lock()
	uc := u.byConn[c]
	delete(u.byConn, c)
	u.mu.Unlock()
	if uc != nil {
		_ = uc.Close()
	}
}
