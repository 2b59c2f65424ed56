package stacks

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/devport/devport/assets"
	"github.com/docker/docker/api/types/mount"
)

// siteTemplate is parsed once; it is never modified afterwards.
var siteTemplate = template.Must(template.New("apache-site.conf").
	Funcs(template.FuncMap{"q": confQuote}).
	Parse(assets.ApacheSiteConf))

// siteConfig is the data of assets.ApacheSiteConf, the site of a php
// container.
type siteConfig struct {
	ServerName string
	DocRoot    string // in the container
	KeepAlive  int    // KeepAliveTimeout, seconds (BackendKeepAlive)
	// ProxyFrom is where devport's proxy connects from (the project
	// network's gateways), space-separated: the one hop whose forwarding
	// headers are trusted. "" trusts none.
	ProxyFrom string
	Links     []apacheLink
}

// planPHP mounts the project folder at /var/www/html and replaces the
// image's default site with one that matches the process runtime: the
// document root (public/ when present), .htaccess with mod_rewrite, HTTPS=on
// for X-Forwarded-Proto: https and the client address from X-Forwarded-For.
func planPHP(s Spec, image string, proxyFrom []string) (containerPlan, error) {
	root := s.DocRoot
	if root == "" {
		root = s.Dir
		if pub := filepath.Join(s.Dir, "public"); isDir(pub) {
			root = pub
		}
	}
	if !isDir(root) {
		return containerPlan{}, fmt.Errorf("document root %q does not exist: create it or choose another one", root)
	}
	// Apache's workers in the image run as www-data, which sees the
	// folders with their host modes: they must be open to others.
	for _, d := range []string{s.Dir, root} {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
			return containerPlan{}, fmt.Errorf("folder %q (mode %s) is %w www-data, which serves it in the container: chmod o+rx %q",
				d, fi.Mode().Perm(), ErrNotReadable, d)
		}
	}
	p := containerPlan{image: image, port: phpPort,
		mounts: []mount.Mount{{Type: mount.TypeBind, Source: filepath.Clean(s.Dir), Target: phpAppDir}}}
	inRoot := phpAppDir
	rel, err := filepath.Rel(filepath.Clean(s.Dir), filepath.Clean(root))
	switch {
	case err == nil && rel == ".":
	case err == nil && !strings.HasPrefix(rel, ".."):
		inRoot = phpAppDir + "/" + filepath.ToSlash(rel)
	default: // a document root outside the project folder gets a mount of its own
		inRoot = "/var/www/docroot"
		p.mounts = append(p.mounts, mount.Mount{Type: mount.TypeBind, Source: filepath.Clean(root), Target: inRoot})
	}
	if !confSafe(inRoot) {
		return containerPlan{}, fmt.Errorf("document root %q holds a character apache's config cannot carry (\", \\, a newline or ${): rename it", root)
	}
	cfg := siteConfig{ServerName: serverName(s), DocRoot: inRoot, KeepAlive: int(BackendKeepAlive / time.Second),
		ProxyFrom: strings.Join(proxyFrom, " ")}
	if !confSafe(cfg.ProxyFrom) {
		return containerPlan{}, fmt.Errorf("gateway %q of the project network cannot be written into apache's config", cfg.ProxyFrom)
	}
	if cfg.Links, err = phpSiteLinks(s); err != nil {
		return containerPlan{}, err
	}
	var site bytes.Buffer
	if err := siteTemplate.Execute(&site, cfg); err != nil {
		return containerPlan{}, fmt.Errorf("render apache site: %w", err)
	}
	p.files = map[string][]byte{containerVhost: site.Bytes()}
	p.mounts = append(p.mounts, mount.Mount{Type: mount.TypeBind, Source: filepath.Join(s.RunDir, containerVhost),
		Target: phpVhostPath, ReadOnly: true})
	return p, nil
}

// phpSiteLinks forwards a php container's links to the containers of the
// same project on the project's network (the chain proxy → Apache →
// uvicorn), as the process runtime's httpd.conf does to sockets.
func phpSiteLinks(s Spec) ([]apacheLink, error) {
	var out []apacheLink
	for _, l := range s.Links {
		if l.Container == "" {
			return nil, fmt.Errorf("service %s runs in a container, and Apache there can only forward %s to a service in a container too: run that service with --runtime container, or this one as a process",
				s.label(), l.Prefix)
		}
		out = append(out, l.render(true))
	}
	return out, nil
}
