package export

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// Upstream kinds of a Service.
const (
	ProtocolHTTP  = ""      // HTTP/1.1 (proxy_pass)
	ProtocolUWSGI = "uwsgi" // the uwsgi protocol (uwsgi_pass)
)

// Route kinds.
const (
	KindService = "service" // Target is a service name
	KindStatic  = "static"  // Target is a folder served by nginx (alias)
	KindURL     = "url"     // Target is an http(s) URL
)

// Project is what is exported: a name, its domains and what serves them.
type Project struct {
	Name    string   // devport's project name; names the upstreams
	Root    string   // the project folder (absolute); compose paths are relative to it
	Domains []string // the primary one first
	// Services are the backends, each routed at its own Prefix unless a
	// Route has the same prefix.
	Services []Service
	// Routes are the declared routes (devport route), which replace a
	// service's own route at the same prefix.
	Routes []Route
	// Data are the data services (databases, Redis, Mailpit), which the
	// compose layout runs next to the services; the nginx export has no
	// use for them.
	Data []DataService
}

// Service is one backend of a project.
type Service struct {
	Name  string // "web", "api"
	Stack string // "php", "uvicorn", "gunicorn", "wsgi", "uwsgi", "proxy"
	App   string // the Python stacks' "module:attr"
	// DocRoot is php's document root (absolute); "" or Root means the folder.
	DocRoot string
	// Prefix is where the service is routed ("/" or "/api").
	Prefix string
	// Strip removes the prefix before forwarding, exactly when devport
	// does (the ASGI stacks with a prefix other than "/").
	Strip bool
	// Network and Address locate the running backend on this host: "unix"
	// and a socket path, or "tcp" and "127.0.0.1:8081". The nginx export
	// points its upstream there.
	Network, Address string
	// Protocol is ProtocolHTTP or ProtocolUWSGI.
	Protocol string
	// URL is the upstream of stack "proxy".
	URL string
	// Workers is gunicorn's and uWSGI's worker count; 0 means 2.
	Workers int
	// Public is a folder whose files nginx serves ahead of the service at
	// "/" ("root DIR; try_files $uri @SERVICE;"), as devport's proxy does
	// with a Python app's public/ folder; "" for none.
	Public string
	// Requirements is the pip requirements file, relative to Root; ""
	// installs only the server the stack needs.
	Requirements string
	// Image is the service's container image in the compose layout, as
	// devport's container runtime would pick it (the service's image, else
	// the container.image.STACK setting); "" means the stack's default
	// (stackdef.DefaultPHPImage, stackdef.DefaultPythonImage).
	Image string
	// Env is the variables (KEY=value) the service's container gets in
	// the compose layout on top of its own: the connection to the data
	// services (DB_HOST=db, DB_PORT=3306, REDIS_URL=redis://cache:6379),
	// as devport gives them to a container on the project's network.
	Env []string
	// PHPIni is a php service's conf.d entry in the compose layout: the
	// project's php.ini directives as devport's runtimes write them
	// (stacks.ExportPHPIni). The layout writes it next to
	// docker-compose.yml (ComposePHPIniFile) and PHP reads it after the
	// image's own entries; nil for none. Each line is checked again
	// (checkPHPIni) before it is written.
	PHPIni []byte
	// Sendmail is a php service's sendmail_path in the compose layout's
	// Apache site, which delivers mail() to the project's Mailpit
	// (stacks.PHPSendmail); "" keeps PHP's own.
	Sendmail string
	// Links are the prefixes a php service's Apache forwards to sibling
	// services (the chain nginx → Apache → uvicorn): a route sends the
	// prefix to this service, and the compose layout's Apache site passes
	// it on to the target over the compose network.
	Links []Link
}

// Link is one prefix a php service's Apache forwards to another service of
// the project, with the prefix removed (the target keeps it as its
// root_path, as devport runs it).
type Link struct {
	Prefix  string // "/py"
	Service string // the target service's name
}

// Route is a declared route of the project.
type Route struct {
	Prefix       string // "/" or "/static"
	Kind         string // KindService, KindStatic or KindURL
	Target       string // service name, absolute folder or URL
	Strip        bool   // service and url routes: remove the prefix
	CacheControl string // static routes: "public, max-age=2592000"
	// ConnectTimeout, ReadTimeout and WriteTimeout bound the upstream; 0
	// keeps nginx's default.
	ConnectTimeout, ReadTimeout, WriteTimeout time.Duration
	// MaxBody is the largest request body in bytes; 0 means devport's
	// default (1g), -1 no limit.
	MaxBody int64
}

