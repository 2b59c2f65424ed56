package stacks

import (
	"strconv"
	"time"
)

// BackendKeepAlive is how long the Python backends devport generates keep
// an idle HTTP connection open: uvicorn's --timeout-keep-alive and
// gunicorn's --keep-alive (which uvicorn's gunicorn worker takes as its
// own keep-alive). Their defaults are 5 s (uvicorn) and 2 s (gunicorn).
// gunicorn's sync workers (the wsgi stack) take the flag and close after
// each response anyway, and uWSGI's uwsgi protocol carries one request per
// connection: neither leaves an idle connection to the proxy. Apache keeps
// none (ApacheKeepAlive).
//
// The proxy's idle upstream timeout (proxy.UpstreamIdleTimeout, 4 s) must
// stay below it: the proxy then always closes an idle connection before the
// backend does, and never sends a request on a connection the backend is
// closing (as net/http's Transport.IdleConnTimeout must stay below the
// server's keep-alive).
const BackendKeepAlive = 15 * time.Second

// ApacheKeepAlive is Apache's KeepAlive, in both runtimes: off. A prefork
// worker (mod_php needs prefork) is held by its connection while it is
// open, so every idle keep-alive connection in the proxy's pool takes a
// worker away from a burst's other requests: measured through the engine
// (e2e TestSoakAfterPause), 40 parallel requests to a PHP site took 8 to
// 10 s with KeepAliveTimeout 15 and the proxy's 4 s idle timeout, and a
// quarter of a second with keep-alive off. Apache closing after each
// response also means the proxy never reuses a connection Apache closed.
const ApacheKeepAlive = "Off"

// keepAliveSeconds is BackendKeepAlive as the servers' flags take it.
func keepAliveSeconds() string { return strconv.Itoa(int(BackendKeepAlive / time.Second)) }
