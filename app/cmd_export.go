package app

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devport/devport/certs"
	"github.com/devport/devport/export"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/store"
)

// exportCmd writes a project's production layout: devport export NAME
// --format nginx|compose [-o FILE].
func (c *CLI) exportCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	format := fs.String("format", "", "nginx (a server block for conf.d) or compose (docker-compose.yml, nginx.conf, Apache sites and certs/)")
	out := fs.String("o", "", "write to this file instead of standard output (compose: required; the other files go next to it)")
	httpsListen := fs.String("https-listen", "", `nginx's https listen value (default "443" and "[::]:443")`)
	httpListen := fs.String("http-listen", "", `nginx's http listen value (default "80" and "[::]:80")`)
	cert := fs.String("cert", "", "certificate path in nginx (default /etc/nginx/certs/DOMAIN.pem)")
	key := fs.String("key", "", "key path in nginx (default /etc/nginx/certs/DOMAIN-key.pem)")
	httpsPublish := fs.String("publish-https", "", "compose: host address nginx's 443 is published on, HOST:PORT or PORT (default 127.0.0.1:443)")
	httpPublish := fs.String("publish-http", "", "compose: host address nginx's 80 is published on, HOST:PORT or PORT (default 127.0.0.1:80)")
	nginxImage := fs.String("nginx-image", "", "compose: the nginx container's image (default "+export.DefaultNginxImage+")")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("export", pos)
	if err != nil {
		return err
	}
	if *format != "nginx" && *format != "compose" {
		return fmt.Errorf("%w: devport export %s: --format is %q; use --format nginx or --format compose", ErrUsage, name, *format)
	}
	if *format == "compose" && *out == "" {
		return fmt.Errorf("%w: devport export %s --format compose writes several files: give -o DIR/docker-compose.yml (nginx.conf and the rest go next to it)", ErrUsage, name)
	}
	if *format == "nginx" && (*httpsPublish != "" || *httpPublish != "" || *nginxImage != "") {
		return fmt.Errorf("%w: devport export %s: --publish-https, --publish-http and --nginx-image belong to --format compose", ErrUsage, name)
	}
	p, warnings, m, err := c.exportProject(ctx, name)
	if err != nil {
		return err
	}
	defer m.Close()
	if *format == "nginx" { // compose reaches the services by name: no host ports involved
		for _, w := range warnings {
			fmt.Fprintln(c.Stderr, "warning:", w)
		}
	}
	o := export.Options{HTTPSListen: *httpsListen, HTTPListen: *httpListen, Cert: *cert, Key: *key,
		HTTPSPublish: *httpsPublish, HTTPPublish: *httpPublish, NginxImage: *nginxImage}
	if *format == "compose" {
		return c.writeCompose(m, p, o, *out)
	}
	var main bytes.Buffer
	if err := export.Nginx(&main, p, o); err != nil {
		return err
	}
	if *out == "" {
		_, err = c.Stdout.Write(main.Bytes())
		return err
	}
	if err := os.WriteFile(*out, main.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the export of %s: %w", name, err)
	}
	fmt.Fprintf(c.Stdout, "wrote %s\n", *out)
	return nil
}

// writeCompose writes p's compose layout: out (docker-compose.yml), the
// files it mounts next to it, and, unless the key and certificate are
// given with --key/--cert, the project's certificate in certs/.
func (c *CLI) writeCompose(m *Manager, p export.Project, o export.Options, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("-o %s: %w", out, err)
	}
	o.ComposeFile = abs
	files, err := export.ComposeLayout(p, o)
	if err != nil {
		return err
	}
	dir := filepath.Dir(abs)
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return fmt.Errorf("write the compose layout of %s: %w (choose another -o folder)", p.Name, err)
		}
		fmt.Fprintf(c.Stdout, "wrote %s\n", path)
	}
	if o.Cert != "" || o.Key != "" {
		fmt.Fprintf(c.Stdout, "wrote no certificate: nginx reads --cert %q and --key %q in its container, where %s is mounted at /etc/nginx/certs\n",
			o.Cert, o.Key, filepath.Join(dir, export.ComposeCertDir))
		return nil
	}
	msg, err := writeComposeCerts(m.ca, filepath.Join(dir, export.ComposeCertDir), p.Domains)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, msg)
	return nil
}

