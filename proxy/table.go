package proxy

import (
	"cmp"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strings"
)

// Upstream is where a running backend listens.
type Upstream struct {
	// Network is "tcp" (the default when empty) or "unix".
	Network string
	// Address is "127.0.0.1:8081" for tcp or a socket path for unix.
	Address string
	// Protocol is what the backend speaks: "" or "http" for HTTP/1.1,
	// "uwsgi" for the uwsgi protocol (uWSGI's --socket, what nginx's
	// uwsgi_pass speaks; see uwsgi.go). Any other value fails every
	// request with a 502 that names it.
	Protocol string
}

// String renders the upstream the way a user would write it:
// "http://127.0.0.1:8081" or "unix:/run/x.sock" (nginx's notation), and
// "uwsgi://127.0.0.1:3031" or "uwsgi://unix:/run/x.sock" for uwsgi.
func (u Upstream) String() string {
	if p := u.protocol(); p != "" {
		switch u.Network {
		case "unix":
			return p + "://unix:" + u.Address
		case "", "tcp", "tcp4", "tcp6":
			return p + "://" + u.Address
		default:
			return p + "://" + u.Network + ":" + u.Address
		}
	}
	switch u.Network {
	case "unix":
		return "unix:" + u.Address
	case "", "tcp", "tcp4", "tcp6":
		return "http://" + u.Address
	default:
		return u.Network + ":" + u.Address
	}
}

// network is Network with its default applied.
func (u Upstream) network() string {
	if u.Network == "" {
		return "tcp"
	}
	return u.Network
}

// protocol is Protocol normalised: "" for HTTP, lower case otherwise.
func (u Upstream) protocol() string {
	p := strings.ToLower(strings.TrimSpace(u.Protocol))
	if p == "http" {
		return ""
	}
	return p
}

// Route sends the requests for some domains and a path prefix to one
// service of a project.
type Route struct {
	// Project and Service name the backend, for the 502 page and the logs.
	Project, Service string
	// Domains each match exactly and any subdomain of it: "shop.test"
	// also serves "api.shop.test", unless another route claims
	// "api.shop.test" itself (the most specific domain wins).
	Domains []string
	// PathPrefix is "/" or a prefix such as "/api". Among the routes of
	// the matched domain the longest prefix that ends on a segment
	// boundary wins: "/api" takes "/api" and "/api/x" but not "/apix".
	PathPrefix string
	// StripPrefix forwards "/api/x" as "/x" (and "/api" as "/"), for
	// backends mounted at the root that learn their prefix another way
	// (uvicorn --root-path).
	StripPrefix bool
	// Upstream is the running backend. Nil together with URL means the
	// backend is down: the request gets the 502 page naming Project,
	// Service, Down and StartCommand, and nothing is dialed.
	Upstream *Upstream
	// URL is the alternative to Upstream: an external http(s) server
	// (stack "proxy"). Requests go to it with its host as Host header and
	// its path prepended.
	URL *url.URL
	// Down says why the backend is down, e.g. "stopped".
	Down string
	// StartCommand is what starts it, e.g. "devport start shop". The 502
	// page offers it only while the route is down (Kind() == KindDown): a
	// running backend that fails a request is pointed at its logs.
	StartCommand string
	// LogsCommand is what shows the backend's logs on the 502 page, e.g.
	// "devport logs shop --service api". Empty means "devport logs
	// PROJECT" for a service route or a route that is down, and nothing
	// for a static or URL route.
	LogsCommand string

	// Pending, when not nil, says the backend is starting or restarting:
	// a request for the route waits until the channel is closed (or its
	// client leaves, or Config.HoldTimeout passes, or the Server shuts
	// down), and is then routed again against the table installed at that
	// moment. So the engine publishes the new table first (the route up,
	// or Down with the start error, which the 502 page then shows) and
	// closes the channel after. A route still Pending when its hold ends
	// gets a 502 with its Down text and how long the request waited, and
	// without StartCommand (a start is under way already).
	// HTTP/1.1, HTTP/2 and websockets are held alike.
	Pending <-chan struct{}

	// Wake, on a route that is down (Kind() == KindDown), starts its
	// backend on demand (devport's parked projects): a request for the
	// route calls it and is then held on the channel it returns exactly as
	// for Pending, within the same HoldTimeout, and routed again against
	// the table installed when the channel closes. Wake runs on the
	// request's goroutine, so it must be cheap and idempotent: the engine
	// starts the backend in the background, once, and returns the same
	// channel to every request that asks meanwhile. A nil channel holds
	// nothing (the route answers as down). A held request calls Wake once.
	// With holding off (a negative HoldTimeout) the request is answered
	// as down at once, and the start it asked for goes on.
	Wake func() <-chan struct{}

	// Upstreams are more instances of the same service (gunicorn -w or
	// several containers). Upstream, when set, is the first instance.
	// Requests go to the instance with the fewest requests in flight; an
	// instance that fails is skipped for FailTimeout (nginx's least_conn
	// and fail_timeout), and a request whose connection could not be
	// made is retried once on another instance.
	Upstreams []Upstream

	// Static, when set, is a folder the proxy serves itself (nginx's
	// "location /static { alias DIR; }"): the path after PathPrefix names
	// a file under it. Nothing outside the folder can be reached, neither
	// by ".." nor by encoded slashes nor by symlinks (os.Root).
	Static string
	// TryFiles, on a service or URL route, is a folder whose regular files
	// answer GET and HEAD before the backend does (nginx's "root DIR;
	// try_files $uri @app;"): a path that names a file under it gets the
	// file, as Static would serve it; every other request (a directory,
	// a missing file, another method) goes to the backend.
	TryFiles string
	// Confine, when set, is the folder that Static and TryFiles must stay
	// inside: the project folder. A folder whose real path is not inside
	// the real path of Confine (a symlink out of the project, such as
	// "ln -s /etc files") serves nothing: its requests get 404 (TryFiles:
	// go to the backend) and the log gets one line. The check is made on
	// every request, through os.Root, so a folder swapped for such a
	// symlink later is refused too. Files and folders whose name starts
	// with "." are never served from Static or TryFiles, Confine or not.
	Confine string
	// CacheControl is sent with every static file, e.g.
	// "public, max-age=2592000" for nginx's "expires 30d". Empty sends none
	// (browsers revalidate with the ETag).
	CacheControl string

	// Limits are the timeouts and the body limit; zero fields take the
	// defaults documented on Limits.
	Limits Limits
	// NoCompress turns off on-the-fly gzip of text responses that the
	// backend did not compress.
	NoCompress bool
}

