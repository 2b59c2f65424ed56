package app

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/devport/devport/export"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// exportCmd writes a project's production layout: devport export NAME
// --format nginx|compose [-o FILE].
func (c *CLI) exportCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	format := fs.String("format", "", "nginx (a server block for conf.d) or compose (docker-compose.yml and nginx.conf)")
	out := fs.String("o", "", "write to this file instead of standard output (compose: required; nginx.conf goes next to it)")
	httpsListen := fs.String("https-listen", "", `nginx's https listen value (default "443" and "[::]:443")`)
	httpListen := fs.String("http-listen", "", `nginx's http listen value (default "80" and "[::]:80")`)
	cert := fs.String("cert", "", "certificate path in nginx (default /etc/nginx/certs/DOMAIN.pem)")
	key := fs.String("key", "", "key path in nginx (default /etc/nginx/certs/DOMAIN-key.pem)")
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
		return fmt.Errorf("%w: devport export %s --format compose writes two files: give -o DIR/docker-compose.yml (nginx.conf goes next to it)", ErrUsage, name)
	}
	p, warnings, err := c.exportProject(ctx, name)
	if err != nil {
		return err
	}
	if *format == "nginx" { // compose reaches the services by name: no host ports involved
		for _, w := range warnings {
			fmt.Fprintln(c.Stderr, "warning:", w)
		}
	}
	o := export.Options{HTTPSListen: *httpsListen, HTTPListen: *httpListen, Cert: *cert, Key: *key}
	var main, conf bytes.Buffer
	if *format == "nginx" {
		err = export.Nginx(&main, p, o)
	} else {
		err = export.Compose(&main, p, o)
		if err == nil {
			err = export.ComposeNginx(&conf, p, o)
		}
	}
	if err != nil {
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
	if *format == "compose" {
		path := filepath.Join(filepath.Dir(*out), export.ComposeNginxFile)
		if err := os.WriteFile(path, conf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write the nginx config of %s: %w", name, err)
		}
		fmt.Fprintf(c.Stdout, "wrote %s\n", path)
	}
	return nil
}

// exportProject reads project name from the store and turns it into
// export's description: the upstreams the running engine uses, or, when
// the project is not running, the sockets devport would start it on.
func (c *CLI) exportProject(ctx context.Context, name string) (export.Project, []string, error) {
	live := map[string]string{} // service → upstream, while running
	cl, err := c.engine(ctx)
	if err != nil {
		return export.Project{}, nil, err
	}
	if cl != nil {
		sts, err := cl.List(ctx)
		if err != nil {
			return export.Project{}, nil, err
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
		return export.Project{}, nil, err
	}
	defer m.Close()
	sp, err := m.db.Project(ctx, name)
	if err != nil {
		return export.Project{}, nil, err
	}
	declared, err := m.db.Routes(ctx, name)
	if err != nil {
		return export.Project{}, nil, err
	}
	return exportOf(sp, declared, live, m.paths)
}

// exportOf converts a stored project, its declared routes and its live
// upstreams (service → stacks.Upstream.String()) into export's structs.
func exportOf(sp store.Project, declared []store.Route, live map[string]string, paths Paths) (export.Project, []string, error) {
	var warnings []string
	p := export.Project{Name: sp.Name, Root: sp.Root, Domains: sp.Domains}
	for _, s := range sp.Services {
		prefix := cleanPrefix(s.PathPrefix)
		if s.Stack == stacks.StackStatic { // nginx serves the folder itself, as devport's proxy does
			p.Routes = append(p.Routes, export.Route{Prefix: prefix, Kind: store.RouteStatic,
				Target: staticFolder(sp, s), CacheControl: staticCacheControl})
			continue
		}
		es := export.Service{Name: s.Name, Stack: s.Stack, App: s.App, DocRoot: s.DocRoot, Prefix: prefix,
			Strip: stacks.ProxyStripsPrefix(s.Stack) && prefix != "/", URL: s.URL, Workers: s.Workers}
		if sp.Root != "" {
			if _, err := os.Stat(filepath.Join(sp.Root, "requirements.txt")); err == nil {
				es.Requirements = "requirements.txt"
			}
		}
		if s.Stack == stacks.StackPHP && s.DocRoot == "" && sp.Root != "" {
			if fi, err := os.Stat(filepath.Join(sp.Root, "public")); err == nil && fi.IsDir() {
				es.DocRoot = filepath.Join(sp.Root, "public")
			}
		}
		switch up, ok := live[s.Name]; {
		case s.Stack == "proxy":
		case ok:
			es.Network, es.Address, es.Protocol = parseUpstream(up)
		case s.Stack == stacks.StackPHP || s.Runtime == RuntimeContainer:
			es.Network, es.Address = "tcp", "127.0.0.1:8080"
			warnings = append(warnings, fmt.Sprintf("service %s of %s listens on a port chosen at start, and the project is not running: "+
				"its upstream is 127.0.0.1:8080; run devport start %s and export again, or edit the upstream", s.Name, sp.Name, sp.Name))
		default:
			es.Network, es.Address = "unix", filepath.Join(paths.ServiceRun(sp.Name, s.Name), s.Name+".sock")
			if s.Stack == stacks.StackUWSGI {
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
