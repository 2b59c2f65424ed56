// Package proxy is devport's HTTPS front door: it terminates TLS (with
// HTTP/2 through ALPN) on loopback, routes each request by host and then by
// the longest path prefix to a backend over TCP or a unix socket, and
// answers with a page that says what to do next when it cannot forward.
//
// The pieces, one file each:
//
//   - table.go: [Route] (service, static folder or external URL; see
//     [Route.Kind]), [Upstream] and the immutable [Table] that maps a host
//     and a path to a route. A new table is built for every change and
//     swapped in atomically with [Server.SetRoutes], so lookups take no
//     lock and a reload drops no connection.
//   - server.go: [Server], its listeners and its lifecycle
//     ([Server.Start], [Server.Shutdown]); hold.go: requests to a backend
//     that is starting ([Route.Pending]) wait for the next table.
//   - handler.go: one handler per route, built when a table is installed:
//     the per-route [net/http/httputil.ReverseProxy] with its Rewrite
//     (X-Forwarded-*, Forwarded, Via, X-Real-IP, the original Host,
//     StripPrefix) and ErrorHandler (502, 504, 413) hooks.
//   - pool.go: the instances of a service: least connections, passive
//     health (an instance that fails is skipped for [Limits.FailTimeout]),
//     one retry on another instance when the connection could not be made.
//     Each route handler holds its pool; websockets over HTTP/2 dial
//     through it, with the same choice, counting and health.
//   - transport.go: one pooled keep-alive [net/http.Transport] per
//     upstream instance, dialing TCP or a unix socket, with the route's
//     [Limits]; h1client.go: the hot path in front of it, a synchronous
//     HTTP/1.1 client for GET and HEAD.
//   - uwsgi.go: the uwsgi protocol, spoken instead of HTTP to an
//     upstream whose [Upstream.Protocol] is "uwsgi" (uWSGI's --socket, as
//     nginx's uwsgi_pass does): the request as a packet of CGI-style vars
//     (nginx's uwsgi_params, SCRIPT_NAME for a stripped prefix, HTTPS,
//     REMOTE_ADDR and every header as HTTP_*) and its streamed body, the
//     response read as HTTP, one connection per request. Vars over the
//     protocol's 64 KiB get 431 ([UwsgiVarsTooLargeError]).
//   - limits.go: [Limits], the per-route timeouts and body limit.
//   - static.go: static folders served through [os.Root], with ETag,
//     Range, precompressed .br/.gz siblings and Cache-Control.
//   - compress.go: gzip of text responses the backend did not compress.
//   - accesslog.go, record.go: the [AccessLog], one JSON line per request,
//     written by a goroutine of its own, per project, with rotation.
//   - upgrade.go: websocket (101 Switching Protocols) connections, tracked
//     so that Shutdown can close them; h2ws.go: websockets over HTTP/2
//     (RFC 8441), bridged to an HTTP/1.1 Upgrade to the backend.
//   - pages.go: the unknown-host (404), bad-gateway (502) and gateway
//     timeout (504) pages and their data types, [UnknownHostData] and
//     [BadGatewayData].
//   - redirect.go: the plain-HTTP listener, which 308-redirects to HTTPS.
//   - errors.go: [BindError] and [ErrStarted].
//
// TLS session resumption uses crypto/tls session tickets, whose keys the
// package rotates itself; see docs/performance.md for what the hot path
// costs and why.
//
// The package imports only the standard library. It knows nothing about
// projects on disk, certificates or processes: the caller hands it a
// GetCertificate function, parsed page templates and route tables.
package proxy
