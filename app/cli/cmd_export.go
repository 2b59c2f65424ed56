package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/devport/devport/app/engine"
)

// exportCmd writes a project's production layout: devport export NAME
// --format nginx|compose [-o FILE|-].
func (c *CLI) exportCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	format := fs.String("format", "", "nginx (a server block for conf.d) or compose (docker-compose.yml, nginx.conf, Apache sites and certs/)")
	out := fs.String("o", "", "write to this file instead of standard output, - for standard output (compose: a file, required; the other files go next to it)")
	var o engine.ExportOptions
	fs.StringVar(&o.HTTPSListen, "https-listen", "", `nginx's https listen value (default "443" and "[::]:443")`)
	fs.StringVar(&o.HTTPListen, "http-listen", "", `nginx's http listen value (default "80" and "[::]:80")`)
	fs.StringVar(&o.Cert, "cert", "", "certificate path in nginx (default /etc/nginx/certs/DOMAIN.pem)")
	fs.StringVar(&o.Key, "key", "", "key path in nginx (default /etc/nginx/certs/DOMAIN-key.pem)")
	fs.StringVar(&o.HTTPSPublish, "publish-https", "", "compose: host address nginx's 443 is published on, HOST:PORT or PORT (default 127.0.0.1:443)")
	fs.StringVar(&o.HTTPPublish, "publish-http", "", "compose: host address nginx's 80 is published on, HOST:PORT or PORT (default 127.0.0.1:80)")
	fs.StringVar(&o.NginxImage, "nginx-image", "", "compose: the nginx container's image (default "+engine.DefaultNginxImage+")")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("export", pos)
	if err != nil {
		return err
	}
	switch {
	case *format != "nginx" && *format != "compose":
		return fmt.Errorf("%w: devport export %s: --format is %q; use --format nginx or --format compose", ErrUsage, name, *format)
	case *format == "compose" && (*out == "" || *out == "-"):
		return fmt.Errorf("%w: devport export %s --format compose writes several files: give -o DIR/docker-compose.yml (nginx.conf and the rest go next to it)", ErrUsage, name)
	case *format == "nginx" && (o.HTTPSPublish != "" || o.HTTPPublish != "" || o.NginxImage != ""):
		return fmt.Errorf("%w: devport export %s: --publish-https, --publish-http and --nginx-image belong to --format compose", ErrUsage, name)
	}
	live, err := c.liveUpstreams(ctx, name)
	if err != nil {
		return err
	}
	m, err := c.manager(ctx) // reads only: safe beside a running engine
	if err != nil {
		return err
	}
	defer m.Close()
	if *format == "compose" {
		abs, err := filepath.Abs(*out)
		if err != nil {
			return fmt.Errorf("-o %s: %w", *out, err)
		}
		done, err := m.ExportCompose(ctx, name, live, o, abs)
		for _, line := range done {
			fmt.Fprintln(c.Stdout, line)
		}
		return err
	}
	conf, warnings, err := m.ExportNginx(ctx, name, live, o)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(c.Stderr, "warning:", w)
	}
	if *out == "" || *out == "-" {
		_, err = c.Stdout.Write(conf)
		return err
	}
	if err := os.WriteFile(*out, conf, 0o644); err != nil {
		return fmt.Errorf("write the export of %s: %w", name, err)
	}
	fmt.Fprintf(c.Stdout, "wrote %s\n", *out)
	return nil
}

// liveUpstreams maps each running service of project name to the upstream
// the running engine uses; empty when no engine runs.
func (c *CLI) liveUpstreams(ctx context.Context, name string) (map[string]string, error) {
	live := map[string]string{}
	cl, err := c.engine(ctx)
	if err != nil || cl == nil {
		return live, err
	}
	sts, err := cl.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range sts {
		if st.Name != name {
			continue
		}
		for _, s := range st.Services {
			if s.Upstream != "" {
				live[s.Name] = s.Upstream
			}
		}
	}
	return live, nil
}
