package proxy

import (
	"context"
	"net/http"
	"time"
)

// recorder is the ResponseWriter of a request that the access log
// follows: it keeps the status and counts the body bytes. Recorders are
// pooled; one lives only as long as its request's handler.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	slot   upstreamSlot
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
// access entry. The pool notes the instance it picked in rec.slot, which
// the request's context carries.
func (s *Server) serveLogged(al *AccessLog, w http.ResponseWriter, r *http.Request, h *routeHandler, host, p string) {
	start := time.Now()
	rec, _ := s.recs.Get().(*recorder)
	if rec == nil {
		rec = new(recorder)
	}
	*rec = recorder{ResponseWriter: w, slot: upstreamSlot{up: h.upstream}}
	if h.proxy != nil && h.upstream == "" {
		r = r.WithContext(context.WithValue(r.Context(), upstreamKey{}, &rec.slot))
	}
	s.serveRoute(rec, r, h, host, p)
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
		Project:  h.rt.Project,
		Route:    h.rt.PathPrefix,
		Method:   r.Method,
		Host:     host,
		Path:     r.URL.Path,
		Proto:    r.Proto,
		Status:   status,
		Bytes:    rec.bytes,
		Duration: time.Since(start),
		Upstream: rec.slot.up,
	})
	*rec = recorder{}
	s.recs.Put(rec)
}
