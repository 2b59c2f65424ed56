package engine

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/certs"
	"github.com/devport/devport/export"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// This file maps a stored project onto package export's description
// (`devport export`): the upstreams the running engine uses, or those
// devport would start the services on, the images of the container
// runtime, and a certificate from devport's CA for the compose layout.

// ExportOptions are the choices of `devport export` (package export's).
type ExportOptions = export.Options

// DefaultNginxImage is the nginx image of the compose layout.
const DefaultNginxImage = export.DefaultNginxImage

// ExportNginx is project name as an nginx server block, with warnings
// for the user. live maps each running service to its upstream
// (wire.ServiceStatus.Upstream of a running engine); services not in it
// get the addresses devport would start them on.
func (m *Manager) ExportNginx(ctx context.Context, name string, live map[string]string, o ExportOptions) ([]byte, []string, error) {
	p, warnings, err := m.exportProject(ctx, name, live)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	if err := export.Nginx(&b, p, o); err != nil {
		return nil, nil, err
	}
	return b.Bytes(), warnings, nil
}

// ExportCompose writes project name's compose layout: composeFile (an
// absolute docker-compose.yml), the files it mounts next to it, and, unless
// o names a key and certificate, the project's certificate in certs/. It
// returns one line per thing it did, for the user.
func (m *Manager) ExportCompose(ctx context.Context, name string, live map[string]string, o ExportOptions, composeFile string) ([]string, error) {
	p, _, err := m.exportProject(ctx, name, live) // compose reaches the services by name: no host ports involved
	if err != nil {
		return nil, err
	}
	o.ComposeFile = composeFile
	files, err := export.ComposeLayout(p, o)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(composeFile)
	var done []string
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return done, fmt.Errorf("write the compose layout of %s: %w (choose another -o folder)", p.Name, err)
		}
		done = append(done, "wrote "+path)
	}
	done = append(done, phpExtensionNotes(p)...)
	if o.Cert != "" || o.Key != "" {
		return append(done, fmt.Sprintf("wrote no certificate: nginx reads --cert %q and --key %q in its container, where %s is mounted at /etc/nginx/certs",
			o.Cert, o.Key, filepath.Join(dir, export.ComposeCertDir))), nil
	}
	msg, err := writeComposeCerts(m.ca, filepath.Join(dir, export.ComposeCertDir), p.Domains)
	if err != nil {
		return done, err
	}
	return append(done, msg), nil
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
				p.Services[i].Image = m.exportImage(ctx, sp.Root, s)
			}
		}
	}
	for i, d := range sp.Data {
		p.Data[i].Image = m.exportDataImage(ctx, d)
	}
	return p, warnings, nil
}

// exportDataImage is the image of data service d in the compose layout,
// as devport's container runtime picks it (dataSpec): the service's image,
// else the container.image.STACK setting when no version is asked for;
// "" leaves the choice to export (the official image by version, or the
// stack's default).
func (m *Manager) exportDataImage(ctx context.Context, d store.DataService) string {
	if d.Image != "" || d.Version != "" {
		return d.Image
	}
	if v, ok, err := m.db.Setting(ctx, SettingImagePrefix+d.Stack); err == nil && ok && v != stackdef.DefaultImage(d.Stack) {
		return v
	}
	return ""
}

// exportData is the data services of sp for the compose layout, and the
// variables through which its web services reach them there: those of
// dataEnv for a container on the project's network (DB_HOST=db,
// DB_PORT=3306), whatever runtime each data service has under devport.
func exportData(sp store.Project) ([]export.DataService, []string) {
	var out []export.DataService
	inContainers := sp
	inContainers.Data = slices.Clone(sp.Data)
	for i, d := range sp.Data {
		inContainers.Data[i].Runtime = wire.RuntimeContainer
		ed := export.DataService{Name: d.Name, Stack: d.Stack, Image: d.Image, Version: d.Version}
		if stackdef.IsDatabase(d.Stack) {
			ed.Database, ed.User, ed.Password = d.DBName, d.DBName, d.Password // as dataSpec gives them
		}
		out = append(out, ed)
	}
	return out, dataEnv(inContainers, wire.RuntimeContainer)
}

// phpExtensionNotes tell the user what a php service in the default image
// lacks to reach the project's databases: php:*-apache images have
// mysqlnd, but neither mysqli nor the PDO drivers of MariaDB and
// PostgreSQL (https://hub.docker.com/_/php, "How to install more PHP
// extensions"). devport's own php has them from the host's packages.
func phpExtensionNotes(p export.Project) []string {
	var build []string
	for _, stack := range []string{stackdef.MariaDB, stackdef.Postgres} {
		if !slices.ContainsFunc(p.Data, func(d export.DataService) bool { return d.Stack == stack }) {
			continue
		}
		if stack == stackdef.MariaDB {
			build = append(build, "RUN docker-php-ext-install mysqli pdo_mysql")
		} else {
			build = append(build, "RUN apt-get update && apt-get install -y libpq-dev && docker-php-ext-install pgsql pdo_pgsql")
		}
	}
	if len(build) == 0 {
		return nil
	}
	var out []string
	for _, s := range p.Services {
		if s.Stack == stackdef.PHP && s.Image == "" {
			out = append(out, fmt.Sprintf("note: service %s runs %s, which has no mysqli or PDO driver for the project's database: "+
				"build an image FROM %s with %s, then devport config set %s%s IMAGE and export again",
				s.Name, stackdef.DefaultPHPImage, stackdef.DefaultPHPImage, strings.Join(build, " and "), SettingImagePrefix, stackdef.PHP))
		}
	}
	return out
}

// hasMailpit reports whether p has a Mailpit, to which PHP's mail() goes.
func hasMailpit(p store.Project) bool {
	return slices.ContainsFunc(p.Data, func(d store.DataService) bool { return d.Stack == stackdef.Mailpit })
}

// exportImage is the image devport's container runtime would run s in
// (containerImage), or "" when that is the stack's default, so that
// export's own default applies (the same, except uWSGI's, which needs a
// compiler).
func (m *Manager) exportImage(ctx context.Context, root string, s store.Service) string {
	if s.Stack == stackdef.PHP && s.Image == "" {
		// As a container would choose: the version set, else
		// composer.json's require.php (php.go's choosePHP).
		cs := s
		cs.Runtime = wire.RuntimeContainer
		if c, err := m.choosePHP(ctx, root, cs, nil); err == nil && c.image != "" && c.image != stackdef.DefaultImage(s.Stack) {
			return c.image
		}
	}
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
	data, env := exportData(sp)
	p.Data = data
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
		es.Env = env
		if s.Stack == stackdef.PHP {
			es.PHPIni = stacks.ExportPHPIni(sp.PHPIni) // the project's [php.ini], as the runtimes write it
		}
		if s.Stack == stackdef.PHP && hasMailpit(sp) {
			es.Sendmail = stacks.PHPSendmail // mail() reaches Mailpit at MAIL_HOST:MAIL_PORT
		}
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
		case s.Stack == stackdef.PHP || s.Runtime == wire.RuntimeContainer:
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
