package proxy

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// redirect handles every request on the plain HTTP listeners: a 308 to the
// same URL over HTTPS (308 rather than 301 so that a POST stays a POST).
// Unknown hosts are redirected too; the HTTPS side shows them the page.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request) {
	host, ok := normalizeHost(r.Host)
	if !ok {
		writePage(w, s.log, http.StatusBadRequest, nil, nil, "400 Bad Request: missing or invalid Host header.\n")
		return
	}
	w.Header().Set("Location", httpsURL(host, s.HTTPSPort(), r.URL.RequestURI()))
	w.Header().Set("Cache-Control", "no-store") // ports can change between runs
	w.WriteHeader(http.StatusPermanentRedirect)
}

// httpsURL is https://host[:port]requestURI, without the port when it is
// 443 (or unknown). host is a normalised host: IPv6 literals get brackets.
func httpsURL(host string, port int, requestURI string) string {
	switch {
	case port != 0 && port != 443:
		host = net.JoinHostPort(host, strconv.Itoa(port))
	case strings.IndexByte(host, ':') >= 0:
		host = "[" + host + "]"
	}
	if requestURI == "" || requestURI[0] != '/' {
		requestURI = "/" + strings.TrimPrefix(requestURI, "*")
	}
	return "https://" + host + requestURI
}