// Options are the deployment's parameters.
type Options struct {
	// HTTPSListen and HTTPListen are nginx's listen values: "443" and "80"
	// by default, or an address such as "127.0.0.1:8443".
	HTTPSListen, HTTPListen string
	// Cert and Key are the certificate and key paths; by default
	// /etc/nginx/certs/DOMAIN.pem and /etc/nginx/certs/DOMAIN-key.pem for
	// the primary domain.
	Cert, Key string

	// The compose layout only:

	// HTTPSPublish and HTTPPublish are the host addresses ("HOST:PORT")
	// docker publishes nginx's ports 443 and 80 on: "127.0.0.1:443" and
	// "127.0.0.1:80" by default, loopback only like devport's own proxy.
	HTTPSPublish, HTTPPublish string
	// NginxImage is the nginx container's image; DefaultNginxImage when "".
	NginxImage string
	// ComposeFile is where docker-compose.yml is written (an absolute
	// path, any base name); the layout's other files go next to it, and
	// the paths it mounts are relative to its folder. "" means
	// docker-compose.yml in the project folder.
	ComposeFile string
}

// defaultMaxBody is devport's proxy default, which nginx must repeat (its
// own default is 1m).
const defaultMaxBody = "1g"

// location is one rendered nginx location.
type location struct {
	Prefix               string // "/api"
	Kind                 string // KindService, KindStatic, KindURL
	Upstream             string // upstream name (service) or URL (url routes)
	UWSGI                bool
	Strip                bool
	Alias                string // static folder
	Expires              string // "2592000s"
	Cache                string // Cache-Control directives other than max-age
	MaxBody              string
	Connect, Read, Write string
	Service              *Service
	Map                  string // the websocket Connection variable
	// Root and Named: files under Root answer first (try_files $uri), the
	// rest goes to the named location Named ("@shop_web").
	Root, Named string

	// Set by quote, for the template: nginx arguments, quoted as needed.
	LocSlash, LocExact string // the location's Slash and Prefix
	Pass               string // proxy_pass of a url location
}

// quote fills the location's nginx arguments and quotes its folders and
// Cache-Control value in place: each stays one argument, whatever it holds.
func (l *location) quote() error {
	var err error
	if l.LocSlash, err = nginxArg(l.Slash()); err != nil {
		return fmt.Errorf("prefix %w", err)
	}
	if l.LocExact, err = nginxArg(l.Prefix); err != nil {
		return fmt.Errorf("prefix %w", err)
	}
	if l.Kind == KindURL {
		pass := l.Upstream
		if l.Strip {
			pass += "/"
		}
		if l.Pass, err = nginxArg(pass); err != nil {
			return fmt.Errorf("url %w", err)
		}
	}
	if l.Alias != "" {
		if l.Alias, err = nginxArg(l.Alias); err != nil {
			return fmt.Errorf("static folder %w", err)
		}
	}
	if l.Root != "" {
		if l.Root, err = nginxArg(l.Root); err != nil {
			return fmt.Errorf("public folder %w", err)
		}
	}
	if l.Cache != "" {
		if l.Cache, err = nginxQuoted(l.Cache); err != nil {
			return fmt.Errorf("Cache-Control %w", err)
		}
	}
	return nil
}

// Slash is the location's prefix with a trailing slash ("/api/", "/").
func (l location) Slash() string {
	if l.Prefix == "/" {
		return "/"
	}
	return l.Prefix + "/"
}

var nameRe = regexp.MustCompile(`[^A-Za-z0-9_]`)

// ident turns a devport name into an nginx/compose identifier.
func ident(parts ...string) string {
	return nameRe.ReplaceAllString(strings.Join(parts, "_"), "_")
}

// validate checks what the templates rely on.
func (p Project) validate() error {
	if p.Name == "" {
		return fmt.Errorf("export: project name is empty")
	}
	if !devportNameRe.MatchString(p.Name) {
		return fmt.Errorf("export: project name %q is not a devport name (lowercase letters, digits and hyphens)", p.Name)
	}
	if len(p.Domains) == 0 {
		return fmt.Errorf("export: project %s has no domain", p.Name)
	}
	for _, d := range p.Domains {
		if !domainRe.MatchString(d) || len(d) > 253 {
			return fmt.Errorf("export: project %s: domain %q is not a lowercase DNS name", p.Name, d)
		}
	}
	for _, s := range p.Services {
		if !devportNameRe.MatchString(s.Name) {
			return fmt.Errorf("export: project %s: service name %q is not a devport name (lowercase letters, digits and hyphens)", p.Name, s.Name)
		}
	}
	byName := make(map[string]Service, len(p.Services))
	for _, s := range p.Services {
		byName[s.Name] = s
	}
	for _, s := range p.Services {
		if s.Stack != stackdef.Proxy && s.Address == "" {
			return fmt.Errorf("export: project %s, service %s: no upstream address", p.Name, s.Name)
		}
		if len(s.Links) > 0 && s.Stack != stackdef.PHP {
			return fmt.Errorf("export: project %s, service %s: only a php service's Apache forwards links; its stack is %s", p.Name, s.Name, s.Stack)
		}
		for _, l := range s.Links {
			t, ok := byName[l.Service]
			switch {
			case !linkPrefixRe.MatchString(l.Prefix) || clean(l.Prefix) == "/":
				return fmt.Errorf("export: project %s, service %s: link prefix %q must be a path such as /py", p.Name, s.Name, l.Prefix)
			case !ok:
				return fmt.Errorf("export: project %s, service %s: link %s goes to service %q, which the project lacks", p.Name, s.Name, l.Prefix, l.Service)
			case t.Name == s.Name || t.Stack == stackdef.Proxy || t.Stack == stackdef.PHP || t.Stack == stackdef.UWSGI || t.Protocol == ProtocolUWSGI:
				return fmt.Errorf("export: project %s, service %s: link %s goes to service %s (%s), but Apache forwards only to an HTTP Python service (uvicorn, gunicorn or wsgi)",
					p.Name, s.Name, l.Prefix, t.Name, t.Stack)
			}
		}
	}
	return nil
}

