package proxy

import (
	"context"
	"time"
)

// DefaultHoldTimeout is how long a request to a backend that is starting
// waits for it by default (Config.HoldTimeout): longer than any start
// devport makes, which times out its readiness probe well before.
const DefaultHoldTimeout = 60 * time.Second

// holdTimeout is Config.HoldTimeout with its default applied; 0 holds
// nothing.
func (s *Server) holdTimeout() time.Duration {
	switch d := s.cfg.HoldTimeout; {
	case d == 0:
		return DefaultHoldTimeout
	case d < 0:
		return 0
	default:
		return d
	}
}

// held reports whether a request for r waits before it is served: r is
// starting (Pending), or down with a Wake that starts it.
func (r *Route) held() bool {
	return r.Pending != nil || r.Wake != nil && r.Kind() == KindDown
}

// hold waits while the route that a request for host and urlPath matched
// in a (a.table.routes[i]) is starting (Route.Pending), or, for a route
// that is down and has Route.Wake, wakes it (once per request) and waits
// on the channel Wake returns: until the engine closes the channel, the
// request's context ends, HoldTimeout passes or the Server shuts down.
// Then it matches the request again against the table of that moment, and
// waits again, within the same HoldTimeout, if that route is starting too
// (a restart right after a start). It returns the table, the route index
// and whether the host is known, as lookup does, or a nil table when the
// client went away.
func (s *Server) hold(ctx context.Context, host, urlPath string, a *active, i int) (*active, int, bool) {
	limit := s.holdTimeout()
	if limit <= 0 {
		// Holding is off: the request is answered as the route is, and
		// a wake still starts the backend, for the next request.
		if route := &a.table.routes[i]; route.Pending == nil && route.Wake != nil {
			route.Wake()
		}
		return a, i, true
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	known := true
	woken := false
	var closed <-chan struct{} // the channel waited on last
	for {
		route := &a.table.routes[i]
		pending := route.Pending
		if pending == nil && !woken && route.Wake != nil && route.Kind() == KindDown {
			// A start failed after a wake: its route is down again, Wake
			// and all, and this request shows why instead of starting it
			// over.
			woken = true
			pending = route.Wake()
		}
		if pending == nil || pending == closed {
			// Up, failed, gone, or still the channel that was closed
			// (waiting on it again would spin).
			return a, i, known
		}
		select {
		case <-pending:
		case <-ctx.Done():
			return nil, -1, false
		case <-timer.C:
			return s.rematch(host, urlPath)
		case <-s.stopping:
			return s.rematch(host, urlPath)
		}
		closed = pending
		if a, i, known = s.rematch(host, urlPath); i < 0 {
			return a, i, known
		}
	}
}

// rematch matches a request against the table installed now.
func (s *Server) rematch(host, urlPath string) (*active, int, bool) {
	a := s.active.Load()
	i, known := a.table.lookup(host, urlPath)
	return a, i, known
}
