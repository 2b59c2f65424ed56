package proxy

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Limits bound what one request to a route may cost. A zero field takes
// its default; a negative one turns the limit off.
//
// The defaults are generous on purpose: this is a development proxy, and
// a request paused in a debugger, a slow report or a large upload must
// not be cut off the way nginx's 60 s proxy_read_timeout and 1 MiB
// client_max_body_size so often surprise people.
type Limits struct {
	// Connect bounds dialing an upstream instance (nginx's
	// proxy_connect_timeout). Default 10 s. A local backend that does not
	// accept within it hangs; the request then goes to another instance,
	// or gets 504.
	Connect time.Duration
	// Read bounds the wait for the response headers once the request has
	// been sent (nginx's proxy_read_timeout, applied to the first byte).
	// Default: none. When it passes the client gets 504.
	Read time.Duration
	// Write bounds each write of the request to the upstream (nginx's
	// proxy_send_timeout). Default: none.
	Write time.Duration
	// MaxBody is the largest request body accepted, in bytes (nginx's
	// client_max_body_size). Larger bodies get 413. Default 1 GiB.
	MaxBody int64
	// FailTimeout is how long an instance that failed is skipped (nginx's
	// fail_timeout). Default 10 s.
	FailTimeout time.Duration
}

// Default limits.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxBody        = 1 << 30
	DefaultFailTimeout    = 10 * time.Second
)

// withDefaults fills the zero fields; negative fields (off) become 0.
func (l Limits) withDefaults() Limits {
	pick := func(v, def time.Duration) time.Duration {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	l.Connect = pick(l.Connect, DefaultConnectTimeout)
	l.Read = pick(l.Read, 0)
	l.Write = pick(l.Write, 0)
	l.FailTimeout = pick(l.FailTimeout, DefaultFailTimeout)
	switch {
	case l.MaxBody == 0:
		l.MaxBody = DefaultMaxBody
	case l.MaxBody < 0:
		l.MaxBody = 0
	}
	return l
}

// transportLimits is the part of Limits that a transport is built with.
type transportLimits struct {
	connect, read, write time.Duration
}

func (l Limits) transport() transportLimits {
	return transportLimits{connect: l.Connect, read: l.Read, write: l.Write}
}

// tooLarge reports whether err says the request body passed MaxBody.
func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// limitBody answers 413 when the declared body is larger than max, and
// otherwise caps the body so that a chunked body that grows past max
// fails the round trip (proxyError then answers 413). It reports whether
// the request may go on.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request, max int64) bool {
	if max <= 0 || r.Body == nil || r.Body == http.NoBody {
		return true
	}
	if r.ContentLength > max {
		writePage(w, s.log, http.StatusRequestEntityTooLarge, nil, nil,
			"413 Content Too Large: the request body is "+strconv.FormatInt(r.ContentLength, 10)+
				" bytes; this route accepts at most "+strconv.FormatInt(max, 10)+
				" (devport route ... --max-body).\n")
		return false
	}
	if r.ContentLength < 0 { // chunked or HTTP/2 without a length
		r.Body = http.MaxBytesReader(w, r.Body, max)
	}
	return true
}