// Kind is what serves a route.
type Kind string

// The route kinds.
const (
	KindService Kind = "service" // a backend process or container (Upstream, Upstreams)
	KindStatic  Kind = "static"  // a folder (Static)
	KindURL     Kind = "url"     // an external server (URL)
	KindDown    Kind = "down"    // a backend that is not running
)

// Kind says what serves r: a static folder first, then a URL, then
// upstream instances; a route with none of them is down.
func (r *Route) Kind() Kind {
	switch {
	case r.Static != "":
		return KindStatic
	case r.URL != nil:
		return KindURL
	case r.Upstream != nil || len(r.Upstreams) > 0:
		return KindService
	default:
		return KindDown
	}
}

// logsCommand is LogsCommand with its default applied.
func (r *Route) logsCommand() string {
	if r.LogsCommand != "" {
		return r.LogsCommand
	}
	if k := r.Kind(); r.Project != "" && (k == KindService || k == KindDown) {
		return "devport logs " + r.Project
	}
	return ""
}

// instances is every upstream instance of r, Upstream first, without
// duplicates, with the network defaulted.
func (r *Route) instances() []Upstream {
	var out []Upstream
	add := func(u Upstream) {
		u.Network = u.network()
		u.Protocol = u.protocol()
		if u.Address != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	if r.Upstream != nil {
		add(*r.Upstream)
	}
	for _, u := range r.Upstreams {
		add(u)
	}
	return out
}

// Table maps a host and a path to a Route. It is immutable once NewTable
// returns, so any number of goroutines may call Match without locking.
type Table struct {
	routes []Route
	// hosts maps a domain to the indexes of its routes in routes, longest
	// PathPrefix first.
	hosts map[string][]int
	// domains is every domain of the table, sorted, for the unknown-host page.
	domains []string
}

// NewTable builds a table from routes. It copies what it keeps, so the
// caller may reuse routes afterwards. Domains are matched case-insensitively
// and without a trailing dot; an empty PathPrefix means "/", and a trailing
// "/" on a prefix is ignored. When two routes claim the same domain and
// prefix, the first one wins.
func NewTable(routes []Route) *Table {
	t := &Table{
		routes: make([]Route, len(routes)),
		hosts:  make(map[string][]int),
	}
	for i, r := range routes {
		r.PathPrefix = cleanPrefix(r.PathPrefix)
		doms := make([]string, 0, len(r.Domains))
		for _, d := range r.Domains {
			d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
			if d == "" || slices.Contains(doms, d) {
				continue
			}
			doms = append(doms, d)
			if _, seen := t.hosts[d]; !seen {
				t.domains = append(t.domains, d)
			}
			t.hosts[d] = append(t.hosts[d], i)
		}
		r.Domains = doms
		if r.Upstream != nil {
			u := *r.Upstream
			r.Upstream = &u
		}
		if r.URL != nil {
			u := *r.URL
			r.URL = &u
		}
		r.Upstreams = slices.Clone(r.Upstreams)
		r.Limits = r.Limits.withDefaults()
		t.routes[i] = r
	}
	for _, idx := range t.hosts {
		// Stable: equal prefixes keep their input order, so the first wins.
		slices.SortStableFunc(idx, func(a, b int) int {
			return cmp.Compare(len(t.routes[b].PathPrefix), len(t.routes[a].PathPrefix))
		})
	}
	slices.Sort(t.domains)
	return t
}

// cleanPrefix normalises a path prefix: "" and "/" give "/", "api/" gives
// "/api".
func cleanPrefix(p string) string {
	if p == "" || p == "/" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	if p = strings.TrimRight(p, "/"); p == "" {
		return "/"
	}
	return p
}

// Match returns the route for a request to host and path. The host may
// carry a port and is matched case-insensitively: first the exact domain,
// then its closest parent domain that has routes. Within that domain the
// longest prefix on a segment boundary wins. The route belongs to the
// table and must not be modified.
func (t *Table) Match(host, path string) (*Route, bool) {
	h, ok := normalizeHost(host)
	if !ok {
		return nil, false
	}
	i, _ := t.lookup(h, path)
	if i < 0 {
		return nil, false
	}
	return &t.routes[i], true
}

// lookup finds the route index for a normalised host and a path. It
// returns -1 when nothing matches, and known reports whether the host
// matched a domain (so that the caller can tell "unknown host" from "no
// route for this path").
func (t *Table) lookup(host, path string) (i int, known bool) {
	idx, ok := t.hosts[host]
	for h := host; !ok; {
		dot := strings.IndexByte(h, '.')
		if dot < 0 {
			return -1, false
		}
		h = h[dot+1:]
		idx, ok = t.hosts[h]
	}
	if path == "" {
		path = "/"
	}
	for _, i := range idx {
		if hasPathPrefix(path, t.routes[i].PathPrefix) {
			return i, true
		}
	}
	return -1, true
}

// hasPathPrefix reports whether prefix covers p on a segment boundary.
func hasPathPrefix(p, prefix string) bool {
	if prefix == "/" {
		return true
	}
	if !strings.HasPrefix(p, prefix) {
		return false
	}
	return len(p) == len(prefix) || p[len(prefix)] == '/'
}

// normalizeHost turns a Host header ("Shop.Test.:8443", "[::1]:443") into
// the name routes are keyed by ("shop.test", "::1"). It reports false for
// an empty or malformed host.
func normalizeHost(host string) (string, bool) {
	if host == "" {
		return "", false
	}
	if host[0] == '[' { // IPv6 literal, maybe with a port
		end := strings.IndexByte(host, ']')
		if end < 0 || !validPort(host[end+1:]) {
			return "", false
		}
		h := host[1:end]
		if a, err := netip.ParseAddr(h); err != nil || !a.Is6() {
			return "", false
		}
		return strings.ToLower(h), true
	}
	if colon := strings.IndexByte(host, ':'); colon >= 0 {
		if !validPort(host[colon:]) {
			return "", false
		}
		host = host[:colon]
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" || host[0] == '.' || host[len(host)-1] == '.' || strings.Contains(host, "..") {
		return "", false // an empty label: ".", "..", ".shop.test", "shop..test"
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || 'A' <= c && c <= 'Z') {
			return "", false
		}
	}
	return strings.ToLower(host), true // no allocation when already lowercase
}

// validPort reports whether s is "" or ":" followed by at most five digits.
func validPort(s string) bool {
	if s == "" {
		return true
	}
	if s[0] != ':' || len(s) > 6 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cleanPath resolves "." and ".." segments and doubled slashes the way
// nginx does before it matches a location, so "/api/../admin" is routed as
// "/admin". It returns p unchanged (no allocation) when there is nothing
// to clean.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.Contains(p, "/.") && !strings.Contains(p, "//") {
		return p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}
