package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// active is an installed table with a ready handler for each of its
// routes, so serving a request needs one atomic load and no allocation for
// routing.
type active struct {
	table *Table
	// handlers[i] serves table.routes[i].
	handlers []routeHandler
}

// routeHandler is what serves one route: a reverse proxy (service and URL
// routes), a static folder, or nothing (the route is down).
type routeHandler struct {
	route *Route
	proxy *httputil.ReverseProxy
	// pool is the proxy's Transport on a service route: the route's
	// instances, which websockets over HTTP/2 dial through too.
	pool   *pool
	static *staticHandler
	// tryFiles serves Route.TryFiles ahead of proxy.
	tryFiles *staticHandler
	// upstream names the target in the access log when there is a single
	// one (static routes, URL routes); pools name the instance they pick.
	upstream string
	// act is the traffic of the route's project (Server.Activity).
	act *activity
}

// install builds the handlers for t. Transports of upstreams that t keeps
// are reused, so their warm keep-alive connections and their health
// survive the swap.
func (s *Server) install(t *Table) *active {
	var keys []transportKey
	for i := range t.routes {
		route := &t.routes[i]
		if route.Kind() != KindService {
			continue
		}
		for _, u := range route.instances() {
			keys = append(keys, transportKey{up: u, limits: route.Limits.transport()})
		}
	}
	trs := s.trs.sync(keys)
	acts := s.activities(t)
	a := &active{table: t, handlers: make([]routeHandler, len(t.routes))}
	for i := range t.routes {
		route := &t.routes[i]
		h := &a.handlers[i]
		h.route = route
		h.act = acts[route.Project]
		if route.TryFiles != "" {
			h.tryFiles = newStaticHandler(route.TryFiles, route.PathPrefix, route.CacheControl, route.Confine, s.log)
		}
		var tr http.RoundTripper
		switch route.Kind() {
		case KindStatic:
			h.static = newStaticHandler(route.Static, route.PathPrefix, route.CacheControl, route.Confine, s.log)
			h.upstream = "static"
			continue
		case KindService:
			h.pool = &pool{failTimeout: route.Limits.FailTimeout}
			if route.StripPrefix && route.PathPrefix != "/" {
				h.pool.scriptName = route.PathPrefix
			}
			for _, u := range route.instances() {
				h.pool.insts = append(h.pool.insts, trs[transportKey{up: u, limits: route.Limits.transport()}])
			}
			tr = h.pool
		case KindURL:
			tr = s.trs.external
			h.upstream = route.URL.Redacted()
		default:
			continue
		}
		h.proxy = &httputil.ReverseProxy{
			Rewrite:        func(pr *httputil.ProxyRequest) { rewrite(pr, route) },
			Transport:      tr,
			BufferPool:     s.bufs,
			ErrorLog:       s.errLog,
			ErrorHandler:   func(w http.ResponseWriter, r *http.Request, err error) { s.proxyError(w, r, route, err) },
			ModifyResponse: addVia,
			// Streamed responses (server-sent events, chunked bodies of
			// unknown length) are flushed as each piece arrives; bodies of
			// known length are copied in full buffers.
			FlushInterval: 0,
		}
	}
	return a
}

// serveHTTPS handles every request on the HTTPS listeners: it finds the
// route and hands the request to that route's handler, or answers itself
// with a 400, 404 or 502.
func (s *Server) serveHTTPS(w http.ResponseWriter, r *http.Request) {
	host, ok := normalizeHost(r.Host)
	if !ok {
		writePage(w, s.log, http.StatusBadRequest, nil, nil, "400 Bad Request: missing or invalid Host header.\n")
		return
	}
	if r.Method == http.MethodConnect && !isExtendedConnect(r) {
		// Websockets over HTTP/2 (RFC 8441) are routed; a plain
		// CONNECT asks for a tunnel, which devport does not offer.
		writePage(w, s.log, http.StatusMethodNotAllowed, nil, nil, "405 Method Not Allowed: devport is not a forward proxy.\n")
		return
	}
	a := s.active.Load()
	urlPath := cleanPath(r.URL.Path)
	i, known := a.table.lookup(host, urlPath)
	var start time.Time // of a held request, for its access entry
	if i >= 0 && a.table.routes[i].held() {
		start = time.Now()
		if a, i, known = s.hold(r.Context(), host, urlPath, a, i); a == nil {
			// The client went away while the backend was starting.
			if al := s.cfg.AccessLog; al != nil {
				s.logGone(al, r, host, start)
			}
			return
		}
	}
	switch {
	case i < 0 && !known:
		s.unknownHost(w, host, a.table)
		return
	case i < 0:
		s.noRoute(w, host, urlPath)
		return
	}
	h := &a.handlers[i]
	h.act.begin()
	defer h.act.end()
	if al := s.cfg.AccessLog; al != nil {
		s.serveLogged(al, w, r, h, host, urlPath, start)
		return
	}
	s.serveRoute(w, r, h, h.proxy, nil, host, urlPath)
}

