package proxy

import (
	"sync/atomic"
	"time"
)

// activity is one project's traffic: when its last request began or
// ended, and how many it is serving now. A websocket counts as in flight
// for as long as it is open (ReverseProxy's copy loop, and the HTTP/2
// pump, run inside the request). The engine reads it (Server.Activity) to
// stop the parked projects nobody uses.
type activity struct {
	last     atomic.Int64 // unix nanoseconds; 0: never
	inFlight atomic.Int64
}

// begin counts a request in; end counts it out. Neither allocates: they
// run on every routed request.
func (a *activity) begin() {
	a.inFlight.Add(1)
	a.last.Store(time.Now().UnixNano())
}

func (a *activity) end() {
	a.last.Store(time.Now().UnixNano())
	a.inFlight.Add(-1)
}

// Activity says when project last had a request (its start or its end,
// whichever came later; the zero Time when it never had one) and how many
// requests, websockets included, it is serving now. It survives every
// SetRoutes and costs one map lookup.
func (s *Server) Activity(project string) (last time.Time, inFlight int) {
	a := (*s.acts.Load())[project]
	if a == nil {
		return time.Time{}, 0
	}
	if n := a.last.Load(); n != 0 {
		last = time.Unix(0, n)
	}
	return last, int(a.inFlight.Load())
}

// activities returns the activity of every project of t, keeping the ones
// the previous table had, and installs the map Activity reads. Projects
// no longer in t are forgotten. The caller holds routesMu (or is New).
func (s *Server) activities(t *Table) map[string]*activity {
	var old map[string]*activity
	if p := s.acts.Load(); p != nil {
		old = *p
	}
	acts := make(map[string]*activity, len(old))
	for i := range t.routes {
		name := t.routes[i].Project
		if acts[name] != nil {
			continue
		}
		a := old[name]
		if a == nil {
			a = new(activity)
		}
		acts[name] = a
	}
	s.acts.Store(&acts)
	return acts
}