// linkPrefixRe is a link prefix Apache's config can carry in quotes.
var linkPrefixRe = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+/?$`)

// locations resolves services and routes into one location per prefix,
// longest prefix first, as nginx's longest-prefix match picks them.
func (p Project) locations() ([]location, error) {
	byName := make(map[string]*Service, len(p.Services))
	for i := range p.Services {
		byName[p.Services[i].Name] = &p.Services[i]
	}
	taken := make(map[string]bool)
	for _, r := range p.Routes {
		taken[clean(r.Prefix)] = true
	}
	var out []location
	for i := range p.Services {
		s := &p.Services[i]
		if taken[clean(s.Prefix)] {
			continue
		}
		out = append(out, serviceLocation(p, s, clean(s.Prefix), s.Strip))
	}
	for _, r := range p.Routes {
		prefix := clean(r.Prefix)
		var l location
		switch r.Kind {
		case KindService:
			s, ok := byName[r.Target]
			if !ok {
				return nil, fmt.Errorf("export: project %s, route %s: no service %q", p.Name, prefix, r.Target)
			}
			l = serviceLocation(p, s, prefix, r.Strip && prefix != "/")
		case KindStatic:
			l = location{Prefix: prefix, Kind: KindStatic, Alias: strings.TrimSuffix(r.Target, "/") + "/"}
			l.Expires, l.Cache = cacheControl(r.CacheControl)
		case KindURL:
			l = location{Prefix: prefix, Kind: KindURL, Upstream: strings.TrimSuffix(r.Target, "/"), Strip: r.Strip && prefix != "/"}
		default:
			return nil, fmt.Errorf("export: project %s, route %s: unknown kind %q", p.Name, prefix, r.Kind)
		}
		l.MaxBody = maxBody(r.MaxBody)
		l.Connect, l.Read, l.Write = seconds(r.ConnectTimeout), seconds(r.ReadTimeout), seconds(r.WriteTimeout)
		out = append(out, l)
	}
	slices.SortStableFunc(out, func(a, b location) int {
		if len(a.Prefix) != len(b.Prefix) {
			return len(b.Prefix) - len(a.Prefix)
		}
		return strings.Compare(a.Prefix, b.Prefix)
	})
	return out, nil
}

func serviceLocation(p Project, s *Service, prefix string, strip bool) location {
	l := location{Prefix: prefix, Kind: KindService, Upstream: ident(p.Name, s.Name), Strip: strip,
		UWSGI: s.Protocol == ProtocolUWSGI, Service: s}
	if s.Stack == stackdef.Proxy {
		l.Kind, l.Upstream = KindURL, strings.TrimSuffix(s.URL, "/")
	}
	if s.Public != "" && prefix == "/" {
		l.Root, l.Named = strings.TrimSuffix(s.Public, "/"), "@"+ident(p.Name, s.Name)
	}
	return l
}

func clean(prefix string) string {
	if prefix == "" || prefix == "/" {
		return "/"
	}
	return path.Clean("/" + strings.TrimSuffix(prefix, "/"))
}

var maxAgeRe = regexp.MustCompile(`(?i)(?:^|,)\s*max-age\s*=\s*(\d+)\s*`)

// cacheControl splits a Cache-Control value into nginx's expires (from
// max-age) and the other directives, sent with add_header.
func cacheControl(v string) (expires, rest string) {
	if m := maxAgeRe.FindStringSubmatch(v); m != nil {
		expires = m[1] + "s"
		v = maxAgeRe.ReplaceAllString(v, ",")
	}
	var parts []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			parts = append(parts, f)
		}
	}
	return expires, strings.Join(parts, ", ")
}

// maxBody is client_max_body_size for a route limit ("" keeps the server's).
func maxBody(n int64) string {
	switch {
	case n < 0:
		return "0"
	case n == 0:
		return ""
	default:
		return fmt.Sprint(n)
	}
}

// seconds renders a timeout in nginx's syntax ("" when unset).
func seconds(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}