// serveRoute hands a routed request to its route's handler. rp is the
// route's reverse proxy, or a copy of it that names the instance it sends
// to in *upstream (the access log's); upstream is nil when nobody asks.
func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, h *routeHandler, rp *httputil.ReverseProxy, upstream *string, host, urlPath string) {
	route := h.route
	if h.static != nil {
		h.static.ServeHTTP(w, r, urlPath)
		return
	}
	if h.tryFiles != nil && h.tryFiles.hasFile(r, urlPath) {
		h.tryFiles.ServeHTTP(w, r, urlPath)
		return
	}
	if rp == nil {
		reason := route.Down
		switch {
		case route.Pending != nil:
			// Held for HoldTimeout (or not at all, with holding off): the
			// engine's own words for the start, and how long it waited.
			if reason == "" {
				reason = "it is still starting"
			}
			if d := s.holdTimeout(); d > 0 {
				reason += " (waited " + d.String() + ")"
			}
		case reason == "":
			reason = "not running"
		}
		s.badGateway(w, host, route, reason)
		return
	}
	if isExtendedConnect(r) {
		s.serveH2WebSocket(w, r, h, upstream, host)
		return
	}
	if !s.limitBody(w, r, route.Limits.MaxBody) {
		return
	}
	if urlPath != r.URL.Path {
		// Forward the path that was routed, so a backend cannot be
		// reached through another service's prefix with "..".
		u := *r.URL
		u.Path, u.RawPath = urlPath, ""
		r = r.WithContext(r.Context())
		r.URL = &u
	}
	if r.ProtoMajor == 1 && r.Header.Get("Upgrade") != "" {
		w = &upgradeWriter{ResponseWriter: w, u: s.upgrades}
	} else if !route.NoCompress && wantsGzip(r) {
		gw := &gzipWriter{ResponseWriter: w, pool: &s.gzips}
		defer gw.close()
		w = gw
	}
	rp.ServeHTTP(w, r)
}

// addVia adds devport to the response's Via chain (RFC 9110 7.6.3).
func addVia(resp *http.Response) error {
	resp.Header["Via"] = append(resp.Header["Via"], viaFor(resp.ProtoMajor, resp.ProtoMinor))
	return nil
}

// viaFor is the Via entry for a message received over HTTP major.minor.
func viaFor(major, minor int) string {
	switch {
	case major == 2:
		return "2 devport"
	case major == 1 && minor == 0:
		return "1.0 devport"
	default:
		return "1.1 devport"
	}
}

// rewrite turns the inbound request into the one sent to route's backend.
// ReverseProxy has already removed hop-by-hop and X-Forwarded-* headers
// from pr.Out (it keeps Upgrade for websockets).
func rewrite(pr *httputil.ProxyRequest, route *Route) {
	in, out := pr.In, pr.Out
	if route.StripPrefix && route.PathPrefix != "/" {
		stripPrefix(out.URL, route.PathPrefix)
	}
	if route.URL == nil {
		out.URL.Scheme = "http"
		// The pool sets the instance's address for TCP; a unix socket is
		// dialed whatever the URL says, and the site's host keeps the
		// request readable in backend logs.
		out.URL.Host = in.Host
		// The backend sees the site's name (Apache vhosts, absolute URLs
		// built by the app), not the upstream address.
		out.Host = in.Host
	} else {
		pr.SetURL(route.URL) // Host header: the URL's host
	}
	setForwardedHeaders(in, out)
}

// Precomputed header values; Header slices with len == cap, so that an
// Add elsewhere copies instead of writing into the shared array.
var (
	protoHTTPS = []string{"https"}[:1:1]
	protoHTTP  = []string{"http"}[:1:1]
)

// spoofable are the forwarding headers a client could send to pose as
// another address, scheme, host, port or path prefix. The proxy is the
// first hop, so none of them is believed: they are removed (ReverseProxy
// already removes X-Forwarded-For, -Host and -Proto) and the proxy's own
// are set.
var spoofable = [...]string{
	"X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Ssl",
	"X-Forwarded-Scheme", "X-Forwarded-Server", "X-Forwarded-Protocol",
}

// setForwardedHeaders tells the backend who asked and how, replacing
// whatever the client said about it: the client's address in
// X-Forwarded-For and X-Real-IP, X-Forwarded-Host and -Proto, a Forwarded
// entry (RFC 7239) and devport in Via. It does what
// ProxyRequest.SetXForwarded does for a first hop, with one allocation
// for all the value slices instead of one each.
func setForwardedHeaders(in, out *http.Request) {
	h := out.Header
	for _, k := range spoofable {
		delete(h, k)
	}
	vals := make([]string, 4)
	ip, _, err := net.SplitHostPort(in.RemoteAddr)
	if err == nil {
		vals[0] = ip
		h["X-Forwarded-For"] = vals[0:1:1]
		h["X-Real-Ip"] = vals[0:1:1]
	} else {
		ip = ""
		delete(h, "X-Forwarded-For")
		delete(h, "X-Real-Ip")
	}
	if in.Host != "" {
		vals[1] = in.Host
		h["X-Forwarded-Host"] = vals[1:2:2]
	} else {
		delete(h, "X-Forwarded-Host")
	}
	if in.TLS != nil {
		h["X-Forwarded-Proto"] = protoHTTPS
	} else {
		h["X-Forwarded-Proto"] = protoHTTP
	}
	vals[2] = forwarded(ip, in.Host)
	h["Forwarded"] = vals[2:3:3]
	if prior := in.Header["Via"]; len(prior) > 0 {
		h["Via"] = append(prior[:len(prior):len(prior)], viaFor(in.ProtoMajor, in.ProtoMinor))
	} else {
		vals[3] = viaFor(in.ProtoMajor, in.ProtoMinor)
		h["Via"] = vals[3:4:4]
	}
}

