package proxy

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// Pages are the html/template pages the proxy answers with when it cannot
// forward a request. The app parses them from the assets package; a nil
// template makes the proxy answer in plain text instead.
type Pages struct {
	// UnknownHost is rendered with UnknownHostData, status 404.
	UnknownHost *template.Template
	// BadGateway is rendered with BadGatewayData, status 502.
	BadGateway *template.Template
}

// UnknownHostData is what Pages.UnknownHost is rendered with.
type UnknownHostData struct {
	// Host is the host the browser asked for, without its port.
	Host string
	// Sites is every domain the proxy serves, sorted.
	Sites []Site
}

// Site is one domain on the unknown-host page.
type Site struct {
	// Domain is e.g. "shop.test".
	Domain string
	// URL is its address through this proxy: "https://shop.test/", or
	// "https://shop.test:8443/" when the proxy is not on port 443.
	URL string
}

// BadGatewayData is what Pages.BadGateway is rendered with.
type BadGatewayData struct {
	// Host is the host the browser asked for, without its port.
	Host string
	// Project and Service name the route's backend.
	Project, Service string
	// Down reports that nothing runs for the route (stopped, crashed,
	// failed to start), rather than a running backend that failed this
	// request.
	Down bool
	// Reason is why it did not answer: the route's Down text ("stopped")
	// or what the dial said ("connection refused", "timeout", ...).
	Reason string
	// StartCommand is the command that starts it, set only when the route
	// is down (stopped, crashed, failed to start): a running backend that
	// failed a request is not fixed by starting it. May be empty.
	StartCommand string
	// LogsCommand is the command that shows the backend's logs, e.g.
	// "devport logs shop" (Route.LogsCommand); may be empty.
	LogsCommand string
}

// writePage renders tmpl with data, or text when tmpl is nil or fails, and
// sends it with status. Error pages are never cached: the next reload
// should reach the backend as soon as it is up.
func writePage(w http.ResponseWriter, log *slog.Logger, status int, tmpl *template.Template, data any, text string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if tmpl != nil {
		var buf bytes.Buffer
		err := tmpl.Execute(&buf, data)
		if err == nil {
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Length", strconv.Itoa(buf.Len()))
			w.WriteHeader(status)
			_, _ = w.Write(buf.Bytes())
			return
		}
		log.Error("render error page", "page", tmpl.Name(), "err", err)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}

// unknownHost answers a request for a host no route serves: 404 and the
// list of the sites that exist. It is never forwarded anywhere.
func (s *Server) unknownHost(w http.ResponseWriter, host string, t *Table) {
	data := UnknownHostData{Host: host, Sites: make([]Site, len(t.domains))}
	port := s.HTTPSPort()
	var text strings.Builder
	fmt.Fprintf(&text, "404 Not Found: devport does not serve %s.\n", host)
	if len(t.domains) > 0 {
		text.WriteString("\nIt serves:\n")
	}
	for i, d := range t.domains {
		data.Sites[i] = Site{Domain: d, URL: siteURL(d, port)}
		fmt.Fprintf(&text, "  %s\n", data.Sites[i].URL)
	}
	writePage(w, s.log, http.StatusNotFound, s.cfg.Pages.UnknownHost, data, text.String())
}

// noRoute answers a request for a known host whose routes do not cover
// the path (a project with only an /api service, asked for /).
func (s *Server) noRoute(w http.ResponseWriter, host, path string) {
	text := fmt.Sprintf("404 Not Found: no service of %s serves %s.\n", host, path)
	writePage(w, s.log, http.StatusNotFound, nil, nil, text)
}

// badGateway answers for a route whose backend is down or did not answer.
// Only a route that is down offers its start command; both cases point
// at the logs.
func (s *Server) badGateway(w http.ResponseWriter, host string, route *Route, reason string) {
	data := BadGatewayData{
		Host:        host,
		Project:     route.Project,
		Service:     route.Service,
		Reason:      reason,
		LogsCommand: route.logsCommand(),
	}
	if route.Kind() == KindDown {
		data.Down = true
		if route.Pending == nil { // starting already: nothing to start
			data.StartCommand = route.StartCommand
		}
	}
	text := fmt.Sprintf("502 Bad Gateway: %s: the %s service of project %s is not answering: %s.\n",
		host, route.Service, route.Project, reason)
	if data.StartCommand != "" {
		text += "Start it with: " + data.StartCommand + "\n"
	}
	if data.LogsCommand != "" {
		text += "Its logs: " + data.LogsCommand + "\n"
	}
	writePage(w, s.log, http.StatusBadGateway, s.cfg.Pages.BadGateway, data, text)
}

// gatewayTimeout answers for a route whose backend did not answer within
// the route's timeout.
func (s *Server) gatewayTimeout(w http.ResponseWriter, host string, route *Route) {
	text := fmt.Sprintf("504 Gateway Timeout: %s: the %s service of project %s did not answer in time.\n"+
		"Its timeouts are set with: devport route %s add ... --connect-timeout D --read-timeout D\n",
		host, route.Service, route.Project, route.Project)
	writePage(w, s.log, http.StatusGatewayTimeout, nil, nil, text)
}

// siteURL is the https address of domain through a proxy on port.
func siteURL(domain string, port int) string {
	if port == 0 || port == 443 {
		return "https://" + domain + "/"
	}
	return "https://" + domain + ":" + strconv.Itoa(port) + "/"
}
