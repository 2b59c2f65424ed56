package proxy

import (
	"net/http"
	"net/http/httputil"
	"time"
)

// recorder is the ResponseWriter of a request that the access log
// follows: it keeps the status and counts the body bytes. Recorders are
// pooled; one lives only as long as its request's handler.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	// upstream is where the request went: the route's single target, or
	// the instance its pool picked (through trip).
	upstream string
	// proxy is the route's reverse proxy with trip as its Transport, so
	// that the pool names its instance in upstream.
	proxy httputil.ReverseProxy
	trip  notingPool
}

func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 && code >= 200 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(p)
	rec.bytes += int64(n)
	return n, err
}

// serveLogged serves a routed request through a recorder and queues its
// access entry. start is when the request began, when it was held before
// (zero: now). A service route's request goes through a copy of the
// route's reverse proxy whose pool writes the instance it picks to
// rec.upstream.
func (s *Server) serveLogged(al *AccessLog, w http.ResponseWriter, r *http.Request, h *routeHandler, host, urlPath string, start time.Time) {
	if start.IsZero() {
		start = time.Now()
	}
	rec, _ := s.recs.Get().(*recorder)
	if rec == nil {
		rec = new(recorder)
	}
	rec.ResponseWriter, rec.upstream = w, h.upstream
	rp := h.proxy
	if h.pool != nil {
		rec.trip = notingPool{pool: h.pool, upstream: &rec.upstream}
		rec.proxy = *h.proxy
		rec.proxy.Transport = &rec.trip
		rp = &rec.proxy
	}
	s.serveRoute(rec, r, h, rp, &rec.upstream, host, urlPath)
	status := rec.status
	if status == 0 {
		// Nothing went through WriteHeader: the connection was taken
		// over for a protocol switch (websocket), or the handler wrote
		// nothing at all.
		status = http.StatusSwitchingProtocols
		if r.Header.Get("Upgrade") == "" {
			status = http.StatusOK
		}
	}
	al.Log(AccessEntry{
		Time:     start,
		Project:  h.route.Project,
		Route:    h.route.PathPrefix,
		Method:   r.Method,
		Host:     host,
		Path:     r.URL.Path,
		Proto:    r.Proto,
		Status:   status,
		Bytes:    rec.bytes,
		Duration: time.Since(start),
		Upstream: rec.upstream,
	})
	*rec = recorder{}
	s.recs.Put(rec)
}

// logGone queues the access entry of a request whose client went away
// while it was held for a backend that was starting: 499, nginx's
// "client closed request".
func (s *Server) logGone(al *AccessLog, r *http.Request, host string, start time.Time) {
	a := s.active.Load()
	project, prefix := "", ""
	if i, _ := a.table.lookup(host, cleanPath(r.URL.Path)); i >= 0 {
		project, prefix = a.table.routes[i].Project, a.table.routes[i].PathPrefix
	}
	al.Log(AccessEntry{
		Time:     start,
		Project:  project,
		Route:    prefix,
		Method:   r.Method,
		Host:     host,
		Path:     r.URL.Path,
		Proto:    r.Proto,
		Status:   statusClientClosed,
		Duration: time.Since(start),
	})
}

// statusClientClosed is nginx's 499: the client closed the connection
// before it got an answer.
const statusClientClosed = 499
