package stacks

import (
	"strconv"
	"time"
)

// BackendKeepAlive is how long every backend devport generates keeps an
// idle HTTP connection open: Apache's KeepAliveTimeout (process httpd.conf
// and the container's site), uvicorn's --timeout-keep-alive and gunicorn's
// --keep-alive (which uvicorn's gunicorn worker takes as its own
// keep-alive). The servers' defaults are 5 s (Apache, uvicorn) and 2 s
// (gunicorn). gunicorn's sync workers (the wsgi stack) take the flag and
// close after each response anyway, and uWSGI's uwsgi protocol carries one
// request per connection: neither leaves an idle connection to the proxy.
//
// The proxy's idle upstream timeout (proxy.UpstreamIdleTimeout, 4 s) must
// stay below it: the proxy then always closes an idle connection before the
// backend does, and never sends a request on a connection the backend is
// closing (as net/http's Transport.IdleConnTimeout must stay below the
// server's keep-alive).
const BackendKeepAlive = 15 * time.Second

// keepAliveSeconds is BackendKeepAlive as the servers' flags take it.
func keepAliveSeconds() string { return strconv.Itoa(int(BackendKeepAlive / time.Second)) }
