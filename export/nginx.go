package export

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/devport/devport/internal/stackdef"
)

//go:embed nginx.conf.tmpl
var nginxSource string

var nginxTmpl = template.Must(template.New("nginx").Parse(nginxSource))

// maxSocketPath is the longest unix socket path: sun_path holds 108
// bytes with the NUL on Linux (104 on macOS), and nginx refuses longer.
const maxSocketPath = 107

// upstream is one rendered upstream block.
type upstream struct {
	Name, Server string
}

// mailUI is the server block of Mailpit's web UI in the compose layout.
type mailUI struct {
	Upstream string   // the upstream's name
	Server   string   // "mail:8025"
	Domains  []string // mail.DOMAIN of each domain
	Names    string   // Domains as server_name's arguments (set by renderNginx)
}

// nginxData is what nginx.conf.tmpl renders.
type nginxData struct {
	Project     string
	Domains     string
	Map         string // the websocket Connection variable
	Upstreams   []upstream
	Locations   []location
	HTTPSListen []string
	HTTPListen  []string
	Redirect    string // "https://$host$request_uri", with a port when not 443
	Cert, Key   string
	MaxBody     string
	// RedirectDomains are the port-80 server's names: Domains, and
	// Mail's.
	RedirectDomains string
	Mail            *mailUI // the compose layout's Mailpit UI, or nil
}

// Nginx writes p as an nginx configuration for the http context (a file
// for /etc/nginx/conf.d): a websocket map, one upstream per service at
// the address devport ran it on, a port-80 server that redirects to
// https, and the https server with one location per route.
func Nginx(w io.Writer, p Project, o Options) error {
	for _, s := range p.Services {
		if s.Network == "unix" && len(s.Address) > maxSocketPath {
			return fmt.Errorf("export: project %s, service %s: socket %s is longer than the %d bytes of a unix socket address: use a shorter DEVPORT_HOME or XDG_RUNTIME_DIR",
				p.Name, s.Name, s.Address, maxSocketPath)
		}
	}
	return renderNginx(w, p, o, listenPort(o.HTTPSListen), func(s Service) string {
		if s.Network == "unix" {
			return "unix:" + s.Address
		}
		return s.Address
	}, nil)
}

// renderNginx renders p with server giving each service's upstream server;
// the port-80 server redirects to httpsPort ("" or "443": no port in the
// URL). mail, when not nil, adds the server of Mailpit's UI.
func renderNginx(w io.Writer, p Project, o Options, httpsPort string, server func(Service) string, mail *mailUI) error {
	if err := p.validate(); err != nil {
		return err
	}
	locs, err := p.locations()
	if err != nil {
		return err
	}
	for i := range locs {
		locs[i].Map = "$" + ident(p.Name) + "_connection_upgrade"
		if err := locs[i].quote(); err != nil {
			return fmt.Errorf("export: project %s, location %s: %w", p.Name, locs[i].Prefix, err)
		}
	}
	domains, err := nginxArgs(p.Domains)
	if err != nil {
		return fmt.Errorf("export: project %s: domain %w", p.Name, err)
	}
	d := nginxData{
		Project:         p.Name,
		Domains:         domains,
		Map:             "$" + ident(p.Name) + "_connection_upgrade",
		Locations:       locs,
		MaxBody:         defaultMaxBody,
		RedirectDomains: domains,
	}
	cert, key := o.Cert, o.Key
	if cert == "" {
		cert = "/etc/nginx/certs/" + p.Domains[0] + ".pem"
	}
	if key == "" {
		key = "/etc/nginx/certs/" + p.Domains[0] + "-key.pem"
	}
	if d.Cert, err = nginxArg(cert); err != nil {
		return fmt.Errorf("export: certificate %w", err)
	}
	if d.Key, err = nginxArg(key); err != nil {
		return fmt.Errorf("export: key %w", err)
	}
	for _, v := range []string{o.HTTPSListen, o.HTTPListen} {
		if v != "" && !listenRe.MatchString(v) {
			return fmt.Errorf("export: listen address %q: give PORT or HOST:PORT, such as 127.0.0.1:8443", v)
		}
	}
	if httpsPort != "" && !listenRe.MatchString(httpsPort) {
		return fmt.Errorf("export: https port %q is not a port", httpsPort)
	}
	d.HTTPSListen = listens(o.HTTPSListen, "443")
	d.HTTPListen = listens(o.HTTPListen, "80")
	d.Redirect = "https://$host$request_uri"
	if httpsPort != "" && httpsPort != "443" {
		d.Redirect = "https://$host:" + httpsPort + "$request_uri"
	}
	if mail != nil {
		m := *mail
		if m.Names, err = nginxArgs(m.Domains); err != nil {
			return fmt.Errorf("export: project %s: mail domain %w", p.Name, err)
		}
		if m.Server, err = nginxArg(m.Server); err != nil {
			return fmt.Errorf("export: project %s: Mailpit's upstream %w", p.Name, err)
		}
		d.Mail, d.RedirectDomains = &m, d.Domains+" "+m.Names
	}
	for _, s := range p.Services {
		if s.Stack == stackdef.Proxy {
			continue
		}
		srv, err := nginxArg(server(s))
		if err != nil {
			return fmt.Errorf("export: project %s, service %s: upstream address %w", p.Name, s.Name, err)
		}
		d.Upstreams = append(d.Upstreams, upstream{Name: ident(p.Name, s.Name), Server: srv})
	}
	var buf bytes.Buffer
	if err = nginxTmpl.Execute(&buf, d); err != nil {
		return fmt.Errorf("export: render nginx config of %s: %w", p.Name, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// listens is the listen values for v: the default port on IPv4 and IPv6,
// or v alone when it is set.
func listens(v, port string) []string {
	if v == "" {
		return []string{port, "[::]:" + port}
	}
	return []string{v}
}

// listenPort is the port of a listen value ("" when unset).
func listenPort(v string) string {
	if i := strings.LastIndexByte(v, ':'); i >= 0 {
		return v[i+1:]
	}
	return v
}