// forwarded is this hop's Forwarded header (RFC 7239): the client
// address, the host it asked for and https.
func forwarded(ip, host string) string {
	b := make([]byte, 0, 64)
	b = append(b, "for="...)
	switch {
	case ip == "":
		b = append(b, "unknown"...)
	case strings.IndexByte(ip, ':') >= 0:
		b = append(b, `"[`...)
		b = append(b, ip...)
		b = append(b, `]"`...)
	default:
		b = append(b, ip...)
	}
	b = append(b, ";host="...)
	b = strconv.AppendQuote(b, host)
	b = append(b, ";proto=https"...)
	return string(b)
}

// stripPrefix removes prefix from u's path: "/api/x" becomes "/x" and
// "/api" becomes "/". The caller made sure the path starts with prefix on
// a segment boundary.
func stripPrefix(u *url.URL, prefix string) {
	rest := strings.TrimPrefix(u.Path, prefix)
	if rest == "" || rest[0] != '/' {
		rest = "/" + rest
	}
	if u.RawPath != "" {
		if raw, ok := strings.CutPrefix(u.RawPath, prefix); ok && (raw == "" || raw[0] == '/') {
			if raw == "" {
				raw = "/"
			}
			u.RawPath = raw
		} else {
			u.RawPath = "" // re-encoded from Path
		}
	}
	u.Path = rest
}

// proxyError is the ErrorHandler of every route: the backend did not
// answer, so the browser gets the 502 page with a short reason.
func (s *Server) proxyError(w http.ResponseWriter, r *http.Request, route *Route, err error) {
	if uw, ok := w.(*upgradeWriter); ok && uw.hijacked {
		// The switch failed after the connection was taken over (the
		// 101 could not be written): there is no response left to send.
		s.log.Debug("protocol switch failed", "host", r.Host, "path", r.URL.Path, "err", err)
		return
	}
	if r.Context().Err() != nil {
		// The client went away; there is nobody to show a page to.
		s.log.Debug("client gone before the backend answered", "host", r.Host, "path", r.URL.Path, "err", err)
		return
	}
	if tooLarge(err) {
		writePage(w, s.log, http.StatusRequestEntityTooLarge, nil, nil,
			"413 Content Too Large: the request body is larger than this route accepts ("+
				strconv.FormatInt(route.Limits.MaxBody, 10)+" bytes; devport route ... --max-body).\n")
		return
	}
	var varsErr *UwsgiVarsTooLargeError
	if errors.As(err, &varsErr) {
		writePage(w, s.log, http.StatusRequestHeaderFieldsTooLarge, nil, nil,
			"431 Request Header Fields Too Large: "+varsErr.Error()+".\n")
		return
	}
	reason := errorReason(err)
	if s.upgrades.isClosing() {
		reason = "devport is shutting down"
	}
	target := ""
	var ie *instanceError
	switch {
	case errors.As(err, &ie):
		target = ie.ut.name
	case route.Upstream != nil:
		target = route.Upstream.String()
	case route.URL != nil:
		target = route.URL.Redacted()
	}
	s.log.Warn("backend did not answer",
		"host", r.Host, "path", r.URL.Path, "project", route.Project, "service", route.Service,
		"upstream", target, "reason", reason, "err", err)
	host, _ := normalizeHost(r.Host)
	if reason == "timeout" {
		s.gatewayTimeout(w, host, route)
		return
	}
	s.badGateway(w, host, route, reason)
}

// errorReason is the short explanation of a failed round trip that the
// 502 page shows.
func errorReason(err error) string {
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		unkCA   x509.UnknownAuthorityError
		hostErr x509.HostnameError
		closed  *uwsgiClosedError
		badProt *UnknownProtocolError
	)
	switch {
	case errors.Is(err, errResponseHeaderTooLarge):
		return "its response headers are larger than 1 MiB"
	case errors.As(err, &closed):
		return closed.Error()
	case errors.As(err, &badProt):
		return badProt.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ENOENT):
		return "its socket does not exist"
	case errors.Is(err, syscall.EACCES):
		return "permission denied on its socket"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &dnsErr):
		return "host " + dnsErr.Name + " not found"
	case errors.As(err, &certErr), errors.As(err, &unkCA), errors.As(err, &hostErr):
		return "its TLS certificate is not trusted"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "it closed the connection without answering"
	default:
		return err.Error()
	}
}
