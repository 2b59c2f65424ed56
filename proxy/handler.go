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
	"strings"
	"syscall"
)

// active is an installed table with a ready reverse proxy for each of its
// routes, so serving a request needs one atomic load and no allocation for
// routing.
type active struct {
	table *Table
	// proxies[i] serves table.routes[i]; nil when that route is down.
	proxies []*httputil.ReverseProxy
}

// install builds the proxies for t. Transports of upstreams that t keeps
// are reused, so their warm keep-alive connections survive the swap.
func (s *Server) install(t *Table) *active {
	var ups []Upstream
	for _, rt := range t.routes {
		if rt.Upstream != nil {
			ups = append(ups, *rt.Upstream)
		}
	}
	trs := s.trs.sync(ups)
	a := &active{table: t, proxies: make([]*httputil.ReverseProxy, len(t.routes))}
	for i := range t.routes {
		rt := &t.routes[i]
		var tr http.RoundTripper
		switch {
		case rt.Upstream != nil:
			tr = trs[Upstream{Network: rt.Upstream.network(), Address: rt.Upstream.Address}]
		case rt.URL != nil:
			tr = s.trs.external
		default:
			continue
		}
		a.proxies[i] = &httputil.ReverseProxy{
			Rewrite:      func(pr *httputil.ProxyRequest) { rewrite(pr, rt) },
			Transport:    tr,
			BufferPool:   s.bufs,
			ErrorLog:     s.errLog,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { s.proxyError(w, r, rt, err) },
		}
	}
	return a
}

// serveHTTPS handles every request on the HTTPS listeners: it finds the
// route and hands the request to that route's reverse proxy, or answers
// itself with a 400, 404 or 502.
func (s *Server) serveHTTPS(w http.ResponseWriter, r *http.Request) {
	host, ok := normalizeHost(r.Host)
	if !ok {
		writePage(w, s.log, http.StatusBadRequest, nil, nil, "400 Bad Request: missing or invalid Host header.\n")
		return
	}
	if r.Method == http.MethodConnect {
		// Includes HTTP/2 extended CONNECT (RFC 8441), which the
		// backends behind us cannot speak; browsers fall back to a
		// HTTP/1.1 Upgrade when the server does not offer it.
		writePage(w, s.log, http.StatusMethodNotAllowed, nil, nil, "405 Method Not Allowed: devport is not a forward proxy.\n")
		return
	}
	a := s.active.Load()
	p := cleanPath(r.URL.Path)
	i, known := a.table.lookup(host, p)
	switch {
	case i < 0 && !known:
		s.unknownHost(w, host, a.table)
		return
	case i < 0:
		s.noRoute(w, host, p)
		return
	}
	rp := a.proxies[i]
	if rp == nil {
		rt := &a.table.routes[i]
		reason := rt.Down
		if reason == "" {
			reason = "not running"
		}
		s.badGateway(w, host, rt, reason)
		return
	}
	if p != r.URL.Path {
		// Forward the path that was routed, so a backend cannot be
		// reached through another service's prefix with "..".
		u := *r.URL
		u.Path, u.RawPath = p, ""
		r = r.WithContext(r.Context())
		r.URL = &u
	}
	if r.ProtoMajor == 1 && r.Header.Get("Upgrade") != "" {
		w = &upgradeWriter{ResponseWriter: w, u: s.upgrades}
	}
	rp.ServeHTTP(w, r)
}

// rewrite turns the inbound request into the one sent to rt's backend.
// ReverseProxy has already removed hop-by-hop and X-Forwarded-* headers
// from pr.Out (it keeps Upgrade for websockets).
func rewrite(pr *httputil.ProxyRequest, rt *Route) {
	in, out := pr.In, pr.Out
	if rt.StripPrefix && rt.PathPrefix != "/" {
		stripPrefix(out.URL, rt.PathPrefix)
	}
	if up := rt.Upstream; up != nil {
		out.URL.Scheme = "http"
		if up.network() == "unix" {
			// The transport dials the socket whatever the URL says; the
			// site's host keeps the request readable in backend logs.
			out.URL.Host = in.Host
		} else {
			out.URL.Host = up.Address
		}
		// The backend sees the site's name (Apache vhosts, absolute URLs
		// built by the app), not the upstream address.
		out.Host = in.Host
	} else {
		pr.SetURL(rt.URL) // Host header: the URL's host
	}
	// Append the client to the chain it arrived with.
	if prior, ok := in.Header["X-Forwarded-For"]; ok {
		out.Header["X-Forwarded-For"] = prior
	}
	pr.SetXForwarded()
	if ip, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		out.Header.Set("X-Real-Ip", ip)
	} else {
		out.Header.Del("X-Real-Ip")
	}
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
func (s *Server) proxyError(w http.ResponseWriter, r *http.Request, rt *Route, err error) {
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
	reason := errorReason(err)
	if s.upgrades.isClosing() {
		reason = "devport is shutting down"
	}
	target := ""
	if rt.Upstream != nil {
		target = rt.Upstream.String()
	} else if rt.URL != nil {
		target = rt.URL.Redacted()
	}
	s.log.Warn("backend did not answer",
		"host", r.Host, "path", r.URL.Path, "project", rt.Project, "service", rt.Service,
		"upstream", target, "reason", reason, "err", err)
	host, _ := normalizeHost(r.Host)
	s.badGateway(w, host, rt, reason)
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
	)
	switch {
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
