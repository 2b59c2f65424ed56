// Package proxy is devport's HTTPS front door: it terminates TLS (with
// HTTP/2 through ALPN) on loopback, routes each request by host and then by
// the longest path prefix to a backend over TCP or a unix socket, and
// answers with a page that says what to do next when it cannot forward.
//
// The pieces, one file each:
//
//   - table.go: [Route], [Upstream] and the immutable [Table] that maps a
//     host and a path to a route. A new table is built for every change
//     and swapped in atomically with [Server.SetRoutes], so lookups take
//     no lock and a reload drops no connection.
//   - server.go: [Server], its listeners and its lifecycle
//     ([Server.Start], [Server.Shutdown]).
//   - handler.go: the per-route [net/http/httputil.ReverseProxy] with its
//     Rewrite (X-Forwarded-*, X-Real-IP, the original Host, StripPrefix)
//     and ErrorHandler (the 502 page) hooks.
//   - transport.go: one pooled keep-alive [net/http.Transport] per
//     upstream, dialing TCP or a unix socket.
//   - upgrade.go: websocket (101 Switching Protocols) connections, tracked
//     so that Shutdown can close them.
//   - pages.go: the unknown-host (404) and bad-gateway (502) pages and
//     their data types, [UnknownHostData] and [BadGatewayData].
//   - redirect.go: the plain-HTTP listener, which 308-redirects to HTTPS.
//   - errors.go: [BindError] and [ErrStarted].
//
// The package imports only the standard library. It knows nothing about
// projects on disk, certificates or processes: the caller hands it a
// GetCertificate function, parsed page templates and route tables.
package proxy