// composeCertNames are the names of the compose layout's certificate:
// every domain of the project and its wildcard, as devport's own proxy
// serves them (certNames).
func composeCertNames(domains []string) []string {
	var names []string
	for _, d := range domains {
		for _, n := range []string{d, "*." + d} {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}

// writeComposeCerts writes a leaf certificate for domains, signed by
// devport's CA, into dir as the compose layout's nginx reads it:
// DOMAIN.pem (the certificate) and DOMAIN-key.pem (mode 0600), DOMAIN
// being the primary domain. A certificate already there that devport's CA
// did not sign (a production one) is kept; devport's own is renewed. It
// returns what it did, for the user.
func writeComposeCerts(ca *certs.Authority, dir string, domains []string) (string, error) {
	if len(domains) == 0 {
		return "", fmt.Errorf("export: the project has no domain to issue a certificate for: devport add it again with --domain")
	}
	certPath := filepath.Join(dir, domains[0]+".pem")
	keyPath := filepath.Join(dir, domains[0]+"-key.pem")
	if b, err := os.ReadFile(certPath); err == nil {
		if !signedBy(b, ca.Root()) {
			return fmt.Sprintf("kept %s and %s: that certificate is not devport's (delete both for a new one from devport's CA)", certPath, keyPath), nil
		}
	}
	leaf, err := ca.Issue(composeCertNames(domains))
	if err != nil {
		return "", fmt.Errorf("export: issue the certificate of %s: %w", strings.Join(domains, ", "), err)
	}
	var chain bytes.Buffer
	for _, der := range leaf.Certificate {
		if err := pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
			return "", fmt.Errorf("export: encode the certificate: %w", err)
		}
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		return "", fmt.Errorf("export: encode the certificate's key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("export: create %s for the certificate: %w", dir, err)
	}
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", err
	}
	if err := writeFileAtomic(certPath, chain.Bytes(), 0o644); err != nil {
		return "", err
	}
	return fmt.Sprintf("wrote %s and %s (key 0600): a certificate for %s from devport's CA, valid until %s; browsers trust it where devport trust ran. "+
		"In production, replace both with your own certificate and key.",
		certPath, keyPath, strings.Join(composeCertNames(domains), " "), leaf.Leaf.NotAfter.Format("2006-01-02")), nil
}

// signedBy reports whether the first certificate of PEM data pemData was
// issued by root.
func signedBy(pemData []byte, root *x509.Certificate) bool {
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "CERTIFICATE" {
		return false
	}
	c, err := x509.ParseCertificate(block.Bytes)
	return err == nil && c.CheckSignatureFrom(root) == nil
}

// writeFileAtomic replaces path with data, with mode from the start (a
// key is never readable by others, even for a moment).
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	return nil
}

// exportProject reads project name from the store and turns it into
// export's description: the upstreams the running engine uses, or, when
// the project is not running, the sockets devport would start it on, and
// the container images devport's container runtime would use. The caller
// closes the returned Manager.
func (c *CLI) exportProject(ctx context.Context, name string) (export.Project, []string, *Manager, error) {
	live := map[string]string{} // service → upstream, while running
	cl, err := c.engine(ctx)
	if err != nil {
		return export.Project{}, nil, nil, err
	}
	if cl != nil {
		sts, err := cl.List(ctx)
		if err != nil {
			return export.Project{}, nil, nil, err
		}
		for _, st := range sts {
			if st.Name == name {
				for _, s := range st.Services {
					if s.Upstream != "" {
						live[s.Name] = s.Upstream
					}
				}
			}
		}
	}
	m, err := c.manager(ctx)
	if err != nil {
		return export.Project{}, nil, nil, err
	}
	p, warnings, err := m.exportProject(ctx, name, live)
	if err != nil {
		m.Close()
		return export.Project{}, nil, nil, err
	}
	return p, warnings, m, nil
}

// exportProject is exportOf for the stored project name, with the images
// devport's container runtime would run its services in.
func (m *Manager) exportProject(ctx context.Context, name string, live map[string]string) (export.Project, []string, error) {
	sp, declared, err := m.projectRoutes(ctx, name)
	if err != nil {
		return export.Project{}, nil, err
	}
	p, warnings, err := exportOf(sp, declared, live, m.paths)
	if err != nil {
		return export.Project{}, nil, err
	}
	for i := range p.Services {
		for _, s := range sp.Services {
			if s.Name == p.Services[i].Name {
				p.Services[i].Image = m.exportImage(ctx, s)
			}
		}
	}
	return p, warnings, nil
}

// exportImage is the image devport's container runtime would run s in
// (containerImage), or "" when that is the stack's default, so that
// export's own default applies (the same, except uWSGI's, which needs a
// compiler).
func (m *Manager) exportImage(ctx context.Context, s store.Service) string {
	if img := m.containerImage(ctx, s); img != stackdef.DefaultImage(s.Stack) {
		return img
	}
	return ""
}

// exportOf converts a stored project, its declared routes and its live
// upstreams (service → stacks.Upstream.String()) into export's structs.
func exportOf(sp store.Project, declared []store.Route, live map[string]string, paths Paths) (export.Project, []string, error) {
	var warnings []string
	p := export.Project{Name: sp.Name, Root: sp.Root, Domains: sp.Domains}
	links := chainLinks(sp, declared) // the chain: php services forwarding prefixes
	for _, s := range sp.Services {
		prefix := cleanPrefix(s.PathPrefix)
		if s.Stack == stackdef.Static { // nginx serves the folder itself, as devport's proxy does
			p.Routes = append(p.Routes, export.Route{Prefix: prefix, Kind: store.RouteStatic,
				Target: staticFolder(sp, s), CacheControl: staticCacheControl})
			continue
		}
		es := export.Service{Name: s.Name, Stack: s.Stack, App: s.App, DocRoot: s.DocRoot, Prefix: prefix,
			Strip: stackdef.StripsPrefix(s.Stack) && prefix != "/", URL: s.URL, Workers: s.Workers}
		es.Public = publicFolder(sp, s) // app/static.go: try_files, as the proxy does
		for _, l := range links[s.Name] {
			es.Links = append(es.Links, export.Link{Prefix: cleanPrefix(l.prefix), Service: l.target})
		}
		if sp.Root != "" {
			if _, err := os.Stat(filepath.Join(sp.Root, "requirements.txt")); err == nil {
				es.Requirements = "requirements.txt"
			}
		}
		if s.Stack == stackdef.PHP && s.DocRoot == "" && sp.Root != "" {
			if fi, err := os.Stat(filepath.Join(sp.Root, "public")); err == nil && fi.IsDir() {
				es.DocRoot = filepath.Join(sp.Root, "public")
			}
		}
		switch up, ok := live[s.Name]; {
		case s.Stack == stackdef.Proxy:
		case ok:
			es.Network, es.Address, es.Protocol = parseUpstream(up)
		case s.Stack == stackdef.PHP || s.Runtime == RuntimeContainer:
			es.Network, es.Address = "tcp", "127.0.0.1:8080"
			warnings = append(warnings, fmt.Sprintf("service %s of %s listens on a port chosen at start, and the project is not running: "+
				"its upstream is 127.0.0.1:8080; run devport start %s and export again, or edit the upstream", s.Name, sp.Name, sp.Name))
		default:
			es.Network, es.Address = "unix", filepath.Join(paths.ServiceRun(sp.Name, s.Name), s.Name+".sock")
			if s.Stack == stackdef.UWSGI {
				es.Protocol = export.ProtocolUWSGI
			}
		}
		p.Services = append(p.Services, es)
	}
	for _, d := range declared {
		p.Routes = append(p.Routes, export.Route{Prefix: d.PathPrefix, Kind: d.Kind, Target: d.Target, Strip: d.StripPrefix,
			CacheControl: d.CacheControl, ConnectTimeout: d.ConnectTimeout, ReadTimeout: d.ReadTimeout,
			WriteTimeout: d.WriteTimeout, MaxBody: d.MaxBody})
	}
	return p, warnings, nil
}

// parseUpstream reverses stacks.Upstream.String: http://ADDR, unix:PATH,
// uwsgi://ADDR and uwsgi:unix:PATH.
func parseUpstream(s string) (network, address, protocol string) {
	if rest, ok := strings.CutPrefix(s, "uwsgi:unix:"); ok {
		return "unix", rest, export.ProtocolUWSGI
	}
	if rest, ok := strings.CutPrefix(s, "uwsgi://"); ok {
		return "tcp", rest, export.ProtocolUWSGI
	}
	if rest, ok := strings.CutPrefix(s, "unix:"); ok {
		return "unix", rest, export.ProtocolHTTP
	}
	return "tcp", strings.TrimPrefix(s, "http://"), export.ProtocolHTTP
}
